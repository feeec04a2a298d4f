"""Every kind's rules beyond its schema: ``semantics`` (part 1's kinds and the workloads) and each area's
module that builds on its helpers (``semantics_network``). A module of its own, above both, so that
neither imports the other."""

from __future__ import annotations

from typing import Any

from . import semantics, semantics_network
from .validation import Cause

RULES = {**semantics.RULES, **semantics_network.RULES}


def check(obj: dict[str, Any]) -> list[Cause]:
    """The API server's semantic validation of one object of a served kind."""
    return semantics.check(obj, RULES)
