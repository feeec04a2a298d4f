"""Cinder v3: volumes (creating -> available -> in-use -> available), metadata, extend,
snapshots and quotas. Each volume is a real sparse file under the sandbox's state directory,
so an I/O measurement on it (lab 04) measures this machine's disk."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from . import catalog_data, validate
from .api import Ctx, Routes, check_metadata, paginate, reply
from .metering import add_event, status_at
from .store import Store, iso, now

routes = Routes("/volume", style="nova")
MAX_VERSION = "3.71"
DEFAULT_TYPE = {"id": catalog_data.stable_id("volume_type", "__DEFAULT__"), "name": "__DEFAULT__", "is_public": True,
                "description": "Default Volume Type", "extra_specs": {}, "qos_specs_id": None, "os-volume-type-access:is_public": True}


RESET_STATES = ("available", "in-use", "error", "error_deleting", "creating", "deleting", "attaching", "detaching",
                "error_extending", "reserved", "maintenance")


def backing_path(state_dir: Path, vid: str) -> Path:
    return Path(state_dir) / "volumes" / f"{vid}.img"


def _version(ctx: Ctx) -> dict[str, Any]:
    return {"id": "v3.0", "status": "CURRENT", "version": MAX_VERSION, "min_version": "3.0", "updated": "2023-08-31T00:00:00Z",
            "links": [{"href": f"{ctx.base}/volume/v3/", "rel": "self"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}


@routes("/", "GET", public=True)
@routes("/v3/", "GET", public=True)
def versions(ctx: Ctx) -> Any:
    return reply({"versions": [_version(ctx)]}, 300 if ctx.request.path.rstrip("/") == "/volume" else 200)


def _project(ctx: Ctx, pid: str) -> None:
    if pid != ctx.project:
        raise ctx.bad("Malformed request url", 400)


def get_volume(ctx: Ctx, vid: str) -> dict[str, Any]:
    vol = ctx.store.get("volume", vid)
    if not vol or vol["project_id"] != ctx.project:
        raise ctx.bad(f"Volume {vid} could not be found.", 404)
    return vol


def view(ctx: Ctx, v: dict[str, Any], t: float, detail: bool = True) -> dict[str, Any]:
    link = f"{ctx.base}/volume/v3/{v['project_id']}/volumes/{v['id']}"
    body: dict[str, Any] = {"id": v["id"], "name": v["name"], "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}]}
    if not detail:
        return body
    body.update({
        "status": status_at(v, t), "size": v["size"], "availability_zone": "nova", "created_at": iso(v["created"], micro=True),
        "updated_at": iso(v["updated"], micro=True), "description": v["description"], "volume_type": "__DEFAULT__",
        "volume_type_id": DEFAULT_TYPE["id"], "snapshot_id": v["snapshot_id"], "source_volid": v["source_volid"], "metadata": v["metadata"],
        "user_id": v["user_id"], "bootable": "false", "encrypted": False, "multiattach": False, "replication_status": None,
        "consistencygroup_id": None, "os-vol-tenant-attr:tenant_id": v["project_id"], "attachments": v["attachments"], "group_id": None,
        "provider_id": None, "service_uuid": None, "shared_targets": True, "cluster_name": None, "consumes_quota": True,
        "migration_status": None, "os-volume-replication:driver_data": None, "os-volume-replication:extended_status": None,
    })
    return body


def _used(store: Store, project: str) -> dict[str, int]:
    vols = store.find("volume", project_id=project)
    snaps = store.find("snapshot", project_id=project)
    return {"volumes": len(vols), "gigabytes": sum(v["size"] for v in vols) + sum(s["size"] for s in snaps), "snapshots": len(snaps)}


def _check_quota(ctx: Ctx, gigabytes: int, count_key: str | None) -> None:
    q, u = catalog_data.project_quota(), _used(ctx.store, ctx.project)
    if count_key and u[count_key] + 1 > q[count_key]:
        what = "VolumeLimitExceeded" if count_key == "volumes" else "SnapshotLimitExceeded"
        raise ctx.bad(f"{what}: Maximum number of {count_key} allowed ({q[count_key]}) exceeded for quota '{count_key}'.", 413)
    if u["gigabytes"] + gigabytes > q["gigabytes"]:
        raise ctx.bad("VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
                      f"Requested {gigabytes}G, quota is {q['gigabytes']}G and {u['gigabytes']}G has been consumed.", 413)


def check_fields(ctx: Ctx, req: dict[str, Any]) -> None:
    """Cinder's schema for the fields a volume or snapshot write may carry."""
    validate.string(ctx, req.get("name"), "name", max_len=255, allow_none=True)
    validate.string(ctx, req.get("description"), "description", max_len=255, allow_none=True)
    if "metadata" in req and req["metadata"] is not None:
        check_metadata(ctx, req["metadata"])
    for key in ("snapshot_id", "source_volid", "volume_id", "imageRef", "backup_id"):
        validate.string(ctx, req.get(key), key, max_len=255, allow_none=True)
    for key in ("volume_type", "availability_zone"):
        validate.string(ctx, req.get(key), key, max_len=255, allow_none=True)


