"""Neutron's router interfaces: attach a router to a subnet (by subnet or by port) and detach it."""

from __future__ import annotations

from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from . import checks as network_checks
from .lookups import get_one
from .model import make_port

routes = Routes()


@routes("/v2.0/routers/<rid>/add_router_interface", "PUT")
@routes("/v2.0/routers/<rid>/remove_router_interface", "PUT")
def router_interface(ctx: Ctx, rid: str) -> Any:
    req = ctx.body()
    adding = ctx.request.path.endswith("add_router_interface")
    action = "add_router_interface" if adding else "remove_router_interface"
    with ctx.store.tx():
        router = get_one(ctx, "routers", rid)
        if not ctx.owns(router):
            raise network_checks.forbidden(ctx, f"rule:{action}")
        port_id = validate.string(ctx, req.get("port_id"), "port_id", max_len=64, allow_none=True)
        subnet_id = validate.string(ctx, req.get("subnet_id"), "subnet_id", max_len=64, allow_none=True)
        if port_id:
            port = get_one(ctx, "ports", port_id)
            if not port["fixed_ips"]:
                raise ctx.bad("Bad router request: Router port must have at least one fixed IP.", 400, "BadRequest")
            sub = get_one(ctx, "subnets", port["fixed_ips"][0]["subnet_id"])
        elif subnet_id:
            sub = get_one(ctx, "subnets", subnet_id)
        else:
            raise ctx.bad("Bad router request: Either subnet_id or port_id must be specified.", 400, "BadRequest")
        net = ctx.store.get("network", sub["network_id"]) or {}
        ports = [
            p for p in ctx.store.list("port", parent=rid) if any(ip["subnet_id"] == sub["id"] for ip in p["fixed_ips"])
        ]
        if adding:
            if not ctx.owns(sub) and not net.get("shared"):
                raise network_checks.forbidden(ctx, f"rule:{action}")
            if net.get("router:external"):
                raise ctx.bad(
                    f"Bad router request: Router interface cannot be on external network {net['id']}.",
                    400,
                    "BadRequest",
                )
            if ports:
                raise ctx.bad(
                    f"Bad router request: Router already has a port on subnet {sub['id']}.", 400, "BadRequest"
                )
            if port_id:
                if port["device_id"]:
                    raise ctx.bad(f"Port {port_id} is still in use.", 409, "PortInUse")
                port.update(device_id=rid, device_owner="network:router_interface", status="ACTIVE")
                ctx.store.put("port", port_id, port)
            else:
                if not sub.get("gateway_ip"):
                    raise ctx.bad(
                        "Bad router request: Subnet for router interface must have a gateway IP.", 400, "BadRequest"
                    )
                if sub["gateway_ip"] in {ip["ip_address"] for p in ctx.store.list("port") for ip in p["fixed_ips"]}:
                    raise ctx.bad(
                        f"IP address {sub['gateway_ip']} already allocated in subnet {sub['id']}",
                        409,
                        "IpAddressAlreadyAllocated",
                    )
                port = make_port(
                    ctx.store,
                    router["project_id"],
                    sub["network_id"],
                    rid,
                    "network:router_interface",
                    ip=sub["gateway_ip"],
                    subnet_id=sub["id"],
                )
        else:
            if port_id and port["device_id"] != rid:
                raise ctx.bad(
                    f"Router {rid} does not have an interface with id {port_id}", 404, "RouterInterfaceNotFound"
                )
            if not ports:
                raise ctx.bad(
                    f"Router {rid} has no interface on subnet {sub['id']}", 404, "RouterInterfaceNotFoundForSubnet"
                )
            port = ports[0]
            if any(
                f["router_id"] == rid
                and (ctx.store.get("port", f["port_id"] or "") or {}).get("network_id") == sub["network_id"]
                for f in ctx.store.list("floatingip")
            ):
                raise ctx.bad(
                    f"Router interface for subnet {sub['id']} on router {rid} cannot be deleted, as it is required by one or "
                    "more floating IPs.",
                    409,
                    "RouterInterfaceInUseByFloatingIP",
                )
            ctx.store.delete("port", port["id"])
    return reply(
        {
            "id": router["id"],
            "tenant_id": router["project_id"],
            "project_id": router["project_id"],
            "port_id": port["id"],
            "subnet_id": sub["id"],
            "subnet_ids": [sub["id"]],
            "network_id": sub["network_id"],
            "tags": [],
        }
    )
