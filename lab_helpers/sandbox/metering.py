"""Service units (SUs): what each server has cost so far.

A server keeps a list of ``[time, status]`` events; a create writes BUILD now and ACTIVE at
now + boot seconds (a future event), so its status is read lazily from timestamps without a
background thread. The SU cost integrates the flavor's rate times the charge fraction JS2
applies in each state (``state_charge`` in data/jetstream2.yaml) over the events.
"""

from __future__ import annotations

from typing import Any

from . import catalog_data
from .store import Store, now


def status_at(server: dict[str, Any], t: float) -> str:
    status = server["events"][0][1]
    for when, what in server["events"]:
        if when <= t:
            status = what
        else:
            break
    return status


def since(server: dict[str, Any], status: str, t: float) -> float | None:
    """When the server last entered ``status`` (at or before ``t``)."""
    found = None
    for when, what in server["events"]:
        if when > t:
            break
        if what == status:
            found = when
    return found


def add_event(server: dict[str, Any], status: str, t: float, settle_s: float = 0.0, then: str | None = None) -> None:
    """Record a transition at ``t`` (dropping events planned after it), optionally another later."""
    server["events"] = [e for e in server["events"] if e[0] <= t] + [[t, status]]
    if then is not None:
        server["events"].append([t + settle_s, then])


def su_used(server: dict[str, Any], t: float | None = None) -> float:
    """SUs charged from creation up to ``t`` (now)."""
    t = now() if t is None else t
    rate = server["su_per_hour"]
    total = 0.0
    events = [e for e in server["events"] if e[0] <= t]
    for (start, status), nxt in zip(events, events[1:] + [[t, ""]]):
        total += rate * catalog_data.state_charge(status) * max(0.0, nxt[0] - start) / 3600.0
    return total


def project_usage(store: Store) -> list[dict[str, Any]]:
    """One row per server (deleted ones included): name, flavor, status, SUs so far."""
    t = now()
    rows = []
    for server in store.list("server"):
        rows.append({"id": server["id"], "name": server["name"], "flavor": server["flavor"]["original_name"],
                     "status": status_at(server, t), "su_per_hour": server["su_per_hour"], "su": round(su_used(server, t), 6)})
    keep = ("id", "name", "flavor", "su_per_hour", "su", "deleted")
    for done in store.list("usage"):
        rows.append({**{k: done[k] for k in keep if k in done}, "status": "DELETED"})
    return rows
