"""One write as the admission plugins see it (a module of its own: every plugin imports it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...objects import Objects
from ...resources import Resource

Obj = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """``old`` is None on create; ``dry_run`` writes must not charge."""

    objects: Objects
    res: Resource
    obj: Obj
    old: Obj | None
    user: str
    dry_run: bool = False
    sub: str = ""
