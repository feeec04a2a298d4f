"""What Cinder's handlers share, and Nova's side of an attach: the API's version, the default
volume type, lookups that hide other projects' volumes, the view, quota use and field checks."""

from __future__ import annotations

import uuid
from typing import Any

from ... import validate
from ...api import Ctx
from ...events import add_event, status_at
from ...store import Store, iso, now
from .. import catalog_data

MAX_VERSION = "3.71"
DEFAULT_TYPE = {
    "id": catalog_data.stable_id("volume_type", "__DEFAULT__"),
    "name": "__DEFAULT__",
    "is_public": True,
    "description": "Default Volume Type",
    "extra_specs": {},
    "qos_specs_id": None,
    "os-volume-type-access:is_public": True,
}


RESET_STATES = (
    "available",
    "in-use",
    "error",
    "error_deleting",
    "creating",
    "deleting",
    "attaching",
    "detaching",
    "error_extending",
    "reserved",
    "maintenance",
)


def check_project(ctx: Ctx, pid: str) -> None:
    if pid != ctx.project:
        raise ctx.bad("Malformed request url", 400)


def get_volume(ctx: Ctx, vid: str) -> dict[str, Any]:
    vol = ctx.store.get("volume", vid)
    if not vol or vol["project_id"] != ctx.project:
        raise ctx.bad(f"Volume {vid} could not be found.", 404)
    return vol


def view(ctx: Ctx, v: dict[str, Any], t: float, detail: bool = True) -> dict[str, Any]:
    link = f"{ctx.base}/volume/v3/{v['project_id']}/volumes/{v['id']}"
    body: dict[str, Any] = {
        "id": v["id"],
        "name": v["name"],
        "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}],
    }
    if not detail:
        return body
    body.update(
        {
            "status": status_at(v, t),
            "size": v["size"],
            "availability_zone": "nova",
            "created_at": iso(v["created"], micro=True),
            "updated_at": iso(v["updated"], micro=True),
            "description": v["description"],
            "volume_type": "__DEFAULT__",
            "volume_type_id": DEFAULT_TYPE["id"],
            "snapshot_id": v["snapshot_id"],
            "source_volid": v["source_volid"],
            "metadata": v["metadata"],
            "user_id": v["user_id"],
            "bootable": "false",
            "encrypted": False,
            "multiattach": False,
            "replication_status": None,
            "consistencygroup_id": None,
            "os-vol-tenant-attr:tenant_id": v["project_id"],
            "attachments": v["attachments"],
            "group_id": None,
            "provider_id": None,
            "service_uuid": None,
            "shared_targets": True,
            "cluster_name": None,
            "consumes_quota": True,
            "migration_status": None,
            "os-volume-replication:driver_data": None,
            "os-volume-replication:extended_status": None,
        }
    )
    return body


def used(store: Store, project: str) -> dict[str, int]:
    vols = store.find("volume", project_id=project)
    snaps = store.find("snapshot", project_id=project)
    return {
        "volumes": len(vols),
        "gigabytes": sum(v["size"] for v in vols) + sum(s["size"] for s in snaps),
        "snapshots": len(snaps),
    }


def check_quota(ctx: Ctx, gigabytes: int, count_key: str | None) -> None:
    q, u = catalog_data.project_quota(), used(ctx.store, ctx.project)
    if count_key and u[count_key] + 1 > q[count_key]:
        what = "VolumeLimitExceeded" if count_key == "volumes" else "SnapshotLimitExceeded"
        raise ctx.bad(
            f"{what}: Maximum number of {count_key} allowed ({q[count_key]}) exceeded for quota '{count_key}'.", 413
        )
    if u["gigabytes"] + gigabytes > q["gigabytes"]:
        raise ctx.bad(
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
            f"Requested {gigabytes}G, quota is {q['gigabytes']}G and {u['gigabytes']}G has been consumed.",
            413,
        )


def check_fields(ctx: Ctx, req: dict[str, Any]) -> None:
    """Cinder's schema for the fields a volume or snapshot write may carry."""
    validate.string(ctx, req.get("name"), "name", max_len=255, allow_none=True)
    validate.string(ctx, req.get("description"), "description", max_len=255, allow_none=True)
    if "metadata" in req and req["metadata"] is not None:
        validate.metadata(ctx, req["metadata"])
    for key in ("snapshot_id", "source_volid", "volume_id", "imageRef", "backup_id"):
        validate.string(ctx, req.get(key), key, max_len=255, allow_none=True)
    for key in ("volume_type", "availability_zone"):
        validate.string(ctx, req.get(key), key, max_len=255, allow_none=True)


def attach(ctx: Ctx, vid: str, server: dict[str, Any]) -> dict[str, Any]:
    """Nova's side of an attach: reserve the volume and give it the next device name."""
    vol = ctx.store.get("volume", vid)
    if not vol or vol["project_id"] != ctx.project:
        raise ctx.bad(f"Volume {vid} could not be found.", 404)
    status = status_at(vol, now())
    if status != "available":
        raise ctx.bad(
            f"Invalid volume: volume {vid} status must be available or downloading to reserve, but the current status is {status}.",
            400,
        )
    used = {
        a["device"]
        for v in server["volumes"]
        for a in (ctx.store.get("volume", v) or {"attachments": []})["attachments"]
    }
    device = next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{c}" not in used)
    att_id = str(uuid.uuid4())
    vol["attachments"] = [
        {
            "id": vid,
            "attachment_id": att_id,
            "volume_id": vid,
            "server_id": server["id"],
            "host_name": server.get("host"),
            "device": device,
            "attached_at": iso(now(), micro=True),
            "bdm_uuid": str(uuid.uuid4()),
        }
    ]
    add_event(vol, "in-use", now())
    ctx.store.put("volume", vid, vol)
    return vol


def mark_detached(store: Store, vid: str, sid: str) -> None:
    vol = store.get("volume", vid)
    if vol:
        vol["attachments"] = [a for a in vol["attachments"] if a["server_id"] != sid]
        if not vol["attachments"]:
            add_event(vol, "available", now())
        store.put("volume", vid, vol)