def _size(ctx: Ctx, raw: Any, field: str = "size") -> int:
    try:
        if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
            raise TypeError(raw)
        size = int(raw)
    except (TypeError, ValueError):
        raise ctx.bad(f"Invalid input for field/attribute {field}. Value: {raw}. {raw!r} is not valid under any of the given schemas") from None
    if size < 1:
        raise ctx.bad(f"Invalid input for field/attribute {field}. Value: {size}. {size} is less than the minimum of 1")
    return size


@routes("/v3/<pid>/volumes", "POST")
def create_volume(ctx: Ctx, pid: str) -> Any:
    _project(ctx, pid)
    req = ctx.body("volume")
    check_fields(ctx, req)
    snap = ctx.store.get("snapshot", req["snapshot_id"]) if req.get("snapshot_id") else None
    if req.get("snapshot_id") and (not snap or snap["project_id"] != ctx.project):
        raise ctx.bad(f"Snapshot {req['snapshot_id']} could not be found.", 404)
    size = _size(ctx, req.get("size") or (snap or {}).get("size"))
    meta = req.get("metadata") or {}
    with ctx.store.tx():
        _check_quota(ctx, size, "volumes")
        t = now()
        vid = str(uuid.uuid4())
        vol = {"id": vid, "name": req.get("name"), "description": req.get("description"), "size": size, "metadata": meta,
               "project_id": ctx.project, "user_id": ctx.user, "created": t, "updated": t, "snapshot_id": req.get("snapshot_id"),
               "source_volid": req.get("source_volid"), "attachments": [], "events": []}
        add_event(vol, "creating", t, min(0.5, ctx.boot_s / 4), "available")
        path = backing_path(ctx.state_dir, vid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(size * 1024**3)  # sparse: takes no disk until written
        vol["backing_file"] = str(path)
        ctx.store.put("volume", vid, vol)
    return reply({"volume": view(ctx, vol, t)}, 202)


def _listing(ctx: Ctx, pid: str, detail: bool) -> Any:
    _project(ctx, pid)
    validate.limit(ctx)
    t = now()
    args = ctx.request.args
    vols = sorted(ctx.store.find("volume", project_id=ctx.project), key=lambda v: v["created"], reverse=True)
    if args.get("name"):
        vols = [v for v in vols if v["name"] == args["name"]]
    if args.get("status"):
        vols = [v for v in vols if status_at(v, t) == args["status"]]
    if args.get("metadata"):
        import ast

        try:
            want = ast.literal_eval(args["metadata"])
        except (ValueError, SyntaxError):
            raise ctx.bad(f"Invalid filter: metadata={args['metadata']!r} is not a mapping.") from None
        if not isinstance(want, dict):
            raise ctx.bad(f"Invalid filter: metadata={args['metadata']!r} is not a mapping.")
        vols = [v for v in vols if all(v["metadata"].get(k) == val for k, val in want.items())]
    return reply({"volumes": [view(ctx, v, t, detail) for v in paginate(ctx, vols)]})


@routes("/v3/<pid>/volumes", "GET")
def list_volumes(ctx: Ctx, pid: str) -> Any:
    return _listing(ctx, pid, detail=False)


@routes("/v3/<pid>/volumes/detail", "GET")
def list_volumes_detail(ctx: Ctx, pid: str) -> Any:
    return _listing(ctx, pid, detail=True)


@routes("/v3/<pid>/volumes/<vid>", "GET")
def show_volume(ctx: Ctx, pid: str, vid: str) -> Any:
    _project(ctx, pid)
    return reply({"volume": view(ctx, get_volume(ctx, vid), now())})


@routes("/v3/<pid>/volumes/<vid>", "PUT")
def update_volume(ctx: Ctx, pid: str, vid: str) -> Any:
    _project(ctx, pid)
    req = ctx.body("volume")
    check_fields(ctx, req)
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        for key in ("name", "description", "metadata"):
            if key in req:
                vol[key] = req[key]
        vol["updated"] = now()
        ctx.store.put("volume", vid, vol)
    return reply({"volume": view(ctx, vol, now())})


@routes("/v3/<pid>/volumes/<vid>", "DELETE")
def delete_volume(ctx: Ctx, pid: str, vid: str) -> Any:
    _project(ctx, pid)
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        status = status_at(vol, now())
        if status not in ("available", "error", "error_restoring", "error_extending") or ctx.store.find("snapshot", volume_id=vid):
            raise ctx.bad("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing "
                          "and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                          "from snapshots after volume transfer.", 400)
        ctx.store.delete("volume", vid)
        backing_path(ctx.state_dir, vid).unlink(missing_ok=True)
    return reply(None, 202)


@routes("/v3/<pid>/volumes/<vid>/action", "POST")
def volume_action(ctx: Ctx, pid: str, vid: str) -> Any:
    _project(ctx, pid)
    body = ctx.body()
    if not isinstance(body, dict) or len(body) != 1:
        raise ctx.bad("Invalid action: exactly one action is expected in the body.")
    (action, arg), = body.items()
    validate.mapping(ctx, arg, action, allow_none=True)
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        t = now()
        if action == "os-extend":
            new = _size(ctx, (arg or {}).get("new_size"), "new_size")
            if status_at(vol, t) != "available" and not ctx.mv(3, 42):
                raise ctx.bad(f"Invalid volume: Volume {vid} status must be available to extend, but current status is: {status_at(vol, t)}.")
            if new <= vol["size"]:
                raise ctx.bad(f"Invalid input received: New size for extend must be greater than current size. (current: {vol['size']}, extended: {new}).")
            _check_quota(ctx, new - vol["size"], None)
            vol["size"] = new
            os.truncate(backing_path(ctx.state_dir, vid), new * 1024**3)
        elif action in ("os-set_bootable", "os-update_readonly_flag", "os-reset_status"):
            if action == "os-reset_status":
                ctx.forbid_non_admin("volume_extension:volume_admin_actions:reset_status")
                add_event(vol, validate.one_of(ctx, (arg or {}).get("status", "available"), "status", RESET_STATES), t)
        else:
            raise ctx.bad(f"There is no such action: {action}")
        vol["updated"] = t
        ctx.store.put("volume", vid, vol)
    return reply(None, 202)


def attach(ctx: Ctx, vid: str, server: dict[str, Any]) -> dict[str, Any]:
    """Nova's side of an attach: reserve the volume and give it the next device name."""
    vol = ctx.store.get("volume", vid)
    if not vol or vol["project_id"] != ctx.project:
        raise ctx.bad(f"Volume {vid} could not be found.", 404)
    status = status_at(vol, now())
    if status != "available":
        raise ctx.bad(f"Invalid volume: volume {vid} status must be available or downloading to reserve, but the current status is {status}.", 400)
    used = {a["device"] for v in server["volumes"] for a in (ctx.store.get("volume", v) or {"attachments": []})["attachments"]}
    device = next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{c}" not in used)
    att_id = str(uuid.uuid4())
    vol["attachments"] = [{"id": vid, "attachment_id": att_id, "volume_id": vid, "server_id": server["id"], "host_name": server.get("host"),
                           "device": device, "attached_at": iso(now(), micro=True), "bdm_uuid": str(uuid.uuid4())}]
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


from . import volume_extras  # noqa: E402,F401  (metadata, snapshots, types, quotas)
