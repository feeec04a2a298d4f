"""``lab release``: from the source notebook to what learners get and what the instructor keeps.

``OUT/learner/NN-slug.ipynb`` is handed out (solutions, hidden checks and rubrics removed, ids kept);
``OUT/key/NN-slug/`` stays with the instructor (see :mod:`lab_helpers.grading.key`).

A rubric is a markdown cell tagged ``rubric`` whose ``metadata.visualizing_compute.rubric_for``
names the hand-graded (``manual=True``) check it grades; it goes to the key's ``rubric.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .key import (
    CaptureSpec,
    CheckPoints,
    HiddenPoints,
    LabKey,
    check_calls,
    lab_version,
    pinned_context,
)

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

HIDDEN_TAG = "hidden-check"
RUBRIC_HINT = (
    'A rubric is a markdown cell tagged "rubric" with metadata {"visualizing_compute": {"rubric_for": "NN.name"}}, '
    "naming a check its lab registers with manual=True (see CONTRIBUTING.md)."
)


@dataclass(frozen=True)
class Release:
    lab: str
    learner_path: Path
    key_dir: Path
    version: str
    checks: int
    hidden: int

    def line(self) -> str:
        return (
            f"{self.lab}  version {self.version}  {self.checks} checks, {self.hidden} hidden  "
            f"learner: {self.learner_path}  key: {self.key_dir}"
        )


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def rubric_cells(source_nb, lab: str, specs: dict) -> dict[str, str]:
    """{check name: its rubric's markdown} from the ``rubric`` cells of a source notebook.

    ``specs`` are the lab's registered checks by name. A rubric that is not markdown, names no check,
    or names a check that is not registered or not graded by hand is refused; two rubric cells for
    one check are joined in notebook order.
    """
    from ..notebooks.authoring import RUBRIC_TAG

    found: dict[str, list[str]] = {}
    for cell in source_nb.cells:
        if RUBRIC_TAG not in _tags(cell):
            continue
        where = f"lab {lab}: the rubric cell {cell.get('id', '?')}"
        if cell.cell_type != "markdown":
            raise UsageError(f"{where} is a {cell.cell_type} cell; a rubric is read by a person.", hint=RUBRIC_HINT)
        name = (cell.get("metadata", {}).get("visualizing_compute") or {}).get("rubric_for")
        if not name or not isinstance(name, str):
            raise UsageError(f"{where} does not say which check it grades.", hint=RUBRIC_HINT)
        if name not in specs:
            manual = ", ".join(n for n, s in specs.items() if s.manual) or "none"
            raise UsageError(
                f"{where} is for {name!r}, which lab {lab} does not register (its hand-graded checks: {manual}).",
                hint=RUBRIC_HINT,
            )
        if not specs[name].manual:
            raise UsageError(
                f"{where} is for {name!r}, which is graded automatically, not by hand; a rubric is for manual=True checks.",
                hint=f"Point rubric_for at a manual check, or drop the cell. {RUBRIC_HINT}",
            )
        found.setdefault(name, []).append(cell.source.strip())
    return {name: "\n\n".join(parts) for name, parts in found.items()}


def build_key(source_nb, lab: str, slug: str) -> tuple[LabKey, NotebookNode, str]:
    """(key, learner notebook, hidden source) for one source notebook."""
    from ..checks.registry import specs_for_lab
    from ..notebooks.authoring import BEGIN, learner_version
    from .hidden import load_hidden

    learner = learner_version(source_nb)
    missing_ids = [i for i, c in enumerate(source_nb.cells) if "id" not in c]
    if missing_ids:
        raise UsageError(
            f"lab {lab}: cells {missing_ids} have no id, so a grader cannot match them.",
            hint="Save the notebook as nbformat 4.5 (nbformat.validator.normalize adds ids).",
        )
    hidden_cells = [c for c in source_nb.cells if HIDDEN_TAG in _tags(c)]
    hidden_source = "\n\n".join(c.source for c in hidden_cells)
    learner_cells = {c.id: c for c in learner.cells}
    learner_ids = set(learner_cells)
    captures: list[CaptureSpec] = []
    answer_cells: list[str] = []
    for cell in source_nb.cells:
        if cell.cell_type != "code" or cell.id not in learner_ids:
            continue
        calls = check_calls(cell.source)
        if calls or any(line.strip() == BEGIN for line in cell.source.splitlines()):
            answer_cells.append(cell.id)
        released = learner_cells[cell.id].source
        captures.extend(
            CaptureSpec(cell.id, name, answer, context, pinned_context(released, context))
            for name, answer, context in calls
        )
    specs = {s.name: s for s in specs_for_lab(lab)}
    unknown = sorted({c.check for c in captures} - set(specs))
    if unknown:
        raise UsageError(
            f"lab {lab} calls checks that are not registered: {', '.join(unknown)}.",
            hint=f"Register them in lab_helpers/checks/lab{lab}.py.",
        )
    uncaptured = sorted(set(specs) - {c.check for c in captures})
    if uncaptured:
        warnings.warn(f"lab {lab}: checks never called in the notebook score 0: {', '.join(uncaptured)}", stacklevel=2)
    rubrics = rubric_cells(source_nb, lab, specs)
    no_rubric = [name for name, s in specs.items() if s.manual and name not in rubrics]
    if no_rubric:
        warnings.warn(
            f"lab {lab}: checks graded by hand have no rubric: {', '.join(no_rubric)}; "
            "add a markdown cell tagged rubric so every grader gives points the same way",
            stacklevel=2,
        )
    hidden_checks = load_hidden(hidden_source)
    for h in hidden_checks:
        if h.check not in specs:
            raise UsageError(
                f"hidden check for {h.check!r}, which lab {lab} does not register.",
                hint="Name a check registered in lab_helpers/checks/labNN.py.",
            )
        if not specs[h.check].hidden:
            # the learner's instant check would say "passed" while this part is still to be judged
            warnings.warn(
                f"{h.check} has a hidden check, but its register() declares no hidden part; add "
                f"hidden={h.description!r} so the learner's check lists it as pending",
                stacklevel=2,
            )
    key = LabKey(
        lab=lab,
        slug=slug,
        version=lab_version(learner),
        checks=[CheckPoints(s.name, s.points, s.manual, s.hidden) for s in specs.values()],
        hidden=[HiddenPoints(h.column, h.check, h.points, h.description) for h in hidden_checks],
        captures=captures,
        answer_cells=answer_cells,
        rubric_sources=rubrics,
    )
    return key, learner, hidden_source


def release(labs: list[str] | None, out: Path | str) -> list[Release]:
    """Write the learner versions and the keys of ``labs`` (all labs when empty) under ``out``."""
    import nbformat

    from ..catalog import all_labs, find_lab

    out = Path(out)
    chosen = [find_lab(k) for k in labs] if labs else all_labs()
    if not chosen:
        raise UsageError("no labs to release.", hint="Labs are the notebooks labs/NN-slug.ipynb.")
    (out / "learner").mkdir(parents=True, exist_ok=True)
    (out / "key").mkdir(parents=True, exist_ok=True)
    (out / "key").chmod(0o700)
    done = []
    for lab in chosen:
        source = nbformat.read(lab.path, as_version=4)
        key, learner, hidden_source = build_key(source, lab.number, lab.slug)
        learner.metadata.setdefault("visualizing_compute", {})["version"] = key.version
        learner_path = out / "learner" / f"{lab.name}.ipynb"
        nbformat.write(learner, learner_path)
        key_dir = key.save(out / "key" / lab.name, learner, hidden_source)
        done.append(Release(lab.number, learner_path, key_dir, key.version, len(key.checks), len(key.hidden)))
    return done
