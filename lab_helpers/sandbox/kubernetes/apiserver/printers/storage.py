"""``kubectl get`` columns: storage kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {}
