import json

import pytest

from lab_helpers.checks import check, evaluate, get_spec, specs_for_lab, within
from lab_helpers.checks.core import CheckSpec, Verdict
from lab_helpers.checks.progress import load, summary
from lab_helpers.errors import UsageError


def test_right_answer_passes_and_is_recorded():
    result = check("00.a40-count", 400)
    assert result.passed and result.earned == result.points == 1
    assert load("00")["00.a40-count"]["status"] == "passed"


def test_wrong_answer_fails_with_a_hint():
    result = check("00.a40-count", 100)
    assert result.status == "failed" and result.earned == 0
    assert "nodes" in result.message


def test_unanswered_is_not_done_not_a_traceback():
    for answer in (None, ..., "  "):
        assert check("00.a40-count", answer).status == "not done"


def test_partial_credit():
    answer = {"cluster logs": "object", "video uploads": "block", "terraform tfstate": "object",
              "VM boot + file system": "block", "model-service model weights": "block"}
    result = check("00.storage-for", answer)
    assert result.status == "partial"
    assert result.earned == pytest.approx(2 * 4 / 5)
    assert "video uploads" in result.message


def test_manual_check_never_claims_passed():
    result = check("00.why-separate", "Because volumes outlive VMs.")
    assert result.status == "to be graded" and result.pending
    assert "passed" not in str(result).split(":")[0]


def test_hidden_part_is_announced_as_pending():
    spec = CheckSpec("99.x", 1, "q", lambda a, c: Verdict.ok(), hidden="a second case")
    result = evaluate(spec, 1)
    assert result.passed and any("hidden" in p for p in result.pending)
    assert "public part passed" in str(result) and "still to be judged" in str(result)
    assert "still to be judged" in result._repr_html_().lower() and "public part passed" in result._repr_html_()


def test_a_crashing_judge_fails_the_answer_not_the_notebook():
    spec = CheckSpec("99.y", 1, "q", lambda a, c: 1 / 0)
    result = evaluate(spec, 1)
    assert result.status == "failed" and "ZeroDivisionError" in result.message


def test_unknown_check_names_the_valid_ones():
    with pytest.raises(UsageError) as err:
        get_spec("00.nope")
    assert "00.a40-count" in str(err.value)
    with pytest.raises(UsageError):
        get_spec("nodot")


def test_within_states_its_tolerance():
    assert within(10.4, 10, 0.05).score == 1
    bad = within(11, 10, 0.05)
    assert bad.score == 0 and "5%" in bad.message and "high" in bad.message
    assert within("ten", 10, 0.05).score == 0


def test_summary_counts_passed_checks():
    check("00.a40-count", 400)
    check("00.storage-for", None)
    passed, total = summary("00")
    assert total == len(specs_for_lab("00")) == 3
    assert passed >= 1


def test_results_are_json():
    result = check("00.a40-count", 400)
    assert json.loads(json.dumps(result.to_dict()))["earned"] == 1
