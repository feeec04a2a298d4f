"""Cinder beside the volumes: metadata, snapshots, volume types, quotas and limits."""

from __future__ import annotations

import uuid
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...events import add_event, status_at
from ...queries import paginate
from ...store import iso, now
from .. import catalog_data
from .common import DEFAULT_TYPE, check_fields, check_project, check_quota, get_volume, used

routes = Routes()


@routes("/v3/<pid>/volumes/<vid>/metadata", "GET", "POST", "PUT")
def volume_metadata(ctx: Ctx, pid: str, vid: str) -> Any:
    check_project(ctx, pid)
    if ctx.request.method == "GET":
        return reply({"metadata": get_volume(ctx, vid)["metadata"]})
    meta = validate.metadata(ctx, ctx.body().get("metadata"))
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        vol["metadata"] = meta if ctx.request.method == "PUT" else {**vol["metadata"], **meta}
        ctx.store.put("volume", vid, vol)
    return reply({"metadata": vol["metadata"]})


@routes("/v3/<pid>/volumes/<vid>/metadata/<key>", "GET", "PUT", "DELETE")
def volume_metadata_item(ctx: Ctx, pid: str, vid: str, key: str) -> Any:
    check_project(ctx, pid)
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        if ctx.request.method == "PUT":
            meta = validate.metadata(ctx, ctx.body().get("meta"))
            if list(meta) != [key]:
                raise ctx.bad("Request body and URI mismatch")
            vol["metadata"][key] = meta[key]
            ctx.store.put("volume", vid, vol)
            return reply({"meta": meta})
        if key not in vol["metadata"]:
            raise ctx.bad(f"Metadata {key} could not be found.", 404)
        if ctx.request.method == "DELETE":
            del vol["metadata"][key]
            ctx.store.put("volume", vid, vol)
            return reply(None, 200)
        return reply({"meta": {key: vol["metadata"][key]}})


# -- snapshots ---------------------------------------------------------------------------------
def _snap_view(ctx: Ctx, s: dict[str, Any], t: float) -> dict[str, Any]:
    return {
        "id": s["id"],
        "name": s["name"],
        "description": s["description"],
        "status": status_at(s, t),
        "size": s["size"],
        "volume_id": s["volume_id"],
        "metadata": s["metadata"],
        "created_at": iso(s["created"], micro=True),
        "updated_at": None,
        "os-extended-snapshot-attributes:project_id": s["project_id"],
        "os-extended-snapshot-attributes:progress": "100%",
        "user_id": s["user_id"],
        "group_snapshot_id": None,
        "consumes_quota": True,
    }


def _get_snap(ctx: Ctx, sid: str) -> dict[str, Any]:
    snap = ctx.store.get("snapshot", sid)
    if not snap or snap["project_id"] != ctx.project:
        raise ctx.bad(f"Snapshot {sid} could not be found.", 404)
    return snap


@routes("/v3/<pid>/snapshots", "POST")
def create_snapshot(ctx: Ctx, pid: str) -> Any:
    check_project(ctx, pid)
    req = ctx.body("snapshot")
    check_fields(ctx, req)
    validate.string(ctx, req.get("volume_id"), "volume_id", min_len=1, max_len=255)
    force = bool(validate.boolean(ctx, req.get("force"), "force", allow_none=True)) or ctx.mv(3, 66)
    with ctx.store.tx():
        vol = get_volume(ctx, req["volume_id"])
        status = status_at(vol, now())
        if status not in ("available", "in-use") or (status == "in-use" and not force):
            raise ctx.bad(
                f"Invalid volume: Volume {vol['id']} status must be available, but current status is: {status}."
            )
        check_quota(ctx, vol["size"], "snapshots")
        t = now()
        snap = {
            "id": str(uuid.uuid4()),
            "name": req.get("name"),
            "description": req.get("description"),
            "size": vol["size"],
            "volume_id": vol["id"],
            "metadata": req.get("metadata") or {},
            "project_id": ctx.project,
            "user_id": ctx.user,
            "created": t,
            "events": [],
        }
        add_event(snap, "creating", t, min(0.5, ctx.boot_s / 4), "available")
        ctx.store.put("snapshot", snap["id"], snap)
    return reply({"snapshot": _snap_view(ctx, snap, t)}, 202)


