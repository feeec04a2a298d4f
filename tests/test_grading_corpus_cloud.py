"""Lab 03's full corpus (correct, wrong, untouched, hostile) graded in one batch with two workers.

Each submission runs in its own namespaces against its own fresh sandbox cloud; lab 03's state
checks read that sandbox from outside the kernel (the ssh rule, the server ACTIVE, nothing left
after the cleanup). Every submission must get its expected score, the feedback must name the
limit it hit, and no process of any submission may outlive the batch.
"""

from __future__ import annotations

import time

import pytest
from corpus.harness import assert_expected, events, grade_corpus, grade_of
from corpus.hostile import CASES

from lab_helpers.grading.isolation import Limits, namespaces_available
from lab_helpers.paths import labs_dir

LIMITS = Limits(cell_s=20, notebook_s=75, memory_mb=1536, output_kb=256, probe_s=30)
MAX = 14

pytestmark = [
    pytest.mark.skipif(
        not (labs_dir() / "03-a-vm-is-a-slice-of-a-host.ipynb").exists(), reason="lab 03 is not written"
    ),
    pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_corpus("03", tmp_path_factory.mktemp("corpus03"), LIMITS)


def test_the_batch_finishes_with_a_row_per_submission_and_nothing_left_running(graded):
    assert {g.submission.rsplit("/", 1)[-1].removesuffix(".ipynb") for g in graded["gradebook"].grades} == set(CASES)
    assert graded["seconds"] < 240, f"lab 03's corpus took {graded['seconds']:.0f} s"
    assert graded["left_running"] == [], "a submission's kernel or sandbox outlived the batch"


@pytest.mark.parametrize("name", CASES)
def test_each_submission_gets_its_expected_score(graded, name):
    assert_expected(graded, name, MAX)


def test_limits_are_enforced_not_just_reported(graded):
    loop = grade_of(graded, "loop-ignores-interrupt")
    assert loop.seconds < LIMITS.notebook_s + 15  # killed at the notebook limit, not left running
    assert any(e.get("ename") == "MemoryError" for e in events(graded, "memory-bomb") if e["event"] == "cell-error")
    assert any(e.get("ename") == "CellTimeLimit" for e in events(graded, "infinite-loop") if e["event"] == "cell-error")
    executed = next((graded["out"] / "logs").glob("huge-output-*/executed.ipynb"))
    assert executed.stat().st_size < LIMITS.output_kb * 1024 * 3  # outputs were cut, not stored
    # the instructor's short sandbox boot time reached the submission's own sandbox
    assert "the sandbox takes 0.5 s" in next((graded["out"] / "logs").glob("correct-*/executed.ipynb")).read_text()


def test_state_checks_saw_the_submissions_own_cloud(graded):
    correct = grade_of(graded, "correct").answers
    rules = correct["03.open-ssh:state"]["answer"]["rules"]
    assert [(r["protocol"], r["port_range_min"], r["port_range_max"]) for r in rules] == [("tcp", 22, 22)]
    assert [s["status"] for s in correct["03.su-stopped:state"]["answer"]] == ["ACTIVE"]
    assert correct["03.su-stopped:cleanup"]["answer"] == {"left": [], "not_checked": []}
    # the partly wrong submission opened 22-80: the cloud says so, whatever its kernel printed
    wrong = grade_of(graded, "partly-wrong")
    assert [r["port_range_max"] for r in wrong.answers["03.open-ssh:state"]["answer"]["rules"]] == [80]
    assert wrong.line_for("03.open-ssh:state").earned == 0
    # killed before its cleanup: the sandbox was never probed after it, so the cleanup is not done
    killed = grade_of(graded, "kill-kernel")
    assert "03.su-stopped:cleanup" not in killed.answers
    assert killed.line_for("03.su-stopped:cleanup").status == "not done"
    # the untouched notebook made a server with the given cells, yet earns no state point for it
    untouched = grade_of(graded, "untouched")
    assert [s["status"] for s in untouched.answers["03.su-stopped:state"]["answer"]] == ["ACTIVE"]
    assert untouched.line_for("03.su-stopped:state").earned == 0


def test_a_probe_that_hangs_is_cut_at_its_limit_and_scores_zero(tmp_path):
    import nbformat

    from lab_helpers.grading.hidden import HiddenCheck
    from lab_helpers.grading.worker import EventLog, _client_class

    hung = HiddenCheck("03.open-ssh", 2, "hangs", lambda snap, ctx: True, probe=lambda conn: time.sleep(30))
    job = {"limits": {**LIMITS.as_dict(), "probe_s": 0.5, "cell_s": 5}, "state_source": ""}
    client = _client_class()(nbformat.v4.new_notebook(), None, job=job, log=EventLog(tmp_path / "events.jsonl"))
    client.connection = object()  # no cloud needed: the probe never looks at it
    started = time.monotonic()
    ok, data, error = client._probe(hung)
    assert time.monotonic() - started < 5
    assert (ok, data) == (False, None) and "within 0.5 s" in error
    assert client.connection is None  # the hung connection is not reused


def test_a_failed_probe_scores_zero_with_a_note(graded):
    from lab_helpers.grading.hidden import load_hidden
    from lab_helpers.grading.judge import judge_check
    from lab_helpers.grading.key import load_key

    key = load_key(graded["key"], "03")
    answers = dict(grade_of(graded, "correct").answers)
    answers["03.open-ssh:state"] = {
        "ok": False,
        "answer": None,
        "context": {},
        "error": "the probe did not answer within 30 s (probe time limit)",
    }
    lines, notes = judge_check(key, "03.open-ssh", answers, load_hidden(key.hidden_source()))
    state = next(line for line in lines if line.column == "03.open-ssh:state")
    assert state.earned == 0 and "could not be checked" in state.message
    assert any("probe time limit" in n for n in notes)
    assert next(line for line in lines if line.column == "03.open-ssh").earned == 3
