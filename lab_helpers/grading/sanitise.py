"""Turn a submission into the notebook the grader executes, matching cells to the key by id.

What the learner wrote in answer cells is kept; everything else comes from the key. Each repair
is noted for the log and the feedback:

- outputs and execution counts cleared; the instructor's kernel forced;
- given cells (setup, teaching, cleanup) restored when changed or deleted;
- a deleted answer cell comes back as the released exercise (scores "not done");
- duplicated cells (the same id twice, nbgrader#1941/#1682) keep the last copy;
- reordered cells are put back in the key's order (nbgrader#1083);
- cells the learner added are kept, after the cell they followed;
- the grader's parameters are injected after the ``parameters`` cell.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .key import LabKey

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

# check("NN.name" ...) or lab_helpers.check("NN.name" ...), not some_object.check(...)
_CHECK_NAME = re.compile(r"""(?:(?<![\w.])lab_helpers\.|(?<![\w.]))check\(\s*["']([0-9]{2}\.[A-Za-z0-9_.-]+)["']""")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@dataclass
class Sanitised:
    nb: NotebookNode | None
    notes: list[str] = field(default_factory=list)
    extra_cells: int = 0


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _match_ids(key: LabKey, cells: list) -> list[str | None]:
    """The key cell id each submitted cell stands for (None: a cell the learner added)."""
    released = key.learner_notebook().cells
    known = {c.id: c.cell_type for c in released}
    by_source = {(c.cell_type, c.source): c.id for c in reversed(released)}
    by_check = {cap.check: cap.cell_id for cap in key.captures}
    ids: list[str | None] = []
    for cell in cells:
        cid = cell.get("id")
        if cid in known and known[cid] == cell.cell_type:
            ids.append(cid)
            continue
        if cid in known:  # the id of a released cell on a cell of another type: the learner's own
            ids.append(None)
            continue
        # notebooks saved without ids (nbformat < 4.5): known by their unchanged text or their check call
        source = cell.get("source", "")
        names = _CHECK_NAME.findall(source) if cell.cell_type == "code" else []
        ids.append(by_source.get((cell.cell_type, source)) or (by_check.get(names[0]) if names else None))
    return ids


def sanitise(submission_nb, key: LabKey, parameters: dict | None = None) -> Sanitised:
    """The executable notebook for ``submission_nb`` (never modified)."""
    import nbformat
    from nbformat.v4 import new_code_cell

    from ..notebooks.hygiene import clean

    skeleton = key.learner_notebook()
    submitted = copy.deepcopy(list(submission_nb.cells))
    ids = _match_ids(key, submitted)
    result = Sanitised(nb=None)
    answer_ids = set(key.answer_cells)

    latest: dict[str, NotebookNode] = {}
    counts: dict[str, int] = {}
    extras_after: dict[str | None, list] = {}
    anchor: str | None = None
    seen_order: list[str] = []
    for cell, cid in zip(submitted, ids, strict=False):
        if cid is None:
            extras_after.setdefault(anchor, []).append(cell)
            continue
        counts[cid] = counts.get(cid, 0) + 1
        latest[cid] = cell
        if cid not in seen_order:
            seen_order.append(cid)
        anchor = cid

    key_order = [c.id for c in skeleton.cells if c.id in latest]
    if seen_order != key_order:
        result.notes.append("cells were reordered; they ran in the released order")
    for cid, n in counts.items():
        if n > 1:
            result.notes.append(f"cell {cid} appears {n} times; the last copy was graded")

    cells: list[NotebookNode] = []
    cells.extend(_as_extra(c) for c in extras_after.get(None, []))
    for given in skeleton.cells:
        mine = latest.get(given.id)
        if given.id in answer_ids:
            if mine is None:
                result.notes.append(f"answer cell {given.id} was deleted; the released exercise was restored")
                cells.append(given)
            else:
                kept = copy.deepcopy(given)
                kept.source = mine.get("source", "")
                cells.append(kept)
        else:
            if given.cell_type == "code":
                if mine is None:
                    result.notes.append(f"cell {given.id} was deleted; restored from the release")
                elif mine.get("source", "") != given.source:
                    result.notes.append(f"cell {given.id} was changed; restored from the release")
            cells.append(given)
        if "parameters" in _tags(given) and parameters:
            injected = new_code_cell(
                "\n".join(f"{k} = {v!r}" for k, v in parameters.items()), metadata={"tags": ["injected-parameters"]}
            )
            injected.id = "grader-parameters"
            cells.append(injected)
        cells.extend(_as_extra(c) for c in extras_after.get(given.id, []))
    result.extra_cells = sum(len(v) for v in extras_after.values())
    if result.extra_cells:
        result.notes.append(f"{result.extra_cells} cell(s) added by the learner ran where they were placed")

    nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(skeleton.metadata))
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.cells = cells
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):  # ids unique again after duplicates and extras
        if cell.get("id") in used or not cell.get("id"):
            cell.id = f"learner-{index}"
        used.add(cell.id)
    result.nb = clean(nb)
    return result


def _as_extra(cell):
    extra = copy.deepcopy(cell)
    extra.setdefault("metadata", {})["tags"] = [
        t for t in _tags(extra) if t not in ("parameters", "injected-parameters")
    ]
    extra.pop("attachments", None) if extra.cell_type == "code" else None
    return extra
