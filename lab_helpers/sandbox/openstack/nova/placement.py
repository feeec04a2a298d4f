"""Where servers land: the modelled JS2 hypervisors, filled one host before the next.

Nova's scheduler on JS2 keeps each flavor family on its own node type (m3 on compute nodes,
g3 on GPU nodes, r3 on large-memory nodes). The sandbox packs (fills the first host that fits)
so a learner sees servers share a host, and sees "No valid host was found" when none fits.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...events import status_at
from ...store import Store, now
from .. import catalog_data
from ..catalog_data import Flavor, Host

# Servers in these states hold no resources on a host.
NOT_PLACED = {"ERROR", "DELETED", "SHELVED_OFFLOADED"}


def host_id(project_id: str, host: str) -> str:
    """Nova's ``hostId``: the same host gives the same value within one project."""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def usage(store: Store, now_s: float | None = None) -> dict[str, dict[str, Any]]:
    """Per host: capacity and what the servers on it use."""
    t = now() if now_s is None else now_s
    out: dict[str, dict[str, Any]] = {
        h.name: {"host": h, "vcpus_used": 0, "ram_mb_used": 0, "disk_gb_used": 0, "gpus_used": 0.0, "servers": []}
        for h in catalog_data.hosts()
    }
    for server in store.list("server"):
        host = server.get("host")
        if not host or host not in out or status_at(server, t) in NOT_PLACED:
            continue
        row = out[host]
        row["vcpus_used"] += server["flavor"]["vcpus"]
        row["ram_mb_used"] += server["flavor"]["ram"]
        row["disk_gb_used"] += server["flavor"]["disk"]
        row["gpus_used"] += server["flavor"].get("gpu_fraction", 0.0)
        row["servers"].append({"uuid": server["id"], "name": server["name"]})
    return out


def fits(host: Host, row: dict[str, Any], flavor: Flavor) -> bool:
    return (
        flavor.family in host.families
        and row["vcpus_used"] + flavor.vcpus <= host.vcpus
        and row["ram_mb_used"] + flavor.ram_mb <= host.ram_mb - host.reserved_ram_mb
        and row["gpus_used"] + flavor.gpu_fraction <= host.gpus + 1e-9
    )


def pick_host(store: Store, flavor: Flavor) -> Host | None:
    """The first host (in the data file's order) with room for ``flavor``; None when none has."""
    table = usage(store)
    for host in catalog_data.hosts():
        if fits(host, table[host.name], flavor):
            return host
    return None


def no_valid_host(flavor: Flavor | None = None) -> str:
    return "No valid host was found. There are not enough hosts available."
