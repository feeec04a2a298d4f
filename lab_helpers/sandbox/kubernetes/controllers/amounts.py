"""Quantities added up and written back as ``resource.Quantity`` writes them: exact integers of
milli-units, printed in the canonical form of the first operand's format (``500m`` + ``500m`` is
``1``; ``128Mi`` + ``128Mi`` is ``256Mi``). The quota controller, LimitRanger and the autoscaler
share it."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


def milli(value: Any) -> int:
    """``"250m"`` -> 250, ``"1Gi"`` -> 1073741824000, ``2`` -> 2000 (rounded up, as MilliValue); ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    text = str(value).strip()
    suffix = ""
    for s in sorted([*_BINARY, *_DECIMAL], key=len, reverse=True):
        if s and text.endswith(s) and not text.endswith("e" + s):
            suffix, text = s, text[: -len(s)]
            break
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a quantity: {value!r}") from None
    if suffix in _BINARY:
        number *= 2 ** _BINARY[suffix]
    else:
        number *= Decimal(10) ** _DECIMAL[suffix]
    return math.ceil(number * 1000)


def binary(value: Any) -> bool:
    return str(value).strip().endswith("i")


def canonical(amount_milli: int, is_binary: bool = False) -> str:
    """The canonical text of an amount of milli-units in the given format."""
    if amount_milli % 1000:
        return f"{amount_milli}m"
    whole = amount_milli // 1000
    if whole == 0:
        return "0"
    if is_binary:
        for suffix, power in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
            if whole % (2**power) == 0:
                return f"{whole // 2**power}{suffix}"
        return str(whole)
    for suffix in ("E", "P", "T", "G", "M", "k"):
        step = 10 ** _DECIMAL[suffix]
        if whole % step == 0:
            return f"{whole // step}{suffix}"
    return str(whole)


def show(value: Any) -> str:
    """A quantity in its canonical form (``"1000m"`` -> ``"1"``); the text itself if unreadable."""
    try:
        return canonical(milli(value), binary(value))
    except ValueError:
        return str(value)
