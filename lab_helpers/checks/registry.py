"""The checks a lab declares: each one's name, points, question and judge, found by name.

Each lab's checks are registered in ``lab_helpers/checks/labNN.py``, loaded on first use. Judges
receive the answer and the context the cell passed and return a ``Verdict``; they never raise for
a wrong answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError


@dataclass(frozen=True)
class Verdict:
    """What a judge decided: a score in [0, 1] and a message for the learner."""

    score: float
    message: str = ""

    @classmethod
    def ok(cls, message: str = "") -> Verdict:
        return cls(1.0, message)

    @classmethod
    def no(cls, message: str) -> Verdict:
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
        raise UsageError(
            f"check name {name!r} is not of the form 'NN.slug'.", hint="Copy the name from the exercise cell."
        )
    _load_lab_module(name.split(".", 1)[0])
    try:
        return REGISTRY[name]
    except KeyError:
        lab = name.split(".", 1)[0]
        known = ", ".join(sorted(s.name for s in REGISTRY.values() if s.lab == lab)) or "none"
        raise UsageError(f"no check named {name!r}.", hint=f"Checks of lab {lab}: {known}.") from None
