"""Rubrics of hand-graded checks: in the source notebook, in the instructor's key, never with learners or on the site."""

from __future__ import annotations

import json
import stat
import warnings

import nbformat
import pytest

from lab_helpers.catalog import find_lab
from lab_helpers.checks import get_spec
from lab_helpers.commands.grade import _print_rubrics
from lab_helpers.errors import UsageError
from lab_helpers.grading.key import load_key
from lab_helpers.grading.manual import rubric_notes
from lab_helpers.grading.release import build_key
from lab_helpers.site.leaks import key_cells, scan_folder
from lab_helpers.site.pages import lab_page

MANUAL = "00.why-separate"  # lab 00's check graded by hand (lab_helpers/checks/lab00.py)
AUTOMATIC = "00.a40-count"
RUBRIC = (
    "### What earns the points\n\n"
    "- says a VM's disk is gone once the VM is deleted, an object outlives it (1 point)\n"
    "- says many readers fetch the upload over HTTP, a volume is one VM's disk (1 point)"
)
PHRASE = "an object outlives it"


def _rubric_cell(check: str | None = MANUAL, kind: str = "markdown", source: str = RUBRIC):
    metadata: dict = {"tags": ["rubric"]}
    if check is not None:
        metadata["visualizing_compute"] = {"rubric_for": check}
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    return make(source, metadata=metadata)


def _source(*extra) -> nbformat.NotebookNode:
    """A small lab-00 source notebook: a title, the free-text exercise, its check call, then ``extra`` cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Start here"),
        nbformat.v4.new_code_cell(
            '# BEGIN SOLUTION\nwhy = "A VM\'s disk goes with the VM; uploads are objects read over HTTP."\n'
            "# END SOLUTION\n"
            f'check("{MANUAL}", why)'
        ),
        *extra,
    ]
    return nb


def _build(nb):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key, learner, hidden = build_key(nb, "00", "start-here")
    return key, learner, hidden, [str(w.message) for w in caught]


def test_rubric_leaves_the_learner_version_and_lands_in_the_key_with_its_points(tmp_path, capsys):
    rubric = _rubric_cell()
    key, learner, hidden, messages = _build(_source(rubric))

    assert rubric.id not in [c.id for c in learner.cells]
    assert PHRASE not in json.dumps(learner) and "rubric_for" not in json.dumps(learner)
    assert not any("no rubric" in m for m in messages), messages

    folder = key.save(tmp_path / "key" / "00-start-here", learner, hidden)
    text = (folder / "rubric.md").read_text()
    points = get_spec(MANUAL).points
    assert f"## {MANUAL} ({points:g} points)" in text
    assert RUBRIC in text
    assert stat.S_IMODE((folder / "rubric.md").stat().st_mode) == 0o600
    assert PHRASE not in (folder / "key.json").read_text()  # the key's data stays machine-only
    assert PHRASE not in (folder / "learner.ipynb").read_text()

    loaded = load_key(tmp_path / "key", "00")
    assert loaded.rubrics() == {MANUAL: RUBRIC}
    assert rubric_notes(loaded) == [f"rubric for {MANUAL}: {folder / 'rubric.md'}"]
    _print_rubrics(tmp_path / "key", "00")  # what `lab grade` prints after writing manual-grading.csv
    assert capsys.readouterr().out == f"rubric for {MANUAL}: {folder / 'rubric.md'}\n"


def test_two_rubric_cells_for_one_check_are_joined_and_a_release_without_one_removes_the_old_file(tmp_path):
    more = "- bonus: names Swift as the object store (0 points)"
    key, learner, hidden, _ = _build(_source(_rubric_cell(), _rubric_cell(source=more)))
    folder = key.save(tmp_path / "00-start-here", learner, hidden)
    assert load_key(folder, "00").rubrics() == {MANUAL: f"{RUBRIC}\n\n{more}"}

    key, learner, hidden, _ = _build(_source())
    key.save(folder, learner, hidden)
    assert not (folder / "rubric.md").exists()
    assert load_key(folder, "00").rubrics() == {} and rubric_notes(load_key(folder, "00")) == []


def test_a_manual_check_without_a_rubric_is_warned_about():
    *_, messages = _build(_source())
    assert any(MANUAL in m and "no rubric" in m for m in messages), messages


@pytest.mark.parametrize(
    ("cell", "named"),
    [
        (_rubric_cell("00.no-such-check"), r"'00\.no-such-check', which lab 00 does not register"),
        (_rubric_cell(AUTOMATIC), r"'00\.a40-count', which is graded automatically"),
        (_rubric_cell(None), "does not say which check it grades"),
        (_rubric_cell(kind="code", source="# points"), "is a code cell"),
    ],
    ids=["unknown", "not-manual", "unnamed", "code-cell"],
)
def test_a_rubric_for_a_check_it_cannot_grade_is_refused_with_a_hint(cell, named):
    with pytest.raises(UsageError, match=named) as caught:
        _build(_source(cell))
    assert "rubric_for" in (caught.value.hint or "")


def test_the_site_page_drops_rubric_and_hidden_check_cells():
    rubric = _rubric_cell()
    hidden = nbformat.v4.new_code_cell("# what only the grader runs", metadata={"tags": ["hidden-check"]})
    executed = _source(rubric, hidden)
    assert len(key_cells(executed)) == 2  # the scan sees what the page builder must drop

    page = lab_page(executed, find_lab("00"), None)

    ids = [c.get("id") for c in page["cells"]]
    assert rubric.id not in ids and hidden.id not in ids
    assert PHRASE not in json.dumps(page)
    assert key_cells(page) == []
    assert len(executed.cells) == 4  # the executed notebook itself is left as it was


def test_the_leak_scan_refuses_a_page_that_still_carries_a_rubric(tmp_path):
    leaky = _source(_rubric_cell())
    nbformat.write(leaky, tmp_path / "00-start-here.ipynb")
    nbformat.write(_source(), tmp_path / "clean.ipynb")
    found = scan_folder(tmp_path)
    assert list(found) == ["00-start-here.ipynb"]
    assert found["00-start-here.ipynb"] == [f"cell {leaky.cells[-1].id} (rubric)"]
