"""Checks: instant feedback in the notebook, the same judges the grader reuses.

``registry`` declares each lab's checks, ``answers`` reads an answer the forgiving way, ``core``
judges and records it (``check``), ``progress`` keeps the latest result of each.
"""

from .answers import choice_answer, fold, mapping_answer, number_answer, within
from .core import CheckResult, check, evaluate
from .registry import CheckSpec, Verdict, get_spec, register, specs_for_lab

__all__ = [
    "CheckResult",
    "CheckSpec",
    "Verdict",
    "check",
    "choice_answer",
    "evaluate",
    "fold",
    "get_spec",
    "mapping_answer",
    "number_answer",
    "register",
    "specs_for_lab",
    "within",
    # modules the labs import from
    "artifacts",
    "lab02",
    "lab03",
    "lab04",
    "lab05",
    "lab06",
    "lab07",
    "progress",
]
