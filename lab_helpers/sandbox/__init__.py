"""The sandbox cloud: a local Jetstream2 on 127.0.0.1 that the real openstacksdk and the real
``openstack`` CLI talk to (Keystone, Nova, Glance, Cinder, Swift, Neutron).

Labs reach it through :func:`lab_helpers.cloud.connect_cloud`; the functions here are the
sandbox-only views a lab or a test needs beside the REST APIs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UsageError
from .service import ServiceStatus, ensure_running, env_lines, reset, sandbox_dir, start, status, stop

__all__ = ["ServiceStatus", "clouds_yaml_path", "ensure_running", "env_lines", "host_usage", "reset", "sandbox_dir",
           "server_usage", "start", "status", "stop", "volume_backing_file"]


def _store():
    from .store import Store

    return Store(sandbox_dir())


def clouds_yaml_path() -> Path:
    """The sandbox's clouds.yaml (clouds `sandbox` and `sandbox-admin`); starts the service if needed."""
    return ensure_running().clouds_yaml


def volume_backing_file(volume_id: str) -> Path:
    """The real file behind a sandbox volume, for measuring I/O on it (lab 04)."""
    store = _store()
    try:
        vol = store.get("volume", volume_id)
    finally:
        store.close()
    if not vol:
        raise UsageError(f"no sandbox volume with id {volume_id!r}.", hint="Pass `volume.id` of a volume created on the sandbox backend.")
    return Path(vol["backing_file"])


def server_usage() -> list[dict[str, Any]]:
    """SUs charged so far per server (deleted ones too), from each flavor's JS2 rate."""
    from .metering import project_usage

    store = _store()
    try:
        return project_usage(store)
    finally:
        store.close()


def host_usage() -> list[dict[str, Any]]:
    """The modelled hypervisors and what is placed on each (what an admin sees on JS2)."""
    from .placement import usage

    store = _store()
    try:
        table = usage(store)
    finally:
        store.close()
    out = []
    for name, row in table.items():
        h = row["host"]
        out.append({"host": name, "type": h.type, "vcpus": h.vcpus, "vcpus_used": row["vcpus_used"], "ram_mb": h.ram_mb,
                    "ram_mb_used": row["ram_mb_used"], "gpus": h.gpus, "gpus_used": row["gpus_used"],
                    "servers": [s["name"] for s in row["servers"]]})
    return out
