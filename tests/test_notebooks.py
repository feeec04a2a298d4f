"""Every lab: committed clean, executes solved on the sandbox, and its learner version runs too."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from lab_helpers.catalog import META_KEY, all_labs
from lab_helpers.notebooks.hygiene import problems
from lab_helpers.notebooks.runner import run_lab
from lab_helpers.site.leaks import find_leaks

LABS = all_labs()


def test_there_is_a_lab_00():
    assert LABS and LABS[0].number == "00"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.number)
def test_committed_clean(lab):
    nb = nbformat.read(lab.path, as_version=4)
    nbformat.validate(nb)
    assert problems(nb) == []


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.number)
def test_shape_of_a_lab(lab):
    nb = nbformat.read(lab.path, as_version=4)
    meta = nb.metadata[META_KEY]
    assert meta["title"] and meta["minutes"] > 0 and meta["objectives"]
    assert nb.metadata.kernelspec.name == "python3"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and re.search(r'^BACKEND = "sandbox"', params[0].source, re.M)
    assert "lab_helpers.setup(BACKEND" in nb.cells[nb.cells.index(params[0]) + 1].source
    assert "cleanup" in nb.cells[-1].metadata.get("tags", []), "the last cell must be the cleanup cell"
    assert "sys.path" not in "".join(c.source for c in nb.cells)


def _outputs_text(path: Path) -> str:
    nb = json.loads(path.read_text())
    return json.dumps([c.get("outputs", []) for c in nb["cells"]])


def _check_lines(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain", "")
            if re.match(r"^[✔◐✘…✎] \d\d\.", text):
                lines.append(text)
    return lines


_leaks = find_leaks  # the one leak scan, shared with the website's build and its test


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.number)
def test_solved_lab_runs_on_the_sandbox(lab, executed_labs):
    result = executed_labs.result(lab)  # executed once per run, shared with the website's test
    assert result.ok, f"lab {lab.number}: cell {result.cell_index}: {result.error}"
    lines = _check_lines(result.output)
    assert lines, "a solved lab must show its checks"
    wrong = [line for line in lines if not line.startswith(("✔", "✎"))]
    assert not wrong, f"the solution does not pass its own checks: {wrong}"
    assert _leaks(_outputs_text(result.output)) == []


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.number)
def test_learner_version_runs_without_crashing(lab, tmp_path):
    result = run_lab(lab, backend="sandbox", out_dir=tmp_path, learner=True, cell_timeout_s=300)
    assert result.ok, f"learner version of lab {lab.number}: cell {result.cell_index}: {result.error}"
    lines = _check_lines(result.output)
    assert lines and all(line.startswith("…") for line in lines), lines
