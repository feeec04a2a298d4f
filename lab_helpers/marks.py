"""How the labs mark what they create, so that cleanup finds it and nothing else.

Workshops share one live allocation (and, from lab 05 on, one cluster): every resource carries
the lab, the learner and an expiry, in whatever form its API allows. OpenStack takes metadata,
Neutron tags and descriptions, and a name prefix; Kubernetes takes labels, whose values must be
short plain words (no ``:`` of a timestamp), so the expiry rides in an annotation there. Cleanup
reads any of these forms back with ``parse`` and removes only what carries this learner's marks.

This module imports only :mod:`lab_helpers.config`: servers may read marks as well as clients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .config import expiry_hours, learner_id

__all__ = ["Marks"]

PREFIX = "course"
# OpenStack: metadata keys, and ``key=value`` in Neutron tags and descriptions.
KEY_LAB, KEY_LEARNER, KEY_EXPIRES = "course-lab", "course-learner", "course-expires"
# Kubernetes: label keys (lab, learner) and an annotation key (expiry), under the course's prefix.
DOMAIN = "visualizing-compute"
LABEL_LAB, LABEL_LEARNER = f"{DOMAIN}/lab", f"{DOMAIN}/learner"
ANNOTATION_EXPIRES = f"{DOMAIN}/expires"
# The sandbox cluster (``lab cluster create``): its VMs carry its name and their role in Nova metadata,
# its Nodes in labels, so that cleanup deletes a cluster's Nodes before its VMs.
KEY_CLUSTER, KEY_CLUSTER_ROLE = "course-cluster", "course-cluster-role"
LABEL_CLUSTER, LABEL_NODE_GROUP = f"{DOMAIN}/cluster", f"{DOMAIN}/node-group"
_KUBERNETES_KEYS = {LABEL_LAB: KEY_LAB, LABEL_LEARNER: KEY_LEARNER, ANNOTATION_EXPIRES: KEY_EXPIRES}
_KEYS = (KEY_LAB, KEY_LEARNER, KEY_EXPIRES)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LABEL_VALUE_MAX = 63
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def slug(text: str) -> str:
    """Lower-case letters, digits and dashes, at most 63 of them: safe in every API's names and labels."""
    cut = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:LABEL_VALUE_MAX]
    return cut.rstrip("-") or "x"


def is_label_value(value: str) -> bool:
    """Whether Kubernetes accepts ``value`` as a label value (63 characters, alphanumeric at both ends)."""
    return len(value) <= LABEL_VALUE_MAX and bool(_LABEL_VALUE.match(value))


@dataclass(frozen=True)
class Marks:
    lab: str
    learner: str
    expires: str  # ISO 8601, UTC

    @classmethod
    def for_lab(cls, lab: str, learner: str | None = None, hours: float | None = None) -> Marks:
        hours = hours if hours is not None else expiry_hours()
        expires = datetime.now(timezone.utc) + timedelta(hours=hours)
        return cls(lab, slug(learner or learner_id()), expires.strftime(TIME_FORMAT))

    @classmethod
    def from_found(cls, found: dict[str, str]) -> Marks | None:
        """The marks ``parse`` found, or None when one of lab, learner, expiry is missing."""
        if not all(found.get(k) for k in _KEYS):
            return None
        return cls(found[KEY_LAB], found[KEY_LEARNER], found[KEY_EXPIRES])

    # --- OpenStack ---------------------------------------------------------------------------

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

    # --- Kubernetes --------------------------------------------------------------------------

    def labels(self) -> dict[str, str]:
        """For any Kubernetes object's ``metadata.labels``: what a label selector finds it by."""
        labels = {LABEL_LAB: self.lab, LABEL_LEARNER: self.learner}
        bad = [f"{k}={v!r}" for k, v in labels.items() if not is_label_value(v)]
        if bad:
            raise ValueError(f"not valid Kubernetes label values: {', '.join(bad)} (use slug() on them)")
        return labels

    def annotations(self) -> dict[str, str]:
        """For ``metadata.annotations``: the expiry, a timestamp no label value may hold."""
        return {ANNOTATION_EXPIRES: self.expires}

    def selector(self) -> str:
        """A label selector (``kubectl -l ...``) for this learner's objects of this lab."""
        return ",".join(f"{k}={v}" for k, v in self.labels().items())


def parse(source: dict | list | str | None) -> dict[str, str]:
    """Marks found in any form, keyed ``KEY_LAB``, ``KEY_LEARNER``, ``KEY_EXPIRES``.

    ``source`` is OpenStack metadata (a dict), Neutron tags (a list), a description (a str), or a
    Kubernetes object's labels and annotations (one dict each, or merged; see ``parse_object``).
    """
    if not source:
        return {}
    if isinstance(source, dict):
        found: dict[str, str] = {}
        for key, value in source.items():
            lowered = str(key).lower()
            canonical = _KUBERNETES_KEYS.get(lowered, lowered)
            if canonical in _KEYS:
                found[canonical] = str(value)
        return found
    items = source.split() if isinstance(source, str) else list(source)
    found = {}
    for item in items:
        key, _, value = str(item).partition("=")
        if key in _KEYS and value:
            found[key] = value
    return found


def parse_object(metadata: dict | None) -> dict[str, str]:
    """Marks of a Kubernetes object, from its ``metadata`` (labels and annotations together)."""
    metadata = metadata or {}
    return {**parse(metadata.get("annotations")), **parse(metadata.get("labels"))}


def matches(marks: dict[str, str], *, learner: str | None, lab: str | None = None, expired_only: bool = False) -> bool:
    if not marks.get(KEY_LEARNER):
        return False
    if learner is not None and marks[KEY_LEARNER] != slug(learner):
        return False
    if lab is not None and marks.get(KEY_LAB) != lab:
        return False
    if expired_only:
        try:
            when = datetime.strptime(marks.get(KEY_EXPIRES, ""), TIME_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            return False
        return when <= datetime.now(timezone.utc)
    return True
