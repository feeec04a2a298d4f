"""Judge captured answers in the grader's own process, with the grader's own copy of the checks.

Nothing the learner's kernel printed or returned as a verdict counts: only the answers captured
as JSON. Redefining ``check``, monkeypatching ``lab_helpers`` or printing "passed" earns nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..checks.core import evaluate, get_spec, is_unanswered
from .execute import Execution
from .hidden import HiddenCheck, judge_hidden
from .key import LabKey


@dataclass
class CheckLine:
    column: str
    check: str
    points: float
    earned: float
    status: str  # passed | partial | failed | not done | to be graded | graded
    message: str  # safe to show the learner
    hidden: bool = False
    manual: bool = False
    question: str = ""


@dataclass
class SubmissionGrade:
    """One submission's grade; renders as the learner's feedback (HTML) or a text line."""

    submission: str
    learner: str
    lab: str
    lines: list[CheckLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs made before execution
    limits_hit: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # for the instructor: stamp mismatch, duplicates
    answers: dict = field(default_factory=dict)  # captured answers, for re-judging one check later
    instructor_notes: list[str] = field(default_factory=list)  # hidden judges' messages: never shown to learners
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(line.earned for line in self.lines), 4)

    @property
    def max_score(self) -> float:
        return round(sum(line.points for line in self.lines), 4)

    def line_for(self, column: str) -> CheckLine | None:
        return next((line for line in self.lines if line.column == column), None)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionGrade:
        data = dict(data)
        data["lines"] = [CheckLine(**line) for line in data.get("lines", [])]
        return cls(**data)

    def __str__(self) -> str:
        extra = "; ".join(self.limits_hit + self.problems + self.flags)
        return f"{self.submission}: {self.learner} {self.score:g}/{self.max_score:g}" + (f"  ({extra})" if extra else "")

    def _repr_html_(self) -> str:
        from .feedback import feedback_html

        return feedback_html(self)


def judge_check(key: LabKey, check: str, execution_answers: dict, hidden: list[HiddenCheck]) -> tuple[list[CheckLine], list[str]]:
    """The gradebook lines of one check (public part, then its hidden part) and instructor notes."""
    spec = get_spec(check)
    captured = execution_answers.get(check)  # {"ok", "answer", "context", "error"} or None
    lines: list[CheckLine] = []
    notes: list[str] = []
    ok = bool(captured and captured.get("ok"))
    answer = captured.get("answer") if ok else None
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
    lines.append(CheckLine(check, check, spec.points, result.earned, result.status, message,
                           manual=spec.manual, question=spec.question))
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
        lines.append(CheckLine(h.column, check, h.points, outcome.earned, outcome.status, said, hidden=True,
                               question=spec.question))
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
