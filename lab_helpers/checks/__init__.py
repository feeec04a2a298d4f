"""Checks: instant feedback in the notebook, the same judges the grader reuses."""

from .core import (
    CheckResult,
    CheckSpec,
    Verdict,
    check,
    choice_answer,
    evaluate,
    fold,
    get_spec,
    mapping_answer,
    number_answer,
    register,
    specs_for_lab,
    within,
)

__all__ = ["CheckResult", "CheckSpec", "Verdict", "check", "choice_answer", "evaluate", "fold", "get_spec",
           "mapping_answer", "number_answer", "register", "specs_for_lab", "within"]
