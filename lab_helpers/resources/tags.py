"""How the labs mark what they create, so that cleanup finds it and nothing else.

Workshops share one live allocation: every resource carries the lab, the learner and an expiry,
in whatever form its API allows (metadata, Neutron tags and description, a name prefix), and
cleanup removes only what carries this learner's marks.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..config import learner_id

PREFIX = "course"
KEY_LAB, KEY_LEARNER, KEY_EXPIRES = "course-lab", "course-learner", "course-expires"
DEFAULT_EXPIRY_H = 24.0


def slug(text: str) -> str:
    """Lower-case letters, digits and dashes: safe in every API's names."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "x"


@dataclass(frozen=True)
class Marks:
    lab: str
    learner: str
    expires: str  # ISO 8601, UTC

    @classmethod
    def for_lab(cls, lab: str, learner: str | None = None, hours: float | None = None) -> "Marks":
        hours = hours if hours is not None else float(os.environ.get("LAB_EXPIRY_H", DEFAULT_EXPIRY_H))
        expires = datetime.now(timezone.utc) + timedelta(hours=hours)
        return cls(lab, slug(learner or learner_id()), expires.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def name(self, what: str) -> str:
        """``course-<learner>-<lab>-<what>``: visible in every listing, found by prefix."""
        return f"{self.name_prefix()}{slug(what)}"

    def name_prefix(self) -> str:
        return f"{PREFIX}-{self.learner}-{self.lab}-"

    def metadata(self) -> dict[str, str]:
        """For Nova servers, Cinder volumes and snapshots, Swift containers."""
        return {KEY_LAB: self.lab, KEY_LEARNER: self.learner, KEY_EXPIRES: self.expires}

    def tags(self) -> list[str]:
        """For Neutron resources (``tags`` / ``/tags``)."""
        return [f"{k}={v}" for k, v in self.metadata().items()]

    def description(self) -> str:
        """For Neutron resources at creation time, so a crash before tagging still leaves a mark."""
        return " ".join(self.tags())


def parse(source: dict | list | str | None) -> dict[str, str]:
    """Marks found in metadata (dict), tags (list) or a description (str)."""
    if not source:
        return {}
    if isinstance(source, dict):
        lowered = {str(k).lower(): str(v) for k, v in source.items()}
        return {k: lowered[k] for k in (KEY_LAB, KEY_LEARNER, KEY_EXPIRES) if k in lowered}
    items = source.split() if isinstance(source, str) else list(source)
    found = {}
    for item in items:
        key, _, value = str(item).partition("=")
        if key in (KEY_LAB, KEY_LEARNER, KEY_EXPIRES) and value:
            found[key] = value
    return found


def matches(marks: dict[str, str], *, learner: str | None, lab: str | None = None, expired_only: bool = False) -> bool:
    if not marks.get(KEY_LEARNER):
        return False
    if learner is not None and marks[KEY_LEARNER] != slug(learner):
        return False
    if lab is not None and marks.get(KEY_LAB) != lab:
        return False
    if expired_only:
        try:
            when = datetime.strptime(marks.get(KEY_EXPIRES, ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return False
        return when <= datetime.now(timezone.utc)
    return True
