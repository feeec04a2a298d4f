"""Admission plugin: LimitRanger (default requests and limits, min/max) and ResourceQuota (refused beyond the namespace's quota).
To be filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from . import Request


def mutate(req: Request) -> None:
    return None


def validate(req: Request) -> None:
    return None
