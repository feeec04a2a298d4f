"""Service units (SUs): what each server has cost so far.

The SU cost integrates the flavor's rate times the charge fraction JS2 applies in each state
(``state_charge`` in data/jetstream2.yaml) over the server's events (``events.py``).
"""

from __future__ import annotations

from typing import Any

from ...store import now
from .. import catalog_data


def su_used(server: dict[str, Any], t: float | None = None) -> float:
    """SUs charged from creation up to ``t`` (now)."""
    t = now() if t is None else t
    rate = server["su_per_hour"]
    total = 0.0
    events = [e for e in server["events"] if e[0] <= t]
    for (start, status), nxt in zip(events, events[1:] + [[t, ""]], strict=True):
        total += rate * catalog_data.state_charge(status) * max(0.0, nxt[0] - start) / 3600.0
    return total
