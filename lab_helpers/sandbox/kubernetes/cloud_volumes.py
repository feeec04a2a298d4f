"""The cluster's Cinder CSI driver, inside the sandbox: what ``cinder.csi.openstack.org`` asks of the
cloud, done on the sandbox cloud's own records, so that ``openstack volume list`` (or openstacksdk)
shows every claim's volume, its size, ``available``/``in-use``, and its attachment to a node's VM.

The volumes belong to the OpenStack project that owns the cluster's node VMs (a node names its VM in
``spec.providerID``), carry the VMs' course marks (so ``lab cleanup`` finds them with the cluster)
and the metadata the real driver writes (``csi.storage.k8s.io/pvc/name`` ...). Creating, extending,
attaching, detaching and deleting reuse the cloud's own rules (quota, the device names Nova gives,
the states a volume may be deleted in).

Simulated: a real volume holds a file system the node formats and mounts; here the volume's sparse
backing file is created and sized as Cinder makes it, and the files a pod writes live in a folder
kept per volume beside it (``data_dir``), which follows the volume from node to node.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any, cast

from ..events import add_event, status_at
from ..files import backing_path
from ..openstack import catalog_data
from ..openstack.cinder.common import attach as cinder_attach
from ..openstack.cinder.common import mark_detached, used
from ..openstack.nova.instance_actions import record as record_action
from ..store import Store, now
from .objects import Objects

DRIVER = "cinder.csi.openstack.org"
CLUSTER_KEY = "cinder.csi.openstack.org/cluster"
MARK_KEYS = ("course-lab", "course-learner", "course-expires", "course-cluster")
SETTLE_S = 0.3  # creating -> available, as the sandbox's Cinder settles a new volume


class CloudVolumeError(Exception):
    """The cloud refused (quota, state, a missing VM): worded as the cloud's own error."""


class _Ctx:
    """What the cloud's internal functions read of a request: its store, project and user."""

    def __init__(self, store: Store, project: str, user: str) -> None:
        self.store = store
        self.project = project
        self.user = user

    def bad(self, message: str, status: int = 400, kind: str = "BadRequest") -> CloudVolumeError:
        return CloudVolumeError(message)


def data_dir(state_dir: Path, volume_id: str) -> Path:
    """The folder holding the files written to a volume (its simulated file system)."""
    return Path(state_dir) / "volume-data" / volume_id


def node_server(objects: Objects, node: dict[str, Any] | None) -> dict[str, Any] | None:
    """The sandbox VM behind a node (``spec.providerID: openstack:///<server id>``), or None."""
    provider = ((node or {}).get("spec") or {}).get("providerID") or ""
    if not provider.startswith("openstack://"):
        return None
    return objects.store.get("server", provider.rsplit("/", 1)[-1])


