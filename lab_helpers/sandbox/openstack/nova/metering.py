"""Service units (SUs): what each server has cost so far.

The SU cost integrates the flavor's rate times the charge fraction JS2 applies in each state
(``state_charge`` in data/jetstream2.yaml) over the server's events (``events.py``).
"""

from __future__ import annotations

from typing import Any

from ...events import status_at
from ...store import Store, now
from .. import catalog_data


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
