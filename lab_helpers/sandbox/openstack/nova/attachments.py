"""Nova's volume attachments (``os-volume_attachments``, the 2.89 shape): Nova's side of an
attach and a detach; the volume's side is Cinder's (``cinder/common``)."""

from __future__ import annotations

from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...events import status_at
from ...store import now
from ..cinder.common import attach, mark_detached
from .common import get_server
from .instance_actions import record

routes = Routes()


def _attachment(ctx: Ctx, vol: dict[str, Any], sid: str) -> dict[str, Any]:
    att = next(a for a in vol["attachments"] if a["server_id"] == sid)
    body = {
        "volumeId": vol["id"],
        "serverId": sid,
        "device": att["device"],
        "tag": None,
        "delete_on_termination": False,
    }
    if ctx.mv(2, 89):
        body.update({"attachment_id": att["attachment_id"], "bdm_uuid": att["bdm_uuid"]})
    else:
        body["id"] = vol["id"]
    return body


@routes("/servers/<sid>/os-volume_attachments", "GET", "POST")
def volume_attachments(ctx: Ctx, sid: str) -> Any:
    if ctx.request.method == "GET":
        s = get_server(ctx, sid)
        vols = [ctx.store.get("volume", v) for v in s["volumes"]]
        return reply({"volumeAttachments": [_attachment(ctx, v, sid) for v in vols if v]})
    req = ctx.body("volumeAttachment")
    validate.string(ctx, req.get("volumeId"), "volumeId", min_len=1, max_len=255)
    validate.string(ctx, req.get("device"), "device", max_len=255, allow_none=True)
    with ctx.store.tx():
        s = get_server(ctx, sid)
        if status_at(s, now()) not in ("ACTIVE", "SHUTOFF"):
            raise ctx.bad(
                f"Cannot 'attach_volume' instance {sid} while it is in vm_state {status_at(s, now()).lower()}", 409
            )
        vol = attach(ctx, str(req.get("volumeId", "")), s)
        s["volumes"].append(vol["id"])
        headers = record(ctx, s, "attach_volume")
        ctx.store.put("server", sid, s)
    return reply({"volumeAttachment": _attachment(ctx, vol, sid)}, 200, headers)


@routes("/servers/<sid>/os-volume_attachments/<vid>", "GET", "DELETE")
def volume_attachment(ctx: Ctx, sid: str, vid: str) -> Any:
    with ctx.store.tx():
        s = get_server(ctx, sid)
        vol = ctx.store.get("volume", vid)
        if vid not in s["volumes"] or not vol:
            raise ctx.bad(f"volume_id not found: {vid}", 404)
        if ctx.request.method == "GET":
            return reply({"volumeAttachment": _attachment(ctx, vol, sid)})
        mark_detached(ctx.store, vid, sid)
        s["volumes"].remove(vid)
        headers = record(ctx, s, "detach_volume")
        ctx.store.put("server", sid, s)
    return reply(None, 202, headers)
