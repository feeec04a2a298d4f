"""Sanitising a submission before it runs: matched to the key by cell id, whatever the learner did."""

from __future__ import annotations

import copy
import warnings

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from lab_helpers.grading.key import load_key
from lab_helpers.grading.release import release
from lab_helpers.grading.sanitise import sanitise

A40, STORAGE, SETUP, PARAMS = "fc289867", "c8196b99", "320b8b7d", "f7c46396"


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        release(["00"], out)
    return load_key(out / "key", "00")


@pytest.fixture
def learner(key):
    return key.learner_notebook()


def _cell(nb, cid):
    return next(c for c in nb.cells if c.get("id") == cid)


def _ids(nb):
    return [c.id for c in nb.cells]


def test_answers_kept_given_cells_restored_outputs_cleared_kernel_forced(key, learner):
    _cell(learner, A40).source = "a40_count = 400\ncheck('00.a40-count', a40_count)"
    _cell(learner, A40).outputs = [new_output("stream", name="stdout", text="passed\n")]
    _cell(learner, A40).execution_count = 3
    _cell(learner, SETUP).source = "import os  # learner changed the setup"
    learner.metadata["kernelspec"] = {"name": "evil", "display_name": "x", "language": "python"}
    result = sanitise(learner, key, {"BACKEND": "sandbox"})
    assert _cell(result.nb, A40).source.startswith("a40_count = 400")
    assert _cell(result.nb, A40).outputs == [] and _cell(result.nb, A40).execution_count is None
    assert _cell(result.nb, SETUP).source == _cell(key.learner_notebook(), SETUP).source
    assert result.nb.metadata["kernelspec"]["name"] == "python3"
    assert any("320b8b7d was changed" in n for n in result.notes)


def test_parameters_are_injected_after_the_parameters_cell(key, learner):
    result = sanitise(learner, key, {"BACKEND": "sandbox"})
    ids = _ids(result.nb)
    assert ids[ids.index(PARAMS) + 1] == "grader-parameters"
    assert _cell(result.nb, "grader-parameters").source == "BACKEND = 'sandbox'"


def test_deleted_answer_cell_comes_back_as_the_exercise(key, learner):
    learner.cells = [c for c in learner.cells if c.id != STORAGE]
    result = sanitise(learner, key)
    assert _cell(result.nb, STORAGE).source == _cell(key.learner_notebook(), STORAGE).source
    assert any("c8196b99 was deleted" in n for n in result.notes)


def test_duplicates_keep_the_last_copy_and_order_is_restored(key, learner):
    wrong = copy.deepcopy(_cell(learner, A40))
    wrong.source = "a40_count = 1"
    _cell(learner, A40).source = "a40_count = 400"
    learner.cells.append(wrong)  # duplicate id, placed last
    storage = _cell(learner, STORAGE)
    learner.cells.remove(storage)
    learner.cells.insert(0, storage)
    result = sanitise(learner, key)
    assert _cell(result.nb, A40).source == "a40_count = 1"
    assert [i for i in _ids(result.nb) if i != "grader-parameters"] == _ids(key.learner_notebook())
    assert any("appears 2 times" in n for n in result.notes)
    assert any("reordered" in n for n in result.notes)
    assert len(set(_ids(result.nb))) == len(result.nb.cells)


def test_cells_the_learner_added_run_after_the_cell_they_followed(key, learner):
    index = _ids(learner).index(A40)
    extra = new_code_cell("helper = 1")
    extra.id = "mine0001"
    extra.metadata["tags"] = ["parameters", "hidden-check"]
    learner.cells.insert(index + 1, extra)
    result = sanitise(learner, key)
    ids = _ids(result.nb)
    assert ids[ids.index(A40) + 1] == "mine0001"
    assert "parameters" not in _cell(result.nb, "mine0001").metadata["tags"]
    assert result.extra_cells == 1


def test_notebooks_without_ids_are_matched_by_their_check_call(key, learner):
    for cell in learner.cells:
        cell.pop("id", None)
    answer = next(c for c in learner.cells if "00.a40-count" in c.source)
    answer.source = 'a40_count = 400\ncheck("00.a40-count", a40_count)'
    result = sanitise(learner, key)
    assert _cell(result.nb, A40).source.startswith("a40_count = 400")
    assert nbformat.validate(result.nb) is None
    assert result.extra_cells == 0  # unchanged cells found by their text, not run twice
