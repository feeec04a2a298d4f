"""Cinder v3's volumes: create (creating -> available), list, show, update, delete, extend and the
admin's reset-status. Each volume is a real sparse file under the sandbox's state directory
(``files.py``), so an I/O measurement on it (lab 04) measures this machine's disk."""

from __future__ import annotations

import os
import uuid
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...events import add_event, status_at
from ...files import backing_path
from ...queries import paginate
from ...store import now
from .common import MAX_VERSION, RESET_STATES, check_fields, check_project, check_quota, get_volume, view

routes = Routes()


def _version(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": "3.0",
        "updated": "2023-08-31T00:00:00Z",
        "links": [{"href": f"{ctx.base}/volume/v3/", "rel": "self"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@routes("/", "GET", public=True)
@routes("/v3/", "GET", public=True)
def versions(ctx: Ctx) -> Any:
    return reply({"versions": [_version(ctx)]}, 300 if ctx.request.path.rstrip("/") == "/volume" else 200)


def _size(ctx: Ctx, raw: Any, field: str = "size") -> int:
    try:
        if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
            raise TypeError(raw)
        size = int(raw)
    except (TypeError, ValueError):
        raise ctx.bad(
            f"Invalid input for field/attribute {field}. Value: {raw}. {raw!r} is not valid under any of the given schemas"
        ) from None
    if size < 1:
        raise ctx.bad(f"Invalid input for field/attribute {field}. Value: {size}. {size} is less than the minimum of 1")
    return size


@routes("/v3/<pid>/volumes", "POST")
def create_volume(ctx: Ctx, pid: str) -> Any:
    check_project(ctx, pid)
    req = ctx.body("volume")
    check_fields(ctx, req)
    snap = ctx.store.get("snapshot", req["snapshot_id"]) if req.get("snapshot_id") else None
    if req.get("snapshot_id") and (not snap or snap["project_id"] != ctx.project):
        raise ctx.bad(f"Snapshot {req['snapshot_id']} could not be found.", 404)
    size = _size(ctx, req.get("size") or (snap or {}).get("size"))
    meta = req.get("metadata") or {}
    with ctx.store.tx():
        check_quota(ctx, size, "volumes")
        t = now()
        vid = str(uuid.uuid4())
        vol = {
            "id": vid,
            "name": req.get("name"),
            "description": req.get("description"),
            "size": size,
            "metadata": meta,
            "project_id": ctx.project,
            "user_id": ctx.user,
            "created": t,
            "updated": t,
            "snapshot_id": req.get("snapshot_id"),
            "source_volid": req.get("source_volid"),
            "attachments": [],
            "events": [],
        }
        add_event(vol, "creating", t, min(0.5, ctx.boot_s / 4), "available")
        path = backing_path(ctx.state_dir, vid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(size * 1024**3)  # sparse: takes no disk until written
        vol["backing_file"] = str(path)
        ctx.store.put("volume", vid, vol)
    return reply({"volume": view(ctx, vol, t)}, 202)


def _listing(ctx: Ctx, pid: str, detail: bool) -> Any:
    check_project(ctx, pid)
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
    check_project(ctx, pid)
    return reply({"volume": view(ctx, get_volume(ctx, vid), now())})


@routes("/v3/<pid>/volumes/<vid>", "PUT")
def update_volume(ctx: Ctx, pid: str, vid: str) -> Any:
    check_project(ctx, pid)
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
    check_project(ctx, pid)
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        status = status_at(vol, now())
        if status not in ("available", "error", "error_restoring", "error_extending") or ctx.store.find(
            "snapshot", volume_id=vid
        ):
            raise ctx.bad(
                "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing "
                "and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                "from snapshots after volume transfer.",
                400,
            )
        ctx.store.delete("volume", vid)
        backing_path(ctx.state_dir, vid).unlink(missing_ok=True)
    return reply(None, 202)


@routes("/v3/<pid>/volumes/<vid>/action", "POST")
def volume_action(ctx: Ctx, pid: str, vid: str) -> Any:
    check_project(ctx, pid)
    body = ctx.body()
    if not isinstance(body, dict) or len(body) != 1:
        raise ctx.bad("Invalid action: exactly one action is expected in the body.")
    ((action, arg),) = body.items()
    validate.mapping(ctx, arg, action, allow_none=True)
    with ctx.store.tx():
        vol = get_volume(ctx, vid)
        t = now()
        if action == "os-extend":
            new = _size(ctx, (arg or {}).get("new_size"), "new_size")
            if status_at(vol, t) != "available" and not ctx.mv(3, 42):
                raise ctx.bad(
                    f"Invalid volume: Volume {vid} status must be available to extend, but current status is: {status_at(vol, t)}."
                )
            if new <= vol["size"]:
                raise ctx.bad(
                    "Invalid input received: New size for extend must be greater than current size. "
                    f"(current: {vol['size']}, extended: {new})."
                )
            check_quota(ctx, new - vol["size"], None)
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
