"""Nova around a server: its security groups and interfaces (read from its Neutron ports),
server groups, instance actions (recorded as they happen, with their request ids) and the
simple tenant usage report (``openstack usage show``), computed from the servers' events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from . import catalog_data, network, placement, validate
from .api import Ctx, reply
from .compute import get_server, routes
from .compute_extras import SERVER_GROUP_MEMBERS, SERVER_GROUPS
from .metering import status_at
from .store import iso, now


# -- instance actions (os-instance-actions) ----------------------------------------------------
EVENTS = {  # action -> the compute event Nova records for it
    "create": "compute__do_build_and_run_instance", "delete": "compute_terminate_instance",
    "stop": "compute_stop_instance", "start": "compute_start_instance", "reboot": "compute_reboot_instance",
    "suspend": "compute_suspend_instance", "resume": "compute_resume_instance", "shelve": "compute_shelve_instance",
    "unshelve": "compute_unshelve_instance", "attach_volume": "compute_attach_volume",
    "detach_volume": "compute_detach_volume", "attach_interface": "compute_attach_interface",
    "detach_interface": "compute_detach_interface",
}


def record(ctx: Ctx, server: dict[str, Any], action: str, settle_s: float = 0.0, result: str = "Success") -> dict[str, str]:
    """Store one instance action; returns the request-id headers its response must carry."""
    rid = "req-" + str(uuid.uuid4())
    t = now()
    ctx.store.put("instance_action", rid, {
        "request_id": rid, "server_id": server["id"], "project_id": server["project_id"], "user_id": ctx.user,
        "action": action, "start": t, "finish": t + settle_s, "result": result, "host": server.get("host"), "message": None,
    }, parent=server["id"])
    return {"X-Openstack-Request-Id": rid, "X-Compute-Request-Id": rid}


def _action_view(ctx: Ctx, a: dict[str, Any], with_events: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"action": a["action"], "instance_uuid": a["server_id"], "message": a["message"],
                            "project_id": a["project_id"], "request_id": a["request_id"], "start_time": iso(a["start"], micro=True),
                            "user_id": a["user_id"]}
    if ctx.mv(2, 58):
        body["updated_at"] = iso(a["finish"], micro=True)
    if with_events:
        finished = a["finish"] <= now()
        event: dict[str, Any] = {"event": EVENTS.get(a["action"], "compute_" + a["action"]), "start_time": iso(a["start"], micro=True),
                                 "finish_time": iso(a["finish"], micro=True) if finished else None,
                                 "result": a["result"] if finished else None}
        if ctx.is_admin:
            event["traceback"] = None
        if ctx.mv(2, 62):
            event["hostId"] = placement.host_id(a["project_id"], a["host"]) if a.get("host") else ""
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
        start = _parse_time(ctx, since, "changes-since")
        acts = [a for a in acts if a["finish"] >= start]
    marker = ctx.request.args.get("marker")
    if marker:
        ids = [a["request_id"] for a in acts]
        if marker not in ids:
            raise ctx.bad(f"Marker {marker} could not be found.")
        acts = acts[ids.index(marker) + 1:]
    if limit is not None:
        acts = acts[:limit]
    return reply({"instanceActions": [_action_view(ctx, a, False) for a in acts]})


@routes("/servers/<sid>/os-instance-actions/<rid>", "GET")
def show_action(ctx: Ctx, sid: str, rid: str) -> Any:
    for a in _actions_of(ctx, sid):
        if a["request_id"] == rid:
            return reply({"instanceAction": _action_view(ctx, a, True)})
    raise ctx.bad(f"Action for request_id {rid} on instance {sid} not found", 404)


# -- a server's security groups (Nova's view of its ports' groups) -----------------------------
def _nova_rule(r: dict[str, Any], store: Any) -> dict[str, Any]:
    group = {}
    if r.get("remote_group_id"):
        g = store.get("security_group", r["remote_group_id"])
        group = {"name": g["name"], "tenant_id": g["project_id"]} if g else {}
    return {"id": r["id"], "parent_group_id": r["security_group_id"], "ip_protocol": r.get("protocol"),
            "from_port": r.get("port_range_min") if r.get("port_range_min") is not None else -1,
            "to_port": r.get("port_range_max") if r.get("port_range_max") is not None else -1,
            "ip_range": {"cidr": r["remote_ip_prefix"]} if r.get("remote_ip_prefix") else {}, "group": group}


@routes("/servers/<sid>/os-security-groups", "GET")
def server_security_groups(ctx: Ctx, sid: str) -> Any:
    s = get_server(ctx, sid)
    ids: list[str] = []
    for port in ctx.store.list("port", parent=sid):
        for gid in port.get("security_groups") or []:
            if isinstance(gid, str) and gid not in ids:
                ids.append(gid)
    groups = [g for g in (ctx.store.get("security_group", gid) for gid in ids) if g]
    if not ids:  # a server without ports still names its groups
        groups = [g for g in (network.find_security_group(ctx.store, ctx.project, n) for n in s["security_groups"]) if g]
    out = [{"id": g["id"], "name": g["name"], "description": g.get("description", ""), "tenant_id": g["project_id"],
            "rules": [_nova_rule(r, ctx.store) for r in g.get("security_group_rules", []) if r.get("direction") == "ingress"]}
           for g in groups]
    return reply({"security_groups": out})


# -- interfaces (os-interface) ------------------------------------------------------------------
def _interface(ctx: Ctx, port: dict[str, Any]) -> dict[str, Any]:
    body = {"port_state": port.get("status", "ACTIVE"), "port_id": port["id"], "net_id": port["network_id"],
            "mac_addr": port["mac_address"], "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in port["fixed_ips"]]}
    if ctx.mv(2, 70):
        body["tag"] = None
    return body


@routes("/servers/<sid>/os-interface", "GET", "POST")
def interfaces(ctx: Ctx, sid: str) -> Any:
    if ctx.request.method == "GET":
        get_server(ctx, sid)
        return reply({"interfaceAttachments": [_interface(ctx, p) for p in ctx.store.list("port", parent=sid)]})
    req = ctx.body("interfaceAttachment")
    net_id = validate.string(ctx, req.get("net_id"), "net_id", min_len=1, max_len=255, allow_none=True)
    port_id = validate.string(ctx, req.get("port_id"), "port_id", min_len=1, max_len=255, allow_none=True)
    if net_id and port_id:
        raise ctx.bad("Must not input both network_id and port_id")
    fixed = req.get("fixed_ips")
    if fixed is not None and (not isinstance(fixed, list) or not all(isinstance(f, dict) and isinstance(f.get("ip_address"), str) for f in fixed)):
        raise validate.invalid(ctx, "fixed_ips", fixed, "expected a list of {'ip_address': <string>}")
    with ctx.store.tx():
        s = get_server(ctx, sid)
        if status_at(s, now()) not in ("ACTIVE", "SHUTOFF", "SUSPENDED"):
            raise ctx.bad(f"Cannot 'attach_interface' instance {sid} while it is in vm_state {status_at(s, now()).lower()}", 409)
        group_ids = [g["id"] for g in ctx.store.list("security_group") if g["name"] in s["security_groups"] and g["project_id"] == ctx.project]
        if port_id:
            port = ctx.store.get("port", port_id)
            if not port or port["project_id"] != ctx.project:
                raise ctx.bad(f"Port {port_id} could not be found.", 404)
            if port.get("device_id"):
                raise ctx.bad(f"Port {port_id} is still in use.", 409)
            network.bind_port(ctx.store, ctx.project, port["network_id"], port_id, sid, group_ids)
            s.setdefault("user_ports", []).append(port_id)
        else:
            net = ctx.store.get("network", net_id) if net_id else network.default_network(ctx.store, ctx.project)
            if not net or (net["project_id"] != ctx.project and not net.get("shared")):
                raise ctx.bad(f"Network {net_id} could not be found.", 404)
            if net.get("router:external"):
                raise ctx.bad(f"Network {net['id']} is external: attach it through a floating IP instead.", 400)
            before = {p["id"] for p in ctx.store.list("port", parent=sid)}
            network.bind_port(ctx.store, ctx.project, net["id"], None, sid, group_ids)
            port_id = next(p["id"] for p in ctx.store.list("port", parent=sid) if p["id"] not in before)
        headers = record(ctx, s, "attach_interface")
        ctx.store.put("server", sid, s)
        port = ctx.store.get("port", port_id)
    return reply({"interfaceAttachment": _interface(ctx, port)}, 200, headers)


@routes("/servers/<sid>/os-interface/<port_id>", "GET", "DELETE")
def interface(ctx: Ctx, sid: str, port_id: str) -> Any:
    with ctx.store.tx():
        s = get_server(ctx, sid)
        port = ctx.store.get("port", port_id)
        if not port or port.get("device_id") != sid:
            raise ctx.bad(f"Port {port_id} is not attached", 404)
        if ctx.request.method == "GET":
            return reply({"interfaceAttachment": _interface(ctx, port)})
        for fip in ctx.store.list("floatingip", parent=port_id):
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            ctx.store.put("floatingip", fip["id"], fip)
        if port_id in s.get("user_ports", []):  # a port the learner made is kept, unbound; one Nova made goes away
            port.update(device_id="", device_owner="", status="DOWN")
            ctx.store.put("port", port_id, port)
            s["user_ports"].remove(port_id)
        else:
            ctx.store.delete("port", port_id)
        headers = record(ctx, s, "detach_interface")
        ctx.store.put("server", sid, s)
    return reply(None, 202, headers)


# -- server groups ---------------------------------------------------------------------------------
POLICIES_OLD = ("affinity", "anti-affinity")
POLICIES_SOFT = ("soft-affinity", "soft-anti-affinity")


def _group_view(ctx: Ctx, g: dict[str, Any]) -> dict[str, Any]:
    members = [m for m in g["members"] if ctx.store.get("server", m)]
    body: dict[str, Any] = {"id": g["id"], "name": g["name"], "members": members}
    if ctx.mv(2, 64):
        body.update({"policy": g["policy"], "rules": g["rules"]})
    else:
        body.update({"policies": [g["policy"]], "metadata": {}})
    if ctx.mv(2, 13):
        body.update({"project_id": g["project_id"], "user_id": g["user_id"]})
    return body


def _get_group(ctx: Ctx, gid: str) -> dict[str, Any]:
    g = ctx.store.get("server_group", gid)
    if not g or (g["project_id"] != ctx.project and not ctx.is_admin):
        raise ctx.bad(f"Server group {gid} could not be found.", 404)
    return g


def _checked_group(ctx: Ctx, req: dict[str, Any]) -> tuple[str, str, dict[str, int]]:
    name = validate.name(ctx, req.get("name"))
    allowed = POLICIES_OLD + (POLICIES_SOFT if ctx.mv(2, 15) else ())
    if ctx.mv(2, 64):
        if "policies" in req:
            raise validate.invalid(ctx, "server_group", req, "Additional properties are not allowed ('policies' was unexpected)")
        policy = validate.one_of(ctx, req.get("policy"), "policy", allowed)
        rules = validate.mapping(ctx, req.get("rules", {}), "rules")
        if set(rules) - {"max_server_per_host"}:
            raise validate.invalid(ctx, "rules", rules, "Additional properties are not allowed")
        if rules:
            if policy != "anti-affinity":
                raise ctx.bad(f"Only anti-affinity policy supports the rules parameter, got {policy!r} policy.")
            validate.integer(ctx, rules["max_server_per_host"], "max_server_per_host", lo=1, from_string=False)
        return name, policy, {k: int(v) for k, v in rules.items()}
    if "policy" in req or "rules" in req:
        raise validate.invalid(ctx, "server_group", req, "Additional properties are not allowed ('policy' was unexpected; it needs 2.64)")
    policies = validate.str_list(ctx, req.get("policies"), "policies", max_items=1, min_len=1)
    if len(policies) != 1:
        raise validate.invalid(ctx, "policies", policies, "[] is too short")
    return name, validate.one_of(ctx, policies[0], "policies", allowed), {}


@routes("/os-server-groups", "GET", "POST")
def server_groups(ctx: Ctx) -> Any:
    if ctx.request.method == "GET":
        every = ctx.is_admin and str(ctx.request.args.get("all_projects", "")).lower() in ("true", "1", "yes")
        groups = [g for g in ctx.store.list("server_group") if every or g["project_id"] == ctx.project]
        limit, offset = validate.limit(ctx), validate.query_int(ctx, "offset", lo=0) or 0
        groups = groups[offset:] if limit is None else groups[offset: offset + limit]
        return reply({"server_groups": [_group_view(ctx, g) for g in groups]})
    name, policy, rules = _checked_group(ctx, ctx.body("server_group"))
    with ctx.store.tx():
        if len(ctx.store.find("server_group", project_id=ctx.project)) >= SERVER_GROUPS:
            raise ctx.bad("Quota exceeded, too many server groups.", 403)
        g = {"id": str(uuid.uuid4()), "name": name, "policy": policy, "rules": rules, "members": [],
             "project_id": ctx.project, "user_id": ctx.user, "created": now()}
        ctx.store.put("server_group", g["id"], g)
    return reply({"server_group": _group_view(ctx, g)})


@routes("/os-server-groups/<gid>", "GET", "DELETE")
def server_group(ctx: Ctx, gid: str) -> Any:
    if ctx.request.method == "GET":
        return reply({"server_group": _group_view(ctx, _get_group(ctx, gid))})
    with ctx.store.tx():
        g = _get_group(ctx, gid)
        for sid in g["members"]:
            s = ctx.store.get("server", sid)
            if s:
                s["server_groups"] = [x for x in s.get("server_groups", []) if x != gid]
                ctx.store.put("server", sid, s)
        ctx.store.delete("server_group", gid)
    return reply(None, 204)


def group_hint(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any] | None:
    """The server group a create names in its scheduler hints (checked, and with room for one more)."""
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    validate.mapping(ctx, hints, "os:scheduler_hints")
    gid = hints.get("group")
    if gid is None:
        return None
    validate.string(ctx, gid, "group", min_len=1, max_len=255)
    g = ctx.store.get("server_group", gid)
    if not g or g["project_id"] != ctx.project:
        raise ctx.bad(f"Invalid server group {gid}: it could not be found.", 400)
    live = [m for m in g["members"] if ctx.store.get("server", m)]
    if len(live) >= SERVER_GROUP_MEMBERS:
        raise ctx.bad("Quota exceeded, too many servers in group", 403)
    return g


def pick_host_in_group(ctx: Ctx, flavor: catalog_data.Flavor, g: dict[str, Any]) -> Any:
    """A host for a new member that honours the group's policy (soft ones fall back to any host)."""
    table = placement.usage(ctx.store)
    taken: dict[str, int] = {}
    for m in g["members"]:
        s = ctx.store.get("server", m)
        if s and s.get("host"):
            taken[s["host"]] = taken.get(s["host"], 0) + 1
    per_host = g["rules"].get("max_server_per_host", 1)
    fits = [h for h in catalog_data.hosts() if placement.fits(h, table[h.name], flavor)]
    if g["policy"] in ("anti-affinity", "soft-anti-affinity"):
        good = [h for h in fits if taken.get(h.name, 0) < per_host]
    else:
        good = [h for h in fits if not taken or h.name in taken]
    if not good and g["policy"].startswith("soft-"):
        good = fits
    return good[0] if good else None


