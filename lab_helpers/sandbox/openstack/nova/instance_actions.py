"""Nova's instance actions (``os-instance-actions``): each action on a server is recorded as it
happens, with the request id its response carries, and stays readable after the server is gone.
"""

from __future__ import annotations

import uuid
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...store import iso, now
from .common import parse_time
from .placement import host_id

routes = Routes()

# -- instance actions (os-instance-actions) ----------------------------------------------------
EVENTS = {  # action -> the compute event Nova records for it
    "create": "compute__do_build_and_run_instance",
    "delete": "compute_terminate_instance",
    "stop": "compute_stop_instance",
    "start": "compute_start_instance",
    "reboot": "compute_reboot_instance",
    "suspend": "compute_suspend_instance",
    "resume": "compute_resume_instance",
    "shelve": "compute_shelve_instance",
    "unshelve": "compute_unshelve_instance",
    "attach_volume": "compute_attach_volume",
    "detach_volume": "compute_detach_volume",
    "attach_interface": "compute_attach_interface",
    "detach_interface": "compute_detach_interface",
}


def record(
    ctx: Ctx, server: dict[str, Any], action: str, settle_s: float = 0.0, result: str = "Success"
) -> dict[str, str]:
    """Store one instance action; returns the request-id headers its response must carry."""
    rid = "req-" + str(uuid.uuid4())
    t = now()
    ctx.store.put(
        "instance_action",
        rid,
        {
            "request_id": rid,
            "server_id": server["id"],
            "project_id": server["project_id"],
            "user_id": ctx.user,
            "action": action,
            "start": t,
            "finish": t + settle_s,
            "result": result,
            "host": server.get("host"),
            "message": None,
        },
        parent=server["id"],
    )
    return {"X-Openstack-Request-Id": rid, "X-Compute-Request-Id": rid}


def _action_view(ctx: Ctx, a: dict[str, Any], with_events: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": a["action"],
        "instance_uuid": a["server_id"],
        "message": a["message"],
        "project_id": a["project_id"],
        "request_id": a["request_id"],
        "start_time": iso(a["start"], micro=True),
        "user_id": a["user_id"],
    }
    if ctx.mv(2, 58):
        body["updated_at"] = iso(a["finish"], micro=True)
    if with_events:
        finished = a["finish"] <= now()
        event: dict[str, Any] = {
            "event": EVENTS.get(a["action"], "compute_" + a["action"]),
            "start_time": iso(a["start"], micro=True),
            "finish_time": iso(a["finish"], micro=True) if finished else None,
            "result": a["result"] if finished else None,
        }
        if ctx.is_admin:
            event["traceback"] = None
        if ctx.mv(2, 62):
            event["hostId"] = host_id(a["project_id"], a["host"]) if a.get("host") else ""
            if ctx.is_admin:
                event["host"] = a.get("host") or ""
        if ctx.mv(2, 84):
            event["details"] = None
        body["events"] = [event] if (ctx.is_admin or ctx.mv(2, 51)) else []
    return body


def _actions_of(ctx: Ctx, sid: str) -> list[dict[str, Any]]:
    """A server's actions, newest first; those of a deleted server stay readable (as since 2.21)."""
    acts = ctx.store.list("instance_action", parent=sid)
    server = ctx.store.get("server", sid)
    if server is None and (not acts or not ctx.mv(2, 21)) or (server or acts[0])["project_id"] != ctx.project:
        raise ctx.bad(f"Instance {sid} could not be found.", 404)
    return sorted(acts, key=lambda a: a["start"], reverse=True)


@routes("/servers/<sid>/os-instance-actions", "GET")
def list_actions(ctx: Ctx, sid: str) -> Any:
    acts = _actions_of(ctx, sid)
    limit = validate.limit(ctx)
    since = ctx.request.args.get("changes-since")
    if since:
        start = parse_time(ctx, since)
        acts = [a for a in acts if a["finish"] >= start]
    marker = ctx.request.args.get("marker")
    if marker:
        ids = [a["request_id"] for a in acts]
        if marker not in ids:
            raise ctx.bad(f"Marker {marker} could not be found.")
        acts = acts[ids.index(marker) + 1 :]
    if limit is not None:
        acts = acts[:limit]
    return reply({"instanceActions": [_action_view(ctx, a, False) for a in acts]})


@routes("/servers/<sid>/os-instance-actions/<rid>", "GET")
def show_action(ctx: Ctx, sid: str, rid: str) -> Any:
    for a in _actions_of(ctx, sid):
        if a["request_id"] == rid:
            return reply({"instanceAction": _action_view(ctx, a, True)})
    raise ctx.bad(f"Action for request_id {rid} on instance {sid} not found", 404)
