"""Judge captured answers in the grader's own process, with the grader's own copy of the checks.

Nothing the learner's kernel printed or returned as a verdict counts: only the answers captured
as JSON. Redefining ``check``, monkeypatching ``lab_helpers`` or printing "passed" earns nothing.
"""

from __future__ import annotations

from ..checks.answers import is_unanswered
from ..checks.core import evaluate
from ..checks.registry import get_spec
from .execute import Execution
from .grades import CheckLine
from .hidden import HiddenCheck, judge_hidden
from .key import LabKey


def judge_check(
    key: LabKey, check: str, execution_answers: dict, hidden: list[HiddenCheck]
) -> tuple[list[CheckLine], list[str]]:
    """The gradebook lines of one check (public part, then its hidden part) and instructor notes."""
    spec = get_spec(check)
    captured = execution_answers.get(check)  # {"ok", "answer", "context", "error"} or None
    lines: list[CheckLine] = []
    notes: list[str] = []
    ok = bool(captured and captured.get("ok"))
    answer = captured.get("answer") if ok and captured is not None else None
    context = dict((captured or {}).get("context") or {})
    capture_spec = next((c for c in key.captures if c.check == check), None)
    for name, value in (capture_spec.pinned if capture_spec else {}).items():
        if name in context and context[name] != value:
            notes.append(f"{check}: context {name!r} was changed in the notebook; the released value was used")
        context[name] = value  # the learner cannot move the target
    result = evaluate(spec, answer, context)
    message = result.message
    if captured and not ok:
        message = f"Your answer could not be read ({captured.get('error', 'unknown error')}). " + message
    elif captured is None:
        message = "This exercise's cell never ran to the end; no answer was recorded."
    lines.append(
        CheckLine(
            check, check, spec.points, result.earned, result.status, message, manual=spec.manual, question=spec.question
        )
    )
    for h in hidden:
        if h.check != check:
            continue
        probe_failed = False
        if h.is_state:  # judged on the backend's snapshot, not on the answer; only once the exercise was answered
            snap = execution_answers.get(h.column) or {}
            attempted = ok and not is_unanswered(answer)
            outcome = judge_hidden(h, snap.get("answer"), context, answered=bool(snap.get("ok")) and attempted)
            if snap and not snap.get("ok"):
                probe_failed = True
                notes.append(f"{h.column}: probe failed: {snap.get('error')}")
        else:
            outcome = judge_hidden(h, answer, context, answered=ok and not is_unanswered(answer))
        said = f"{'Checked on the cloud' if h.is_state else 'Hidden part'}: {h.description}."
        if probe_failed:
            said += " The cloud could not be checked (the probe failed or ran past its time limit)."
        lines.append(
            CheckLine(
                h.column, check, h.points, outcome.earned, outcome.status, said, hidden=True, question=spec.question
            )
        )
        if outcome.note:
            notes.append(f"{h.column}: {outcome.note}")
    return lines, notes


def answers_of(execution: Execution) -> dict:
    out = {}
    for cap in execution.captures:
        out[cap.check] = {"ok": cap.ok, "answer": cap.answer, "context": cap.context, "error": cap.error}
    return out


def judge_all(key: LabKey, answers: dict, hidden: list[HiddenCheck]) -> tuple[list[CheckLine], list[str]]:
    lines: list[CheckLine] = []
    notes: list[str] = []
    for check in key.checks:
        more, more_notes = judge_check(key, check.name, answers, hidden)
        for line in more:  # the key's points win over a registry edited since the release
            if not line.hidden and line.points != check.points:
                line.earned = round(line.earned / line.points * check.points, 4) if line.points else 0.0
                line.points = check.points
        lines.extend(more)
        notes.extend(more_notes)
    return lines, notes
