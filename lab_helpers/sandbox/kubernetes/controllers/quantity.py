"""Resource quantities as the scheduler compares them: CPU in millicores, everything else in whole
units (bytes, pods, GPUs), each rounded up as ``resource.Quantity``'s ``MilliValue``/``Value`` are."""

from __future__ import annotations

import math
import re
from typing import Any

_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?([a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def parse(value: Any) -> float:
    """``"250m"`` -> 0.25, ``"1Gi"`` -> 1073741824.0, ``2`` -> 2.0; ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    match = _NUMBER.match(str(value).strip())
    if not match or match.group(3) not in _SUFFIX:
        raise ValueError(f"not a quantity: {value!r}")
    number = float(match.group(1)) * (10.0 ** int(match.group(2)) if match.group(2) else 1.0)
    return number * _SUFFIX[match.group(3)]


def amount(resource: str, value: Any) -> int:
    """The integer the scheduler adds up for ``resource``: millicores for ``cpu``, units otherwise (0 if unreadable)."""
    try:
        number = parse(value)
    except ValueError:
        return 0
    scaled = number * 1000 if resource == "cpu" else number
    return max(0, math.ceil(scaled - 1e-9))
