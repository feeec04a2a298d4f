"""Notebook hygiene: no outputs, no execution counts, no volatile metadata in what is committed."""

from __future__ import annotations

VOLATILE_NOTEBOOK_KEYS = ("widgets", "papermill", "varInspector", "toc", "celltoolbar")
VOLATILE_CELL_KEYS = ("execution", "papermill", "collapsed", "scrolled", "ExecuteTime")


def clean(nb):
    """Strip outputs, counts and volatile metadata, in place; returns ``nb``."""
    for key in VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def problems(nb) -> list[str]:
    """What keeps ``nb`` from being committed, one line each (empty when clean)."""
    found = [f"notebook metadata has volatile key {k!r}" for k in VOLATILE_NOTEBOOK_KEYS if k in nb.metadata]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            found.append(f"cell {index} has outputs or an execution count")
        if "id" not in cell:
            found.append(f"cell {index} has no id")
    return found
