"""Judging captured answers in the grader: public judges, hidden judges, what the feedback may show."""

from __future__ import annotations

import json

import pytest

from lab_helpers.grading.grades import CheckLine, SubmissionGrade
from lab_helpers.grading.hidden import HiddenCheck, judge_hidden, load_hidden
from lab_helpers.grading.judge import judge_check
from lab_helpers.grading.key import CaptureSpec, CheckPoints, LabKey
from lab_helpers.grading.worker import _decode


def _key() -> LabKey:
    return LabKey(
        "00",
        "start-here",
        "v1",
        [CheckPoints("00.a40-count", 1.0)],
        [],
        [CaptureSpec("c1", "00.a40-count", "x")],
        ["c1"],
    )


def test_public_judge_runs_on_the_captured_answer():
    lines, _ = judge_check(_key(), "00.a40-count", {"00.a40-count": {"ok": True, "answer": 400, "context": {}}}, [])
    assert (lines[0].earned, lines[0].status) == (1.0, "passed")
    lines, _ = judge_check(_key(), "00.a40-count", {"00.a40-count": {"ok": True, "answer": 100, "context": {}}}, [])
    assert lines[0].earned == 0 and "number of nodes" in lines[0].message


def test_an_answer_that_could_not_be_captured_scores_zero_and_says_why():
    lines, _ = judge_check(
        _key(), "00.a40-count", {"00.a40-count": {"ok": False, "error": "NameError: name 'x' is not defined"}}, []
    )
    assert lines[0].earned == 0 and "could not be read (NameError" in lines[0].message
    lines, _ = judge_check(_key(), "00.a40-count", {}, [])
    assert "never ran to the end" in lines[0].message


def test_hidden_judges_run_in_the_grader_and_their_messages_stay_with_the_instructor():
    hidden = load_hidden(
        "from lab_helpers.grading.hidden import hidden_check\n"
        "from lab_helpers.checks import Verdict\n"
        "@hidden_check('00.a40-count', points=2, description='a whole number')\n"
        "def _(answer, context):\n"
        "    return Verdict(0.5, 'expected exactly 400 as int')\n"
    )
    lines, notes = judge_check(
        _key(), "00.a40-count", {"00.a40-count": {"ok": True, "answer": 400, "context": {}}}, hidden
    )
    _public, secret = lines
    assert secret.column == "00.a40-count:hidden" and secret.earned == 1.0 and secret.status == "partial"
    assert "expected exactly" not in secret.message and secret.message == "Hidden part: a whole number."
    assert notes == ["00.a40-count:hidden: expected exactly 400 as int"]


def test_a_crashing_hidden_judge_scores_zero_without_stopping_the_grader():
    boom = HiddenCheck("00.a40-count", 1, "d", lambda a, c: 1 / 0)
    outcome = judge_hidden(boom, 400, {}, answered=True)
    assert outcome.earned == 0 and "ZeroDivisionError" in outcome.note
    assert judge_hidden(boom, None, {}, answered=False).status == "not done"


def test_hidden_checks_declared_twice_are_refused():
    from lab_helpers.errors import UsageError

    source = (
        "from lab_helpers.grading.hidden import hidden_check\n"
        "@hidden_check('00.x', points=1, description='a')\ndef _a(a, c): return True\n"
        "@hidden_check('00.x', points=1, description='b')\ndef _b(a, c): return True\n"
    )
    with pytest.raises(UsageError, match="declared twice"):
        load_hidden(source)


@pytest.mark.parametrize(
    "reply, expected",
    [
        (
            {"status": "ok", "data": {"text/plain": repr(json.dumps({"a": [1, 2.5, None]}))}},
            (True, {"a": [1, 2.5, None]}, ""),
        ),
        ({"status": "error", "ename": "NameError", "evalue": "x"}, (False, None, "NameError: x")),
        (
            {"status": "ok", "data": {"text/plain": "__import__('os').system('true')"}},
            (False, None, "could not read the answer back as JSON (ValueError)"),
        ),
    ],
)
def test_captured_replies_are_parsed_as_data_never_evaluated(reply, expected):
    assert _decode(reply) == expected


def test_a_grade_round_trips_through_json_and_renders():
    g = SubmissionGrade(
        "a.ipynb",
        "ada",
        "00",
        [CheckLine("00.a40-count", "00.a40-count", 1, 1, "passed", "ok <b>")],
        limits_hit=["memory limit (512 MB) reached in cell 3"],
    )
    again = SubmissionGrade.from_dict(json.loads(json.dumps(g.to_dict())))
    assert again == g and again.score == 1
    html = again._repr_html_()
    assert "ok &lt;b&gt;" in html and "memory limit (512 MB)" in html
    assert "ada 1/1" in str(again)