def cluster_owner(objects: Objects, nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The VM whose project, user and marks the cluster's volumes take: the first node's that has one."""
    for node in sorted(nodes, key=lambda n: str(n.get("metadata", {}).get("name", ""))):
        server = node_server(objects, node)
        if server is not None:
            return server
    return None


def get(store: Store, volume_id: str) -> dict[str, Any] | None:
    return store.get("volume", volume_id) if volume_id else None


def status(vol: dict[str, Any]) -> str:
    return status_at(vol, now())


def find_by_name(store: Store, project: str, name: str) -> dict[str, Any] | None:
    for vol in store.find("volume", project_id=project):
        if vol.get("name") == name:
            return vol
    return None


def create(
    store: Store, state_dir: Path, owner: dict[str, Any], name: str, size_gib: int, metadata: dict[str, str]
) -> dict[str, Any]:
    """A new volume (or the one of that name already made: a retry after a crash makes no second)."""
    project, user = str(owner.get("project_id", "")), str(owner.get("user_id", ""))
    marks = {k: v for k, v in (owner.get("metadata") or {}).items() if k in MARK_KEYS}
    with store.tx():
        found = find_by_name(store, project, name)
        if found is not None:
            return found
        quota, have = catalog_data.project_quota(), used(store, project)
        if have["volumes"] + 1 > quota["volumes"]:
            raise CloudVolumeError(
                f"VolumeLimitExceeded: Maximum number of volumes allowed ({quota['volumes']}) exceeded for quota 'volumes'."
            )
        if have["gigabytes"] + size_gib > quota["gigabytes"]:
            raise CloudVolumeError(
                "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
                f"Requested {size_gib}G, quota is {quota['gigabytes']}G and {have['gigabytes']}G has been consumed."
            )
        t = now()
        vid = str(uuid.uuid4())
        vol: dict[str, Any] = {
            "id": vid,
            "name": name,
            "description": "Created by OpenStack Cinder CSI driver",
            "size": size_gib,
            "metadata": {**marks, **metadata},
            "project_id": project,
            "user_id": user,
            "created": t,
            "updated": t,
            "snapshot_id": None,
            "source_volid": None,
            "attachments": [],
            "events": [],
        }
        add_event(vol, "creating", t, SETTLE_S, "available")
        path = backing_path(state_dir, vid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(size_gib * 1024**3)  # sparse, as the cloud's own volumes
        vol["backing_file"] = str(path)
        store.put("volume", vid, vol)
        return vol


def extend(store: Store, state_dir: Path, volume_id: str, size_gib: int) -> dict[str, Any]:
    """Cinder's ``os-extend`` (in-use volumes too, as microversion 3.42 allows)."""
    with store.tx():
        vol = get(store, volume_id)
        if vol is None:
            raise CloudVolumeError(f"Volume {volume_id} could not be found.")
        if size_gib <= int(vol["size"]):
            return vol
        quota, have = catalog_data.project_quota(), used(store, str(vol["project_id"]))
        grow = size_gib - int(vol["size"])
        if have["gigabytes"] + grow > quota["gigabytes"]:
            raise CloudVolumeError(
                "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
                f"Requested {grow}G, quota is {quota['gigabytes']}G and {have['gigabytes']}G has been consumed."
            )
        vol["size"] = size_gib
        vol["updated"] = now()
        path = backing_path(state_dir, volume_id)
        if path.exists():
            os.truncate(path, size_gib * 1024**3)
        store.put("volume", volume_id, vol)
        return vol


def attached_to(vol: dict[str, Any] | None) -> list[str]:
    """The servers a volume is attached to."""
    return [str(a.get("server_id")) for a in (vol or {}).get("attachments") or []]


def device_of(vol: dict[str, Any], server_id: str) -> str:
    return next((str(a.get("device")) for a in vol.get("attachments") or [] if a.get("server_id") == server_id), "")


def attach(store: Store, volume_id: str, server_id: str) -> dict[str, Any]:
    """Nova's ``os-volume_attachments`` POST: the volume ``in-use`` on the server, with a device name."""
    with store.tx():
        server = store.get("server", server_id)
        vol = get(store, volume_id)
        if server is None or vol is None:
            raise CloudVolumeError(f"Volume {volume_id} or server {server_id} could not be found.")
        if server_id in attached_to(vol):
            return vol
        state = status_at(server, now())
        if state not in ("ACTIVE", "SHUTOFF"):
            raise CloudVolumeError(
                f"Cannot 'attach_volume' instance {server_id} while it is in vm_state {state.lower()}"
            )
        ctx = _Ctx(store, str(vol["project_id"]), str(vol["user_id"]))
        vol = cinder_attach(cast(Any, ctx), volume_id, server)
        server["volumes"] = [*server.get("volumes", []), volume_id]
        record_action(cast(Any, ctx), server, "attach_volume")
        store.put("server", server_id, server)
        return vol


def detach(store: Store, volume_id: str, server_id: str) -> None:
    """Nova's ``os-volume_attachments`` DELETE: the volume ``available`` again once on no server."""
    with store.tx():
        server = store.get("server", server_id)
        mark_detached(store, volume_id, server_id)
        if server is not None and volume_id in server.get("volumes", []):
            server["volumes"].remove(volume_id)
            vol = get(store, volume_id) or {}
            record_action(
                cast(Any, _Ctx(store, str(server["project_id"]), str(vol.get("user_id", "")))), server, "detach_volume"
            )
            store.put("server", server_id, server)


def delete(store: Store, state_dir: Path, volume_id: str) -> bool:
    """Delete the volume and its data; False while it is attached (the cloud refuses until detached)."""
    with store.tx():
        vol = get(store, volume_id)
        if vol is None:
            return True
        if vol.get("attachments") or status(vol) not in ("available", "error", "creating"):
            return False
        store.delete("volume", volume_id)
        backing_path(state_dir, volume_id).unlink(missing_ok=True)
    shutil.rmtree(data_dir(state_dir, volume_id), ignore_errors=True)
    return True


def bytes_written(state_dir: Path, volume_id: str) -> int:
    """What the pods have written to a volume (its folder's files), to compare with its size."""
    total = 0
    for root, _, files in os.walk(data_dir(state_dir, volume_id)):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total
