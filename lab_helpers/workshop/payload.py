"""What a learner's sender may post, checked field by field before anything is stored.

A bad request is refused whole with a message naming the field and what it should be; nothing
of it is stored, and nothing stored before it is touched.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .store import Batch, Result

__all__ = ["MAX_BYTES", "PayloadError", "parse_batch"]

MAX_BYTES = 64 * 1024  # one batch: about 300 results, far more than a lab's checks
MAX_RESULTS = 200
MAX_RESOURCES = 100
STATUSES = ("passed", "partial", "failed", "not done", "to be graded")
LEARNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
CHECK = re.compile(r"^\d\d\.[a-z0-9][a-z0-9-]{0,79}$")
RID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PayloadError(ValueError):
    """The learner's request is malformed: the message says which field and what it should be."""


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PayloadError(f"{where} must be a finite number, got {type(value).__name__}")
    return float(value)


def _text(value: Any, where: str, pattern: re.Pattern, what: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string ({what}), got {type(value).__name__}")
    if not pattern.match(value):
        raise PayloadError(f"{where} must be {what}, got {value[:40]!r}")
    return value


def _result(item: Any, where: str) -> Result:
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be an object, got {type(item).__name__}")
    status = item.get("status")
    if status not in STATUSES:
        raise PayloadError(f"{where}.status must be one of {', '.join(STATUSES)}, got {str(status)[:40]!r}")
    return Result(
        rid=_text(item.get("id"), f"{where}.id", RID, "letters, digits, - and _ (at most 64)"),
        check=_text(item.get("name"), f"{where}.name", CHECK, "a check name such as '03.server-active'"),
        status=status,
        earned=_number(item.get("earned"), f"{where}.earned"),
        points=_number(item.get("points"), f"{where}.points"),
        at=_number(item.get("at"), f"{where}.at"),
    )


def _resource(item: Any, where: str) -> dict:
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be an object, got {type(item).__name__}")
    out: dict[str, Any] = {}
    for key in ("kind", "name", "lab"):
        value = item.get(key, "")
        if not isinstance(value, str) or len(value) > 200:
            raise PayloadError(f"{where}.{key} must be a string of at most 200 characters")
        out[key] = value
    out["su_per_hour"] = max(0.0, _number(item.get("su_per_hour", 0), f"{where}.su_per_hour"))
    return out


def parse_batch(body: Any) -> Batch:
    """A ``Batch`` from a decoded JSON body, or ``PayloadError`` naming the first wrong field."""
    if not isinstance(body, dict):
        raise PayloadError(f"the body must be a JSON object, got {type(body).__name__}")
    learner = _text(body.get("learner"), "learner", LEARNER, "a learner id (letters, digits, . _ @ + -, at most 64)")
    results = body.get("results", [])
    if not isinstance(results, list):
        raise PayloadError(f"results must be a list, got {type(results).__name__}")
    if len(results) > MAX_RESULTS:
        raise PayloadError(f"at most {MAX_RESULTS} results in one request, got {len(results)}: send them in parts")
    parsed = [_result(item, f"results[{i}]") for i, item in enumerate(results)]
    resources = body.get("resources")
    if resources is None:
        return Batch(learner, parsed)
    if not isinstance(resources, list) or len(resources) > MAX_RESOURCES:
        raise PayloadError(f"resources must be a list of at most {MAX_RESOURCES} objects")
    items = [_resource(item, f"resources[{i}]") for i, item in enumerate(resources)]
    return Batch(learner, parsed, items, round(sum(i["su_per_hour"] for i in items), 4))
