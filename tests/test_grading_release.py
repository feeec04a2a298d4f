"""`lab release` and `lab submit`: what learners get, what the instructor keeps, the submission stamp."""

from __future__ import annotations

import json
import stat
import warnings
from pathlib import Path

import nbformat
import pytest

from lab_helpers.grading.key import check_calls, lab_version, load_key
from lab_helpers.grading.release import release
from lab_helpers.paths import labs_dir


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (result,) = release(["00"], out)
    return result, out, [str(w.message) for w in caught]


def test_learner_version_has_no_solutions_or_hidden_checks_and_keeps_ids(released):
    result, _, _ = released
    source = nbformat.read(labs_dir() / "00-start-here.ipynb", as_version=4)
    learner = nbformat.read(result.learner_path, as_version=4)
    text = json.dumps(learner)
    assert "BEGIN SOLUTION" not in text and "hidden_check" not in text and "100 * 4" not in text
    hidden_ids = {c.id for c in source.cells if "hidden-check" in c.metadata.get("tags", [])}
    rubric_ids = {c.id for c in source.cells if "rubric" in c.metadata.get("tags", [])}
    assert hidden_ids, "lab 00 should carry hidden-check cells"
    assert rubric_ids, "lab 00 should carry the rubric of its free-text check"
    assert [c.id for c in learner.cells] == [c.id for c in source.cells if c.id not in hidden_ids | rubric_ids]
    assert "Rubric" not in text
    assert learner.metadata["visualizing_compute"]["version"] == result.version
    assert all(not c.get("outputs") for c in learner.cells if c.cell_type == "code")


def test_key_holds_what_grading_needs_and_only_the_instructor_can_read_it(released):
    result, out, _ = released
    key = load_key(out / "key", "00")
    assert key.version == result.version == lab_version(nbformat.read(result.learner_path, as_version=4))
    assert {c.check for c in key.captures} == {"00.a40-count", "00.storage-for", "00.why-separate"}
    assert next(c for c in key.captures if c.check == "00.a40-count").answer == "a40_count"
    assert [h.name for h in key.hidden] == ["00.a40-count:hidden", "00.storage-for:hidden"]
    assert key.max_score == 7
    assert "@hidden_check" in key.hidden_source()
    assert stat.S_IMODE((out / "key").stat().st_mode) == 0o700
    assert stat.S_IMODE((key.folder / "hidden.py").stat().st_mode) == 0o600


def test_release_warns_when_a_hidden_part_is_not_declared_publicly(released):
    from lab_helpers.checks import get_spec

    _, _, messages = released
    for name in ("00.a40-count", "00.storage-for"):
        declared = bool(get_spec(name).hidden)
        warned = any(name in m and "pending" in m for m in messages)
        assert warned != declared, (name, messages)


def test_check_calls_are_parsed_with_context():
    calls = check_calls('x = 1\ncheck("01.triad-time", float(t) * 1e3, expected_ms=measured["triad"], rel=0.1)\n')
    assert calls == [("01.triad-time", "float(t) * 1000.0", {"expected_ms": "measured['triad']", "rel": "0.1"})]
    assert check_calls("def f(:\n") == []
    assert check_calls('hidden_check("00.a", points=1)') == []


def test_unknown_lab_is_a_usage_error_with_a_hint(tmp_path):
    from lab_helpers.errors import UsageError

    with pytest.raises(UsageError) as info:
        release(["99"], tmp_path)
    assert "Valid labs" in info.value.hint


def test_submit_stamps_learner_version_and_backend(released, tmp_path, monkeypatch):
    from lab_helpers.grading.submit import read_stamp, submit

    result, _, _ = released
    monkeypatch.setenv("LAB_LEARNER", "ada")
    monkeypatch.setenv("LAB_BACKEND", "sandbox")
    path = submit("0", result.learner_path, tmp_path)
    assert path.name == "00-start-here.submission.ipynb"
    stamp = read_stamp(nbformat.read(path, as_version=4))
    assert (stamp.learner, stamp.lab, stamp.lab_version, stamp.backend) == ("ada", "00", result.version, "sandbox")


def test_submit_without_a_release_stamp_uses_the_course_version(released, tmp_path, monkeypatch):
    from lab_helpers.grading.submit import read_stamp, submit

    result, _, _ = released
    nb = nbformat.read(result.learner_path, as_version=4)
    del nb.metadata["visualizing_compute"]["version"]
    plain = tmp_path / "mine.ipynb"
    nbformat.write(nb, plain)
    monkeypatch.setenv("LAB_LEARNER", "bo")
    stamp = read_stamp(nbformat.read(submit("00", plain, tmp_path / "out.ipynb"), as_version=4))
    assert stamp.lab_version == result.version


def test_submit_names_the_missing_notebook(tmp_path):
    from lab_helpers.errors import UsageError
    from lab_helpers.grading.submit import submit

    with pytest.raises(UsageError, match="no notebook") as info:
        submit("00", tmp_path / "nope.ipynb")
    assert "--notebook" in info.value.hint


def test_cli_release_and_submit(tmp_path, monkeypatch, capsys):
    from lab_helpers.cli import main

    assert main(["release", "00", "--out", str(tmp_path / "rel")]) == 0
    assert (tmp_path / "rel" / "learner" / "00-start-here.ipynb").exists()
    assert (tmp_path / "rel" / "key" / "00-start-here" / "key.json").exists()
    monkeypatch.setenv("LAB_LEARNER", "cy")
    monkeypatch.chdir(tmp_path)
    assert main(["submit", "00", "--notebook", str(tmp_path / "rel" / "learner" / "00-start-here.ipynb")]) == 0
    assert Path(tmp_path / "00-start-here.submission.ipynb").exists()
    assert "Ready to hand in" in capsys.readouterr().out


def test_literal_context_is_pinned_by_the_release_and_measurements_are_not():
    from lab_helpers.grading.key import pinned_context

    released = 'need = {"vcpus": 3, "ram_gb": 12}\nt = measure()\ncheapest = None  # your answer here\n'
    context = {"**0": "need", "expected_ms": "t", "rel": "0.1"}
    assert pinned_context(released, context) == {"vcpus": 3, "ram_gb": 12, "rel": 0.1}
    assert pinned_context("need = make()\n", {"**0": "need"}) == {}
    assert pinned_context("ready = 0\nfor _ in range(3):\n    ready = poll()\n", {"ready_endpoints": "ready"}) == {}
