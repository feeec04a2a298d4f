"""A resource's status read lazily from timed events, so no background thread moves it along.

A resource keeps a list of ``[time, status]`` events; a create writes BUILD now and ACTIVE at now +
boot seconds (a future event), and its status at any moment is the last event at or before it.
Servers and volumes use it; SUs are integrated over the same events (``openstack/nova/metering``).
"""

from __future__ import annotations

from typing import Any


def status_at(doc: dict[str, Any], t: float) -> str:
    """The status ``doc`` is in at time ``t``."""
    status = doc["events"][0][1]
    for when, what in doc["events"]:
        if when <= t:
            status = what
        else:
            break
    return status


def since(doc: dict[str, Any], status: str, t: float) -> float | None:
    """When ``doc`` last entered ``status`` (at or before ``t``)."""
    found = None
    for when, what in doc["events"]:
        if when > t:
            break
        if what == status:
            found = when
    return found


def add_event(doc: dict[str, Any], status: str, t: float, settle_s: float = 0.0, then: str | None = None) -> None:
    """Record a transition at ``t`` (dropping events planned after it), optionally another later."""
    doc["events"] = [e for e in doc["events"] if e[0] <= t] + [[t, status]]
    if then is not None:
        doc["events"].append([t + settle_s, then])
