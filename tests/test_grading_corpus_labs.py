"""The grading corpora of labs 01, 02 and 04 (lab 00 and lab 03 have their own files).

By default: the correct, partly wrong and untouched submissions of each lab, with their exact
scores (lab 04's state checks included: the volume attached, nothing left after the cleanup).
Under ``-m slow``: each lab's full hostile set, with the limits enforced and nothing left running.
"""

from __future__ import annotations

import pytest
from corpus.harness import assert_expected, events, grade_corpus, grade_of
from corpus.hostile import CASES, TRIO

from lab_helpers.grading.isolation import Limits, namespaces_available

LIMITS = Limits(cell_s=20, notebook_s=75, memory_mb=1536, output_kb=256, probe_s=30)
MAX = {"01": 13, "02": 13, "04": 17}  # lab 04: 14 auto-graded + 04.why (3) graded by hand

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


@pytest.fixture(scope="module", params=sorted(MAX))
def trio(request, tmp_path_factory):
    lab = request.param
    return lab, grade_corpus(lab, tmp_path_factory.mktemp(f"trio{lab}"), LIMITS, only=TRIO)


def test_correct_partly_wrong_and_untouched_get_their_scores(trio):
    lab, graded = trio
    for name in TRIO:
        assert_expected(graded, name, MAX[lab])
    assert grade_of(graded, "correct").score > grade_of(graded, "partly-wrong").score > 0
    assert graded["left_running"] == []


def test_hidden_checks_judge_the_released_exercise_not_the_kernels_context(trio):
    lab, graded = trio
    correct = grade_of(graded, "correct")
    hidden = [line for line in correct.lines if line.hidden]
    assert hidden and all(line.earned == line.points for line in hidden), [(h.column, h.earned) for h in hidden]
    if lab == "04":  # the state checks read the submission's own sandbox
        answers = correct.answers
        assert any(
            v["status"] == "in-use" and v["on_lab_server"] for v in answers["04.cleanup-order:attached"]["answer"]
        )
        assert answers["04.cleanup-order:cleanup"]["answer"] == {"left": [], "not_checked": []}


def _assert_limits(graded) -> None:
    assert grade_of(graded, "loop-ignores-interrupt").seconds < LIMITS.notebook_s + 15
    assert any(e.get("ename") == "MemoryError" for e in events(graded, "memory-bomb") if e["event"] == "cell-error")
    assert any(e.get("ename") == "CellTimeLimit" for e in events(graded, "infinite-loop") if e["event"] == "cell-error")


@pytest.mark.slow
@pytest.mark.parametrize("lab", sorted(MAX))
def test_full_hostile_set(lab, tmp_path):
    graded = grade_corpus(lab, tmp_path, LIMITS)
    assert {g.learner.removeprefix(graded["prefix"]) for g in graded["gradebook"].grades} == set(CASES)
    failures = []
    for name in CASES:
        try:
            assert_expected(graded, name, MAX[lab])
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert failures == []
    _assert_limits(graded)
    assert graded["left_running"] == [], "a submission's kernel or sandbox outlived the batch"


def test_a_copied_cell_that_calls_lab_helpers_check_is_matched_by_its_check(tmp_path):
    """Lab 02 calls ``lab_helpers.check(...)``: a copy with a new id still stands for its exercise."""
    import copy
    import warnings

    import nbformat
    from corpus.harness import load_cases

    from lab_helpers.grading.release import build_key
    from lab_helpers.grading.sanitise import sanitise
    from lab_helpers.paths import labs_dir

    source = nbformat.read(labs_dir() / "02-a-node-a-cluster.ipynb", as_version=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, learner, hidden = build_key(source, "02", "a-node-a-cluster")
    key.save(tmp_path / "key", learner, hidden)
    cases = load_cases("02")
    submitted = copy.deepcopy(learner)
    cases.right(submitted)
    right = next(c for c in submitted.cells if c.id == cases.SU)
    wrong = copy.deepcopy(right)
    wrong.source = wrong.source.replace("max(1, 32 / 16, 40 / 62.5) * 6 * 0.5", "0")
    submitted.cells.insert(submitted.cells.index(right), wrong)
    right.id = "copy0001"
    result = sanitise(submitted, key)
    kept = [c for c in result.nb.cells if "02.su-cost" in c.source]
    assert len(kept) == 1 and "max(1, 32 / 16" in kept[0].source
    assert any("appears 2 times" in n for n in result.notes)