def join_group(ctx: Ctx, g: dict[str, Any], server: dict[str, Any]) -> None:
    g["members"] = [m for m in g["members"] if ctx.store.get("server", m)] + [server["id"]]
    ctx.store.put("server_group", g["id"], g)
    server["server_groups"] = [g["id"]]


def leave_groups(ctx: Ctx, server: dict[str, Any]) -> None:
    for gid in server.get("server_groups", []):
        g = ctx.store.get("server_group", gid)
        if g:
            g["members"] = [m for m in g["members"] if m != server["id"]]
            ctx.store.put("server_group", gid, g)


# -- simple tenant usage ------------------------------------------------------------------------------
def _parse_time(ctx: Ctx, raw: str | None, field: str) -> float:
    """Nova's accepted timestamps (ISO 8601, with or without fraction or offset); absent -> now."""
    if not raw:
        return now()
    text = raw.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ctx.bad(f"Invalid input received: Datetime is in invalid format: {raw[:80]}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def _usage_rows(ctx: Ctx, project: str | None, start: float, stop: float) -> dict[str, list[dict[str, Any]]]:
    """Per project, one row per server that existed in [start, stop] (deleted ones included)."""
    t = now()
    out: dict[str, list[dict[str, Any]]] = {}
    docs = [(s, None) for s in ctx.store.list("server")] + [(dict(u, flavor=u["flavor_detail"]), u["deleted"]) for u in ctx.store.list("usage") if u.get("flavor_detail")]
    for s, deleted in docs:
        pid = s.get("project_id")
        if project is not None and pid != project:
            continue
        if s["created"] > stop or (deleted is not None and deleted < start):
            continue
        lo, hi = max(start, s["created"]), min(stop, deleted if deleted else t)
        hours = max(0.0, hi - lo) / 3600.0
        f = s["flavor"]
        state = "terminated" if deleted else {"SHUTOFF": "stopped", "SHELVED_OFFLOADED": "shelved_offloaded"}.get(
            status_at(s, t), status_at(s, t).lower())
        out.setdefault(pid, []).append({
            "instance_id": s["id"], "name": s["name"], "hours": hours, "memory_mb": f["ram"], "local_gb": f["disk"],
            "vcpus": f["vcpus"], "tenant_id": pid, "flavor": f["original_name"],
            "started_at": dt.datetime.fromtimestamp(s["created"], dt.timezone.utc).replace(tzinfo=None).isoformat(),
            "ended_at": dt.datetime.fromtimestamp(deleted, dt.timezone.utc).replace(tzinfo=None).isoformat() if deleted else None,
            "state": state, "uptime": int((deleted or t) - s["created"]),
        })
    return out


def _usage(pid: str, rows: list[dict[str, Any]], start: float, stop: float, detailed: bool) -> dict[str, Any]:
    def stamp(ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None).isoformat()

    body: dict[str, Any] = {
        "tenant_id": pid, "start": stamp(start), "stop": stamp(stop),
        "total_hours": sum(r["hours"] for r in rows),
        "total_vcpus_usage": sum(r["hours"] * r["vcpus"] for r in rows),
        "total_memory_mb_usage": sum(r["hours"] * r["memory_mb"] for r in rows),
        "total_local_gb_usage": sum(r["hours"] * r["local_gb"] for r in rows),
    }
    if detailed:
        body["server_usages"] = rows
    return body


def _period(ctx: Ctx) -> tuple[float, float]:
    start = _parse_time(ctx, ctx.request.args.get("start"), "start")
    stop = _parse_time(ctx, ctx.request.args.get("end"), "end")
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

