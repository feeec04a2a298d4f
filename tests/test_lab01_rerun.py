"""Lab 01's explore cells still run after Run All: the cleanup cell frees device memory but keeps
what the cells a learner is invited to re-run need."""

from __future__ import annotations

import copy

import nbformat
import pytest

from lab_helpers.catalog import all_labs

EXPLORE = ("7f804204", "f9a8b37b")  # the roofline explorer, and one measurement added to the roofline


@pytest.fixture(scope="module")
def lab01():
    return next(lab for lab in all_labs() if lab.number == "01")


def test_explore_cells_run_again_after_the_cleanup(lab01, tmp_path):
    import papermill as pm

    from lab_helpers.notebooks.authoring import learner_version

    nb = learner_version(nbformat.read(lab01.path, as_version=4))
    assert "cleanup" in nb.cells[-1].metadata.get("tags", [])
    ids = [c.id for c in nb.cells]
    assert all(i in ids for i in EXPLORE), "the explore cells' ids changed: update EXPLORE"
    assert max(ids.index(i) for i in EXPLORE) < len(ids) - 1
    for n, cell_id in enumerate(EXPLORE):
        again = copy.deepcopy(nb.cells[ids.index(cell_id)])
        again.id = f"again{n:03d}"
        nb.cells.append(again)  # the learner scrolls up after Run All and runs it once more
    source, output = tmp_path / "01.rerun.ipynb", tmp_path / "01.rerun.out.ipynb"
    nbformat.write(nb, source)
    pm.execute_notebook(
        str(source),
        str(output),
        parameters={"BACKEND": "sandbox"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
        execution_timeout=300,
    )
    ran = nbformat.read(output, as_version=4)
    errors = [o for c in ran.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    last = ran.cells[-1]
    printed = "".join(o.get("text", "") for o in last.outputs if o.get("output_type") == "stream")
    assert "GB/s" in printed, printed


def test_the_cleanup_keeps_the_report():
    nb = nbformat.read(next(lab for lab in all_labs() if lab.number == "01").path, as_version=4)
    cleanup = nb.cells[-1].source
    assert "del report" not in cleanup and "release_memory" in cleanup
