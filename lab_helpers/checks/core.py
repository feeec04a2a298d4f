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
import numbers
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
    hidden: str = ""  # what the grader judges beyond the public part ("" = nothing hidden), no values
    manual: bool = False  # free text: a person grades it
    shape: str = ""  # the form an answer takes, as the exercise states it ("a number (float), in ms")
    covers: str = ""  # free text: what a good answer covers, told to the learner when it is recorded

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
    name: str,
    points: float,
    question: str,
    *,
    hidden: str = "",
    manual: bool = False,
    shape: str = "",
    covers: str = "",
) -> Callable[[Judge], Judge]:
    """Decorator that registers a judge as the public part of check ``name``.

    ``shape`` says what form the answer takes (the learner reads it when the cell is not done);
    ``covers`` says, for free text (``manual=True``), what a good answer covers.
    """

    def wrap(judge: Judge) -> Judge:
        REGISTRY[name] = CheckSpec(name, float(points), question, judge, hidden, manual, shape, covers)
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


PLACEHOLDERS = frozenset({"?", "...", "…"})


def is_placeholder(value: Any) -> bool:
    """None, Ellipsis, blank text or a stub's "?": nothing filled in yet."""
    if value is None or value is Ellipsis:
        return True
    return isinstance(value, str) and (not value.strip() or value.strip() in PLACEHOLDERS)


def is_unanswered(answer: Any) -> bool:
    """No answer yet: a placeholder, or a stub dict whose values are all still placeholders."""
    if is_placeholder(answer):
        return True
    return isinstance(answer, dict) and bool(answer) and all(is_placeholder(v) for v in answer.values())


def _not_done_message(spec: CheckSpec) -> str:
    shape = f" It takes {spec.shape}." if spec.shape else ""
    return f"No answer yet: fill in the cell above and run it again.{shape}"


def _manual_message(spec: CheckSpec, answer: Any) -> tuple[str, str]:
    """(status, message) for free text: recorded for a person, told what a good answer covers."""
    covers = f" A good answer covers {spec.covers}." if spec.covers else ""
    if not isinstance(answer, str):
        return "failed", f"Expected text (a str in quotes), got {type(answer).__name__}: write your answer as sentences."
    words = len(answer.split())
    if words < 5:
        return ("to be graded", f"Recorded, but it is {words} word{'s' if words != 1 else ''}. A person (your "
                f"instructor) reads this answer, so write it out in two or three sentences.{covers}")
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
        from .progress import record

        record(result)
    except OSError:
        pass  # a read-only state dir must not break the lab
    return result


# --- small helpers for judges -------------------------------------------------------------
# Each reads one form of answer, accepts harmless variants (case, surrounding spaces, an int
# where a float is asked) and otherwise says precisely what was wrong. ``*_answer`` helpers
# return ``(value, None)`` or ``(None, Verdict)``: a judge returns the verdict when there is one.


def fold(text: Any) -> str:
    """Text compared the forgiving way: case folded, outer spaces gone, inner runs of spaces as one."""
    return " ".join(str(text).split()).casefold()


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return False
    return True


def as_number(answer: Any) -> float | None:
    """A finite int or float (NumPy's too); text ("400") and True/False are not numbers."""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


def number_answer(answer: Any, *, unit: str = "", whole: bool = False) -> tuple[float | None, Verdict | None]:
    """Read a number; text that spells one gets "give the number itself", not a pass."""
    what = ("a whole number" if whole else "a number") + (f" in {unit}" if unit else "")
    if isinstance(answer, str) and _looks_numeric(answer.strip()):
        return None, Verdict.no(f"{answer!r} is text (in quotes). Give {what} itself, without quotes: "
                                f"{answer.strip()}.")
    if isinstance(answer, bool):
        return None, Verdict.no(f"{answer} is True/False, not a number. Expected {what}.")
    value = as_number(answer)
    if value is None:
        if isinstance(answer, (int, float)):
            return None, Verdict.no(f"{answer} is not a finite number. Expected {what}.")
        return None, Verdict.no(f"Expected {what}, got {type(answer).__name__} {_short(answer)}.")
    if whole and value != int(value):
        return None, Verdict.no(f"{value:g} is not a whole number. Expected {what}.")
    return value, None


def choice_answer(answer: Any, options: dict[str, str] | list[str] | tuple[str, ...], *,
                  what: str = "answer") -> tuple[str | None, Verdict | None]:
    """Read one word out of ``options`` (a list, or {spelling: canonical}); any case, any outer spaces."""
    mapping = {fold(k): v for k, v in (options.items() if isinstance(options, dict) else ((o, o) for o in options))}
    shown = " or ".join(repr(v) for v in dict.fromkeys(mapping.values()))
    if not isinstance(answer, str):
        return None, Verdict.no(f"Expected text for the {what}: {shown} (in quotes), got {type(answer).__name__}.")
    found = mapping.get(fold(answer))
    if found is None:
        return None, Verdict.no(f"{answer!r} is not one of the choices for the {what}: answer {shown}.")
    return found, None


def mapping_answer(answer: Any, keys: list[str] | tuple[str, ...], *,
                   canonical: Callable[[Any], str | None] | None = None,
                   what: str = "key") -> tuple[dict[str, Any] | None, Verdict | None]:
    """Read a dict with exactly ``keys`` (any case and outer spaces; ``canonical`` maps other spellings).

    Returns ``{key as listed: value}``; the verdict names missing, unknown and doubled keys.
    """
    listed = ", ".join(repr(k) for k in keys)
    if not isinstance(answer, dict):
        return None, Verdict.no(f"Expected a dict with the keys {listed} (the stub in the cell has this shape), "
                                f"got {type(answer).__name__}.")
    by_fold = {fold(k): k for k in keys}
    found: dict[str, Any] = {}
    unknown, doubled = [], []
    for key, value in answer.items():
        name = (canonical(key) if canonical else None) or by_fold.get(fold(key))
        if name is None:
            unknown.append(repr(key))
        elif name in found:
            doubled.append(name)
        else:
            found[name] = value
    missing = [k for k in keys if k not in found]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(repr(k) for k in missing)}")
    if unknown:
        problems.append(f"unknown {what}{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    if doubled:
        problems.append(f"{', '.join(repr(k) for k in doubled)} given twice")
    if problems:
        return None, Verdict.no(f"The dict's keys are not right: {'; '.join(problems)}. Use exactly these keys: {listed}.")
    return found, None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def within(answer: Any, expected: float, rel: float, *, unit: str = "") -> Verdict:
    """Full marks within ``rel`` (relative) of ``expected``; the message states the tolerance."""
    value, problem = number_answer(answer, unit=unit)
    if problem is not None:
        return problem
    tol = abs(expected) * rel
    if abs(value - expected) <= tol:
        return Verdict.ok(f"{value:g} {unit} is within {rel:.0%} of the expected value.".replace("  ", " "))
    direction = "high" if value > expected else "low"
    return Verdict.no(f"{value:g} {unit} is too {direction}: this check accepts within {rel:.0%} of the expected value.".replace("  ", " "))
