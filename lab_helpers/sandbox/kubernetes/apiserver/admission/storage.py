"""Admission plugin: DefaultStorageClass (a claim without a class gets the default one) and the checks on a claim's expansion.
To be filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from . import Request


def mutate(req: Request) -> None:
    return None


def validate(req: Request) -> None:
    return None
