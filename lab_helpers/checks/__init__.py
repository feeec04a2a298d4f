"""Checks: instant feedback in the notebook, the same judges the grader reuses."""

from .core import CheckResult, CheckSpec, Verdict, check, evaluate, get_spec, register, specs_for_lab, within

__all__ = ["CheckResult", "CheckSpec", "Verdict", "check", "evaluate", "get_spec", "register", "specs_for_lab", "within"]