@routes("/v3/<pid>/snapshots", "GET")
@routes("/v3/<pid>/snapshots/detail", "GET")
def list_snapshots(ctx: Ctx, pid: str) -> Any:
    check_project(ctx, pid)
    validate.limit(ctx)
    t = now()
    snaps = [
        s
        for s in ctx.store.find("snapshot", project_id=ctx.project)
        if (not ctx.request.args.get("volume_id") or s["volume_id"] == ctx.request.args["volume_id"])
        and (not ctx.request.args.get("name") or s["name"] == ctx.request.args["name"])
    ]
    return reply({"snapshots": [_snap_view(ctx, s, t) for s in paginate(ctx, snaps)]})


@routes("/v3/<pid>/snapshots/<sid>", "GET", "DELETE", "PUT")
def one_snapshot(ctx: Ctx, pid: str, sid: str) -> Any:
    check_project(ctx, pid)
    with ctx.store.tx():
        snap = _get_snap(ctx, sid)
        if ctx.request.method == "DELETE":
            ctx.store.delete("snapshot", sid)
            return reply(None, 202)
        if ctx.request.method == "PUT":
            req = ctx.body("snapshot")
            check_fields(ctx, req)
            snap.update({k: req[k] for k in ("name", "description") if k in req})
            ctx.store.put("snapshot", sid, snap)
    return reply({"snapshot": _snap_view(ctx, snap, now())})


# -- types, quotas, limits ---------------------------------------------------------------------
@routes("/v3/<pid>/types", "GET")
def list_types(ctx: Ctx, pid: str) -> Any:
    return reply({"volume_types": [DEFAULT_TYPE]})


@routes("/v3/<pid>/types/<tid>", "GET")
def show_type(ctx: Ctx, pid: str, tid: str) -> Any:
    if tid not in (DEFAULT_TYPE["id"], "default", "__DEFAULT__"):
        raise ctx.bad(f"Volume type {tid} could not be found.", 404)
    return reply({"volume_type": DEFAULT_TYPE})


@routes("/v3/<pid>/os-quota-sets/<qid>", "GET")
def quota_set(ctx: Ctx, pid: str, qid: str) -> Any:
    check_project(ctx, pid)
    if qid != ctx.project and not ctx.is_admin:  # Cinder's default policy: a member reads only its own project's quota
        raise ctx.bad("Policy doesn't allow volume_extension:quotas:show to be performed.", 403)
    q, u = catalog_data.project_quota(), used(ctx.store, qid)
    usage = ctx.request.args.get("usage") in ("True", "true", "1")
    body: dict[str, Any] = {"id": qid}
    for key in ("volumes", "gigabytes", "snapshots"):
        body[key] = {"limit": q[key], "in_use": u[key], "reserved": 0, "allocated": 0} if usage else q[key]
    body.update({"backups": 10, "backup_gigabytes": 1000, "per_volume_gigabytes": -1, "groups": 10})
    return reply({"quota_set": body})


@routes("/v3/<pid>/limits", "GET")
def limits(ctx: Ctx, pid: str) -> Any:
    check_project(ctx, pid)
    q, u = catalog_data.project_quota(), used(ctx.store, ctx.project)
    return reply(
        {
            "limits": {
                "rate": [],
                "absolute": {
                    "maxTotalVolumes": q["volumes"],
                    "totalVolumesUsed": u["volumes"],
                    "maxTotalVolumeGigabytes": q["gigabytes"],
                    "totalGigabytesUsed": u["gigabytes"],
                    "maxTotalSnapshots": q["snapshots"],
                    "totalSnapshotsUsed": u["snapshots"],
                    "maxTotalBackups": 10,
                    "totalBackupsUsed": 0,
                    "maxTotalBackupGigabytes": 1000,
                    "totalBackupGigabytesUsed": 0,
                },
            }
        }
    )
