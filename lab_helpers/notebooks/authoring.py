"""From the committed source notebook (solution included) to the learner's version.

Marker format (documented in CONTRIBUTING.md):

    # BEGIN SOLUTION
    # STUB: flavor = "m3.?"        <- optional: what the learner sees instead
    flavor = "m3.small"
    # END SOLUTION

Without a ``# STUB:`` line, each name assigned at the top level of the region becomes
``name = None  # your answer here``, so the learner's notebook runs without crashing and its
check says "not done". Cells tagged ``solution`` are dropped. Cells tagged ``hidden-check`` (code
the grader runs) or ``rubric`` (a markdown cell with what earns each point of a hand-graded check,
named in ``metadata.visualizing_compute.rubric_for``) belong to the grader's key and are dropped
too (:data:`KEY_TAGS`; the course website leaves them out as well). Cell ids are kept, so a grader
can match cells.
"""

from __future__ import annotations

import ast
import copy
import re

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = "# STUB: "
HIDDEN_TAG = "hidden-check"
RUBRIC_TAG = "rubric"
KEY_TAGS = frozenset({HIDDEN_TAG, RUBRIC_TAG})  # the instructor's: never in a learner's notebook or on the site
DROP_TAGS = frozenset({"solution"}) | KEY_TAGS

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]*)?=(?!=)")


class MarkerError(ValueError):
    """A solution region is malformed (an unmatched BEGIN or END)."""


def _stub_for(region: list[str], indent: str) -> list[str]:
    stubs = [line.strip()[len(STUB) :] for line in region if line.strip().startswith(STUB)]
    if stubs:
        return [indent + s for s in stubs]
    names: list[str] = []
    try:
        tree = ast.parse(
            "\n".join(line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in region)
        )
        for node in tree.body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, (ast.AnnAssign, ast.AugAssign))
                else []
            )
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.append(n.id)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name not in names:
                names.append(node.name)
    except SyntaxError:
        names = [m.group(1) for line in region if (m := _ASSIGN.match(line.strip()))]
    if not names:
        return [indent + "pass  # your code here"]
    return [f"{indent}{name} = None  # your answer here" for name in names]


def strip_solution(source: str) -> str:
    """The cell's source with every solution region replaced by its stub."""
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise MarkerError(f"line {number}: {BEGIN} inside another solution region; close the first with {END}.")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if region is None:
                raise MarkerError(f"line {number}: {END} without a {BEGIN} above it.")
            out.extend(_stub_for(region, indent))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise MarkerError(f"a {BEGIN} is never closed; add {END} after the solution.")
    return "\n".join(out)


def has_solution(nb) -> bool:
    for cell in nb.cells:
        if DROP_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            return True
        if cell.cell_type == "code" and any(line.strip() in (BEGIN, END) for line in cell.source.splitlines()):
            return True
    return False


def learner_version(nb):
    """A copy of ``nb`` for learners: no solutions, hidden checks or rubrics, no outputs; same cell ids."""
    from .hygiene import clean

    result = copy.deepcopy(nb)
    cells = []
    for cell in result.cells:
        if DROP_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "code":
            try:
                cell.source = strip_solution(cell.source)
            except MarkerError as exc:
                raise MarkerError(f"cell {cell.get('id', '?')}: {exc}") from None
        cells.append(cell)
    result.cells = cells
    return clean(result)
