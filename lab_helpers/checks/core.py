"""Checks: the learner's instant feedback on an exercise.

A check has a name (``"01.triad-bandwidth"``: lab number, dot, slug), points, a public judge that
runs right away in the learner's kernel, and may declare a hidden part that only the grader
judges, outside the kernel. This module judges an answer (``evaluate``) and records it
(``check``); the checks themselves are declared in ``registry`` and read answers with ``answers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .answers import is_unanswered
from .progress import record
from .registry import CheckSpec, Verdict, get_spec


@dataclass
class CheckResult:
    name: str
    points: float
    earned: float
    status: str  # "passed" | "partial" | "failed" | "not done" | "to be graded"
    message: str = ""
    pending: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "points": self.points,
            "earned": self.earned,
            "status": self.status,
            "message": self.message,
            "pending": list(self.pending),
        }

    def __str__(self) -> str:
        from .render import as_text

        return as_text(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from .render import as_html

        return as_html(self)


def _not_done_message(spec: CheckSpec) -> str:
    shape = f" It takes {spec.shape}." if spec.shape else ""
    return f"No answer yet: fill in the cell above and run it again.{shape}"


def _manual_message(spec: CheckSpec, answer: Any) -> tuple[str, str]:
    """(status, message) for free text: recorded for a person, told what a good answer covers."""
    covers = f" A good answer covers {spec.covers}." if spec.covers else ""
    if not isinstance(answer, str):
        return (
            "failed",
            f"Expected text (a str in quotes), got {type(answer).__name__}: write your answer as sentences.",
        )
    words = len(answer.split())
    if words < 5:
        return (
            "to be graded",
            f"Recorded, but it is {words} word{'s' if words != 1 else ''}. A person (your "
            f"instructor) reads this answer, so write it out in two or three sentences.{covers}",
        )
    return "to be graded", f"Recorded: a person (your instructor) reads this answer.{covers}"


def evaluate(spec: CheckSpec, answer: Any, context: dict | None = None) -> CheckResult:
    """Judge an answer against a spec; the same function serves the notebook and the grader.

    ``pending`` lists what the instructor's grading still judges; it stays empty until the
    learner has answered, so nothing about hidden parts shows before that.
    """
    context = dict(context or {})
    if is_unanswered(answer):
        return CheckResult(spec.name, spec.points, 0.0, "not done", _not_done_message(spec))
    pending = [spec.hidden] if spec.hidden else []
    if spec.manual:
        status, message = _manual_message(spec, answer)
        return CheckResult(spec.name, spec.points, 0.0, status, message, pending + ["a person reads this answer"])
    try:
        verdict = spec.judge(answer, context)
    except Exception as exc:  # a judge must not crash the learner's notebook
        verdict = Verdict.no(f"Could not judge this answer ({type(exc).__name__}: {exc}).")
    score = min(1.0, max(0.0, float(verdict.score)))
    status = "passed" if score >= 1.0 else "partial" if score > 0 else "failed"
    return CheckResult(spec.name, spec.points, round(score * spec.points, 4), status, verdict.message, pending)


def check(name: str, answer: Any = None, **context: Any) -> CheckResult:
    """Judge ``answer`` for exercise ``name`` now, show the result and record progress."""
    spec = get_spec(name)
    result = evaluate(spec, answer, context)
    try:
        record(result)
    except OSError:
        pass  # a read-only state dir must not break the lab
    return result
