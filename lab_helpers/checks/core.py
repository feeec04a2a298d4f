"""Checks: the learner's instant feedback on an exercise.

A check has a name (``"01.triad-bandwidth"``: lab number, dot, slug), points, a public judge that
runs right away in the learner's kernel, and may declare a hidden part that only the grader
judges, outside the kernel. Each lab's checks are registered in ``lab_helpers/checks/labNN.py``.

Judges receive the answer and the context the cell passed (for example the measurement the
answer must agree with) and return a ``Verdict``. They never raise for a wrong answer.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import UsageError


@dataclass(frozen=True)
class Verdict:
    """What a judge decided: a score in [0, 1] and a message for the learner."""

    score: float
    message: str = ""

    @classmethod
    def ok(cls, message: str = "") -> "Verdict":
        return cls(1.0, message)

    @classmethod
    def no(cls, message: str) -> "Verdict":
        return cls(0.0, message)


Judge = Callable[[Any, dict], Verdict]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    question: str
    judge: Judge
    hidden: str = ""  # what the grader judges beyond the public part ("" = nothing hidden)
    manual: bool = False  # free text: a person grades it

    @property
    def lab(self) -> str:
        return self.name.split(".", 1)[0]


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


REGISTRY: dict[str, CheckSpec] = {}


def register(
    name: str, points: float, question: str, *, hidden: str = "", manual: bool = False
) -> Callable[[Judge], Judge]:
    """Decorator that registers a judge as the public part of check ``name``."""

    def wrap(judge: Judge) -> Judge:
        REGISTRY[name] = CheckSpec(name, float(points), question, judge, hidden, manual)
        return judge

    return wrap


def _load_lab_module(lab: str) -> None:
    try:
        importlib.import_module(f"lab_helpers.checks.lab{lab}")
    except ModuleNotFoundError as exc:
        if exc.name != f"lab_helpers.checks.lab{lab}":
            raise


def specs_for_lab(lab: str) -> list[CheckSpec]:
    _load_lab_module(lab)
    return [s for s in REGISTRY.values() if s.lab == lab]


def get_spec(name: str) -> CheckSpec:
    if not isinstance(name, str) or "." not in name:
        raise UsageError(f"check name {name!r} is not of the form 'NN.slug'.", hint="Copy the name from the exercise cell.")
    _load_lab_module(name.split(".", 1)[0])
    try:
        return REGISTRY[name]
    except KeyError:
        lab = name.split(".", 1)[0]
        known = ", ".join(sorted(s.name for s in REGISTRY.values() if s.lab == lab)) or "none"
        raise UsageError(f"no check named {name!r}.", hint=f"Checks of lab {lab}: {known}.") from None


def is_unanswered(answer: Any) -> bool:
    return answer is None or answer is Ellipsis or (isinstance(answer, str) and not answer.strip())


def evaluate(spec: CheckSpec, answer: Any, context: dict | None = None) -> CheckResult:
    """Judge an answer against a spec; the same function serves the notebook and the grader."""
    context = dict(context or {})
    pending: list[str] = []
    if spec.hidden:
        pending.append(f"hidden part: {spec.hidden}")
    if is_unanswered(answer):
        return CheckResult(spec.name, spec.points, 0.0, "not done", "No answer yet: fill in the cell above and run it again.", pending)
    if spec.manual:
        pending.append("an instructor reads this answer")
        return CheckResult(spec.name, spec.points, 0.0, "to be graded", "Recorded. An instructor grades free-text answers.", pending)
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
        from .progress import record

        record(result)
    except OSError:
        pass  # a read-only state dir must not break the lab
    return result


# --- small helpers for judges -------------------------------------------------------------

def as_number(answer: Any) -> float | None:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def within(answer: Any, expected: float, rel: float, *, unit: str = "") -> Verdict:
    """Full marks within ``rel`` (relative) of ``expected``; the message states the tolerance."""
    value = as_number(answer)
    if value is None:
        return Verdict.no(f"Expected a number{' in ' + unit if unit else ''}, got {type(answer).__name__}.")
    tol = abs(expected) * rel
    if abs(value - expected) <= tol:
        return Verdict.ok(f"{value:g} {unit} is within {rel:.0%} of {expected:.4g} {unit}.".replace("  ", " "))
    direction = "high" if value > expected else "low"
    return Verdict.no(f"{value:g} {unit} is too {direction}: this check accepts within {rel:.0%} of the expected value.".replace("  ", " "))
