"""Nova around one server's ports: its security groups and its interfaces (``os-interface``),
read from and written to its Neutron ports."""

from __future__ import annotations

from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...events import status_at
from ...store import now
from ..neutron import model as network
from .common import get_server
from .instance_actions import record

routes = Routes()


# -- a server's security groups (Nova's view of its ports' groups) -----------------------------
def _nova_rule(r: dict[str, Any], store: Any) -> dict[str, Any]:
    group = {}
    if r.get("remote_group_id"):
        g = store.get("security_group", r["remote_group_id"])
        group = {"name": g["name"], "tenant_id": g["project_id"]} if g else {}
    return {
        "id": r["id"],
        "parent_group_id": r["security_group_id"],
        "ip_protocol": r.get("protocol"),
        "from_port": r.get("port_range_min") if r.get("port_range_min") is not None else -1,
        "to_port": r.get("port_range_max") if r.get("port_range_max") is not None else -1,
        "ip_range": {"cidr": r["remote_ip_prefix"]} if r.get("remote_ip_prefix") else {},
        "group": group,
    }


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
        groups = [
            g for g in (network.find_security_group(ctx.store, ctx.project, n) for n in s["security_groups"]) if g
        ]
    out = [
        {
            "id": g["id"],
            "name": g["name"],
            "description": g.get("description", ""),
            "tenant_id": g["project_id"],
            "rules": [
                _nova_rule(r, ctx.store) for r in g.get("security_group_rules", []) if r.get("direction") == "ingress"
            ],
        }
        for g in groups
    ]
    return reply({"security_groups": out})


# -- interfaces (os-interface) ------------------------------------------------------------------
def _interface(ctx: Ctx, port: dict[str, Any]) -> dict[str, Any]:
    body = {
        "port_state": port.get("status", "ACTIVE"),
        "port_id": port["id"],
        "net_id": port["network_id"],
        "mac_addr": port["mac_address"],
        "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in port["fixed_ips"]],
    }
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
    if fixed is not None and (
        not isinstance(fixed, list)
        or not all(isinstance(f, dict) and isinstance(f.get("ip_address"), str) for f in fixed)
    ):
        raise validate.invalid(ctx, "fixed_ips", fixed, "expected a list of {'ip_address': <string>}")
    with ctx.store.tx():
        s = get_server(ctx, sid)
        if status_at(s, now()) not in ("ACTIVE", "SHUTOFF", "SUSPENDED"):
            raise ctx.bad(
                f"Cannot 'attach_interface' instance {sid} while it is in vm_state {status_at(s, now()).lower()}", 409
            )
        group_ids = [
            g["id"]
            for g in ctx.store.list("security_group")
            if g["name"] in s["security_groups"] and g["project_id"] == ctx.project
        ]
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
        port = ctx.store.need("port", port_id)
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
