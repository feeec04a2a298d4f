"""Nova around one server: its security groups and interfaces (read from its Neutron ports)
and its instance actions (recorded as they happen, with their request ids). Server groups are
in ``compute_groups``, the tenant usage report in ``compute_usage``."""

from __future__ import annotations

import uuid
from typing import Any

from . import network, placement, validate
from .api import Ctx, reply
from .compute import get_server, routes
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
    from .compute_usage import parse_time

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
