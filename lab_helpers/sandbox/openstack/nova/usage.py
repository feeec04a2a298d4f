"""Nova's simple tenant usage (``openstack usage show``, ``usage list``): server hours, vCPU,
RAM and disk hours per project over a period, computed from the servers' events, deleted
servers included."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...api import Ctx, Routes, reply
from ...events import status_at
from ...store import now
from .common import parse_time

routes = Routes()


def _usage_rows(ctx: Ctx, project: str | None, start: float, stop: float) -> dict[str, list[dict[str, Any]]]:
    """Per project, one row per server that existed in [start, stop] (deleted ones included)."""
    t = now()
    out: dict[str, list[dict[str, Any]]] = {}
    docs = [(s, None) for s in ctx.store.list("server")] + [
        (dict(u, flavor=u["flavor_detail"]), u["deleted"]) for u in ctx.store.list("usage") if u.get("flavor_detail")
    ]
    for s, deleted in docs:
        pid = s.get("project_id")
        if project is not None and pid != project:
            continue
        if s["created"] > stop or (deleted is not None and deleted < start):
            continue
        lo, hi = max(start, s["created"]), min(stop, deleted if deleted else t)
        hours = max(0.0, hi - lo) / 3600.0
        f = s["flavor"]
        state = (
            "terminated"
            if deleted
            else {"SHUTOFF": "stopped", "SHELVED_OFFLOADED": "shelved_offloaded"}.get(
                status_at(s, t), status_at(s, t).lower()
            )
        )
        out.setdefault(pid, []).append(
            {
                "instance_id": s["id"],
                "name": s["name"],
                "hours": hours,
                "memory_mb": f["ram"],
                "local_gb": f["disk"],
                "vcpus": f["vcpus"],
                "tenant_id": pid,
                "flavor": f["original_name"],
                "started_at": dt.datetime.fromtimestamp(s["created"], dt.timezone.utc).replace(tzinfo=None).isoformat(),
                "ended_at": dt.datetime.fromtimestamp(deleted, dt.timezone.utc).replace(tzinfo=None).isoformat()
                if deleted
                else None,
                "state": state,
                "uptime": int((deleted or t) - s["created"]),
            }
        )
    return out


def _usage(pid: str, rows: list[dict[str, Any]], start: float, stop: float, detailed: bool) -> dict[str, Any]:
    def stamp(ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None).isoformat()

    body: dict[str, Any] = {
        "tenant_id": pid,
        "start": stamp(start),
        "stop": stamp(stop),
        "total_hours": sum(r["hours"] for r in rows),
        "total_vcpus_usage": sum(r["hours"] * r["vcpus"] for r in rows),
        "total_memory_mb_usage": sum(r["hours"] * r["memory_mb"] for r in rows),
        "total_local_gb_usage": sum(r["hours"] * r["local_gb"] for r in rows),
    }
    if detailed:
        body["server_usages"] = rows
    return body


def _period(ctx: Ctx) -> tuple[float, float]:
    start = parse_time(ctx, ctx.request.args.get("start"))
    stop = parse_time(ctx, ctx.request.args.get("end"))
    if start > stop:
        raise ctx.bad("Invalid start time. The start time cannot occur after the end time.")
    return start, stop


@routes("/os-simple-tenant-usage", "GET")
def usage_index(ctx: Ctx) -> Any:
    ctx.forbid_non_admin("os_compute_api:os-simple-tenant-usage:list")
    start, stop = _period(ctx)
    detailed = ctx.request.args.get("detailed") == "1"
    table = _usage_rows(ctx, None, start, stop)
    return reply({"tenant_usages": [_usage(pid, rows, start, stop, detailed) for pid, rows in sorted(table.items())]})


@routes("/os-simple-tenant-usage/<pid>", "GET")
def usage_show(ctx: Ctx, pid: str) -> Any:
    if pid != ctx.project and not ctx.is_admin:
        raise ctx.bad("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.", 403)
    start, stop = _period(ctx)
    rows = _usage_rows(ctx, pid, start, stop).get(pid)
    return reply({"tenant_usage": _usage(pid, rows, start, stop, True) if rows else {}})
