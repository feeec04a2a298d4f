import json

import pytest

from lab_helpers.checks import CheckSpec, Verdict, check, evaluate, get_spec, specs_for_lab, within
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
    answer = {
        "cluster logs": "object",
        "video uploads": "block",
        "terraform state": "object",
        "VM boot disk": "block",
        "model weights": "block",
    }
    result = check("00.storage-for", answer)
    assert result.status == "partial"
    assert result.earned == pytest.approx(2 * 4 / 5)
    assert "video uploads" in result.message


def test_storage_names_accept_harmless_variants_and_the_pages_spellings():
    answer = {
        " Cluster LOGS": "Object ",
        "video uploads": "OBJECT",
        "terraform tfstate": "object",
        "VM boot + file system": " block",
        "model-service model weights": "Block",
    }
    assert check("00.storage-for", answer).passed


def test_storage_shape_problems_are_said_precisely():
    result = check("00.storage-for", {"cluster logs": "object", "tfstate ": "object", "boot": "block"})
    assert result.status == "failed"
    assert "missing" in result.message and "'video uploads'" in result.message and "unknown" in result.message
    assert "'boot'" in result.message and "Use exactly these keys" in result.message
    listed = check("00.storage-for", ["object", "block"])
    assert "Expected a dict with the keys" in listed.message and "list" in listed.message
    bad_value = check(
        "00.storage-for",
        {
            "cluster logs": "bucketish",
            "video uploads": "object",
            "terraform state": "object",
            "VM boot disk": "block",
            "model weights": "block",
        },
    )
    assert "'object' or 'block'" in bad_value.message and "bucketish" in bad_value.message


def test_a_stub_left_as_it_is_is_not_done():
    stub = {
        "cluster logs": "?",
        "video uploads": "?",
        "terraform state": "?",
        "VM boot disk": "?",
        "model weights": "?",
    }
    result = check("00.storage-for", stub)
    assert result.status == "not done" and "a dict" in result.message


def test_a_number_given_as_text_is_not_a_pass():
    result = check("00.a40-count", "400")
    assert result.status == "failed" and "without quotes" in result.message
    assert result.message.endswith("without quotes: 400.")  # what the learner typed, as a number
    assert check("00.a40-count", " 400 ").status == "failed"
    assert check("00.a40-count", True).status == "failed"
    assert check("00.a40-count", 400.0).passed  # an int-valued float: the public part passes
    assert check("00.a40-count", 400.5).status == "failed"


def test_a_one_word_free_text_is_told_a_person_reads_it():
    result = check("00.why-separate", "volumes")
    assert result.status == "to be graded" and result.earned == 0
    assert "1 word" in result.message and "person" in result.message and "A good answer covers" in result.message
    longer = check("00.why-separate", "Because a volume outlives the VM it is attached to, and many read videos.")
    assert "word" not in longer.message.split(".")[0] and "A good answer covers" in longer.message
    assert check("00.why-separate", 42).status == "failed"


def test_manual_check_never_claims_passed():
    result = check("00.why-separate", "Because volumes outlive VMs.")
    assert result.status == "to be graded" and result.pending
    assert "passed" not in str(result).split(":")[0]


def test_nothing_about_hidden_parts_before_an_answer():
    spec = CheckSpec("99.x", 1, "q", lambda a, c: Verdict.ok(), hidden="a second case", shape="a number (float)")
    result = evaluate(spec, None)
    assert result.status == "not done" and not result.pending
    for shown in (str(result), result._repr_html_()):
        assert "second case" not in shown and "hidden" not in shown.lower() and "grading" not in shown
        assert "a number (float)" in shown  # the form the answer takes


def test_after_an_answer_one_plain_line_says_the_grading_checks_more():
    spec = CheckSpec("99.x", 1, "q", lambda a, c: Verdict.ok("right"), hidden="a second case")
    result = evaluate(spec, 1)
    assert result.passed and result.pending == ["a second case"]
    text = str(result)
    assert text.startswith("✔ 99.x passed (1/1 points): right")
    assert text.count("\n") == 1 and "The instructor's grading checks more: a second case." in text
    for jargon in ("public part", "hidden part", "still to be judged"):
        assert jargon not in text and jargon not in result._repr_html_().lower()
    assert "The instructor&#x27;s grading checks more: a second case." in result._repr_html_()
    plain = evaluate(CheckSpec("99.z", 1, "q", lambda a, c: Verdict.ok("right")), 1)
    assert "\n" not in str(plain) and "grading" not in str(plain)


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
    assert within("10", 10, 0.05).score == 0 and "without quotes" in within("10", 10, 0.05).message
    assert within(True, 1, 0.05).score == 0
    assert "10" not in within(11, 10, 0.05).message.replace("11", "")  # a wrong answer is not told the answer


def test_generic_readers_accept_harmless_variants():
    import numpy as np

    from lab_helpers.checks import choice_answer, mapping_answer, number_answer

    assert number_answer(np.float64(2.5)) == (2.5, None)
    assert number_answer(np.int64(3), whole=True) == (3.0, None)
    assert number_answer(2.5, whole=True)[1].score == 0
    assert choice_answer("  Compute ", ["memory", "compute"]) == ("compute", None)
    word, problem = choice_answer("fast", ["memory", "compute"], what="bound")
    assert word is None and "'memory' or 'compute'" in problem.message
    assert "in quotes" in choice_answer(3, ["memory", "compute"])[1].message
    found, problem = mapping_answer({" A ": 1, "b": 2}, ["a", "B"])
    assert problem is None and found == {"a": 1, "B": 2}
    assert "given twice" in mapping_answer({"a": 1, "A": 2, "b": 3}, ["a", "b"])[1].message


def test_summary_counts_passed_checks():
    check("00.a40-count", 400)
    check("00.storage-for", None)
    passed, total = summary("00")
    assert total == len(specs_for_lab("00")) == 3
    assert passed >= 1


def test_results_are_json():
    result = check("00.a40-count", 400)
    assert json.loads(json.dumps(result.to_dict()))["earned"] == 1
