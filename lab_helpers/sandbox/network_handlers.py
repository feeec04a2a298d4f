"""Neutron's REST verbs over the resources in ``network``: list, show, create, update, delete,
the ``/tags`` subresource, router interfaces and quotas."""

from __future__ import annotations

import ipaddress
from typing import Any

from . import catalog_data
from .api import Ctx, paginate, reply
from .network import (RESOURCES, _base, _next_ip, add_rule, create_security_group, create_subnet, get_one, list_docs, make_port,
                      routes, shape)
from .store import iso, now

UPDATABLE = {"name", "description", "admin_state_up", "port_id", "fixed_ip_address", "security_groups", "external_gateway_info",
             "routes", "dns_nameservers", "gateway_ip", "enable_dhcp", "mtu", "shared", "port_security_enabled", "device_id",
             "device_owner", "allowed_address_pairs"}


@routes("/v2.0/<plural>", "GET")
def list_resources(ctx: Ctx, plural: str) -> Any:
    if plural not in RESOURCES:
        raise ctx.bad("The resource could not be found.", 404, "HTTPNotFound")
    docs = paginate(ctx, list_docs(ctx, plural))
    return reply({plural.replace("-", "_"): [shape(ctx, d) for d in docs]})


@routes("/v2.0/<plural>/<rid>", "GET")
def show_resource(ctx: Ctx, plural: str, rid: str) -> Any:
    return reply({RESOURCES.get(plural, ("", "x"))[1]: shape(ctx, get_one(ctx, plural, rid))})


def _quota(ctx: Ctx, kind: str) -> None:
    limit = catalog_data.project_quota()[kind]
    if len(ctx.store.find(kind, project_id=ctx.project)) >= limit:
        raise ctx.bad(f"Quota exceeded for resources: ['{kind}'].", 409, "OverQuota")


def _create(ctx: Ctx, plural: str, req: dict[str, Any]) -> dict[str, Any]:
    kind = RESOURCES[plural][0]
    _quota(ctx, kind)
    p = ctx.project
    if kind == "network":
        doc = _base(p, name=req.get("name", ""), status="ACTIVE", admin_state_up=req.get("admin_state_up", True), shared=bool(req.get("shared")),
                    mtu=req.get("mtu", 1442), subnets=[], **{"router:external": False, "availability_zones": ["nova"], "port_security_enabled": True})
        return ctx.store.put("network", doc["id"], doc)
    if kind == "subnet":
        get_one(ctx, "networks", str(req.get("network_id", "")))
        try:
            ipaddress.ip_network(str(req.get("cidr")))
        except ValueError:
            raise ctx.bad(f"Invalid input for cidr. Reason: '{req.get('cidr')}' is not a valid IP subnet.", 400, "HTTPBadRequest") from None
        return create_subnet(ctx.store, p, req["network_id"], req.get("name", ""), req["cidr"], req.get("dns_nameservers"))
    if kind == "port":
        net = get_one(ctx, "networks", str(req.get("network_id", "")))
        groups = req.get("security_groups")
        if groups is None:
            groups = [g["id"] for g in ctx.store.find("security_group", project_id=p, name="default")]
        return make_port(ctx.store, p, net["id"], req.get("device_id", ""), req.get("device_owner", ""), groups=groups, name=req.get("name", ""),
                         description=req.get("description") or "")
    if kind == "router":
        gw = req.get("external_gateway_info")
        if gw is not None and not isinstance(gw, dict):
            raise ctx.bad(f"Invalid input for external_gateway_info. Reason: {gw!r} is not a dictionary.", 400, "HTTPBadRequest")
        if gw:
            ext = get_one(ctx, "networks", gw.get("network_id", ""))
            sub = ctx.store.get("subnet", ext["subnets"][0])
            gw = {"network_id": ext["id"], "enable_snat": True, "external_fixed_ips": [{"subnet_id": sub["id"], "ip_address": _next_ip(ctx.store, sub)}]}
        doc = _base(p, name=req.get("name", ""), status="ACTIVE", admin_state_up=True, external_gateway_info=gw, routes=[], distributed=False, ha=False,
                    availability_zones=["nova"], flavor_id=None)
        return ctx.store.put("router", doc["id"], doc)
    if kind == "security_group":
        if not req.get("name"):
            raise ctx.bad("Invalid input for name. Reason: 'None' is not a valid string.", 400, "HTTPBadRequest")
        return create_security_group(ctx.store, p, req["name"], req.get("description", ""))
    if kind == "security_group_rule":
        return _create_rule(ctx, req)
    return _create_fip(ctx, req)


def _create_rule(ctx: Ctx, req: dict[str, Any]) -> dict[str, Any]:
    group = get_one(ctx, "security-groups", str(req.get("security_group_id", "")))
    if req.get("direction") not in ("ingress", "egress"):
        raise ctx.bad(f"Invalid input for direction. Reason: {req.get('direction')} is not in valid_values.", 400, "HTTPBadRequest")
    proto = req.get("protocol")
    if proto is not None and str(proto).lower() not in ("tcp", "udp", "icmp", "ipv6-icmp", "any") and not str(proto).isdigit():
        raise ctx.bad(f"Security group rule protocol {proto} not supported. Only protocol values [None, 'tcp', 'udp', 'icmp'] and integer representations [0 to 255] are supported.", 400, "SecurityGroupRuleInvalidProtocol")
    lo, hi = req.get("port_range_min"), req.get("port_range_max")
    if lo is not None and hi is not None and int(lo) > int(hi):
        raise ctx.bad("For TCP/UDP protocols, port_range_min must be <= port_range_max", 400, "SecurityGroupInvalidPortRange")
    if lo is not None and proto is None:
        raise ctx.bad("Must also specify protocol if port range is given.", 400, "SecurityGroupProtocolRequiredWithPorts")
    fields = {k: req.get(k) for k in ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id", "description")}
    fields["ethertype"] = fields["ethertype"] or "IPv4"
    for rule in group["security_group_rules"]:
        if all(rule.get(k) == v for k, v in fields.items() if k != "description"):
            raise ctx.bad(f"Security group rule already exists. Rule id is {rule['id']}.", 409, "SecurityGroupRuleExists")
    return add_rule(ctx.store, ctx.project, group["id"], **fields)


def _associate(ctx: Ctx, fip: dict[str, Any], port_id: str | None) -> None:
    if not port_id:
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        return
    port = get_one(ctx, "ports", port_id)
    routers = [r for r in ctx.store.find("router", project_id=ctx.project) if (r.get("external_gateway_info") or {}).get("network_id") == fip["floating_network_id"]]
    if not routers:
        raise ctx.bad(f"External network {fip['floating_network_id']} is not reachable from subnet of port {port_id}. Therefore, cannot associate Port {port_id} with a Floating IP.", 404, "ExternalGatewayForFloatingIPNotFound")
    fip.update(port_id=port_id, fixed_ip_address=port["fixed_ips"][0]["ip_address"] if port["fixed_ips"] else None, router_id=routers[0]["id"], status="ACTIVE")


def _create_fip(ctx: Ctx, req: dict[str, Any]) -> dict[str, Any]:
    net = get_one(ctx, "networks", str(req.get("floating_network_id", "")))
    if not net.get("router:external"):
        raise ctx.bad(f"Bad floatingip request: Network {net['id']} is not a valid external network.", 400, "BadRequest")
    sub = ctx.store.get("subnet", net["subnets"][0])
    fip = _base(ctx.project, floating_network_id=net["id"], floating_ip_address=req.get("floating_ip_address") or _next_ip(ctx.store, sub),
                port_id=None, fixed_ip_address=None, router_id=None, status="DOWN", dns_domain="", dns_name="", qos_policy_id=None,
                port_details=None, port_forwardings=[], description=req.get("description", ""))
    _associate(ctx, fip, req.get("port_id"))
    return ctx.store.put("floatingip", fip["id"], fip)


@routes("/v2.0/<plural>", "POST")
def create_resource(ctx: Ctx, plural: str) -> Any:
    if plural not in RESOURCES:
        raise ctx.bad("The resource could not be found.", 404, "HTTPNotFound")
    key = RESOURCES[plural][1]
    req = ctx.body(key)
    with ctx.store.tx():
        doc = _create(ctx, plural, req)
        if req.get("tags"):
            doc["tags"] = list(req["tags"])
            ctx.store.put(RESOURCES[plural][0], doc["id"], doc)
    return reply({key: doc}, 201)


@routes("/v2.0/<plural>/<rid>", "PUT")
def update_resource(ctx: Ctx, plural: str, rid: str) -> Any:
    kind, key = RESOURCES.get(plural, ("", "x"))[:2]
    req = ctx.body(key)
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        bad = set(req) - UPDATABLE
        if bad:
            raise ctx.bad(f"Cannot update read-only attribute {sorted(bad)[0]}", 400, "HTTPBadRequest")
        if kind == "floatingip" and "port_id" in req:
            _associate(ctx, doc, req["port_id"])
        doc.update({k: v for k, v in req.items() if k not in ("port_id", "fixed_ip_address") or kind != "floatingip"})
        doc["updated_at"], doc["revision_number"] = iso(now()), doc["revision_number"] + 1
        ctx.store.put(kind, rid, doc)
    return reply({key: doc})


@routes("/v2.0/<plural>/<rid>", "DELETE")
def delete_resource(ctx: Ctx, plural: str, rid: str) -> Any:
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        kind = RESOURCES[plural][0]
        s = ctx.store
        if kind == "network":
            if any(p["device_owner"] in ("compute:nova", "network:router_interface") for p in s.find("port", network_id=rid)):
                raise ctx.bad(f"Unable to complete operation on network {rid}. There are one or more ports still in use on the network.", 409, "NetworkInUse")
            for sub in s.find("subnet", network_id=rid):
                s.delete("subnet", sub["id"])
            for port in s.find("port", network_id=rid):
                s.delete("port", port["id"])
        elif kind == "subnet":
            if any(ip["subnet_id"] == rid and p["device_id"] for p in s.list("port") for ip in p["fixed_ips"]):
                raise ctx.bad(f"Unable to complete operation on subnet {rid}: One or more ports have an IP allocation from this subnet.", 409, "SubnetInUse")
        elif kind == "router":
            if s.list("port", parent=rid):
                raise ctx.bad(f"Router {rid} still has ports", 409, "RouterInUse")
        elif kind == "security_group":
            if doc["name"] == "default":
                raise ctx.bad("Removing default security group not allowed.", 409, "SecurityGroupCannotRemoveDefault")
            if any(rid in p.get("security_groups", []) for p in s.list("port")):
                raise ctx.bad(f"Security Group {rid} in use.", 409, "SecurityGroupInUse")
            for rule in s.find("security_group_rule", security_group_id=rid):
                s.delete("security_group_rule", rule["id"])
        elif kind == "security_group_rule":
            group = s.get("security_group", doc["security_group_id"])
            if group:
                group["security_group_rules"] = [r for r in group["security_group_rules"] if r["id"] != rid]
                s.put("security_group", group["id"], group)
        elif kind == "port":
            for fip in s.list("floatingip", parent=rid):
                fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
                s.put("floatingip", fip["id"], fip)
        s.delete(kind, rid)
    return reply(None, 204)


@routes("/v2.0/routers/<rid>/add_router_interface", "PUT")
@routes("/v2.0/routers/<rid>/remove_router_interface", "PUT")
def router_interface(ctx: Ctx, rid: str) -> Any:
    req = ctx.body()
    with ctx.store.tx():
        router = get_one(ctx, "routers", rid)
        sub = get_one(ctx, "subnets", str(req.get("subnet_id", "")))
        ports = [p for p in ctx.store.list("port", parent=rid) if any(ip["subnet_id"] == sub["id"] for ip in p["fixed_ips"])]
        if ctx.request.path.endswith("add_router_interface"):
            if ports:
                raise ctx.bad(f"Router already has a port on subnet {sub['id']}.", 400, "BadRequest")
            port = make_port(ctx.store, ctx.project, sub["network_id"], rid, "network:router_interface", ip=sub["gateway_ip"])
        else:
            if not ports:
                raise ctx.bad(f"Router {rid} has no interface on subnet {sub['id']}", 404, "RouterInterfaceNotFoundForSubnet")
            port = ports[0]
            ctx.store.delete("port", port["id"])
    return reply({"id": router["id"], "tenant_id": ctx.project, "project_id": ctx.project, "port_id": port["id"], "subnet_id": sub["id"],
                  "subnet_ids": [sub["id"]], "network_id": sub["network_id"], "tags": []})


# -- tags -------------------------------------------------------------------------------------
@routes("/v2.0/<plural>/<rid>/tags", "GET", "PUT", "DELETE")
def tags(ctx: Ctx, plural: str, rid: str) -> Any:
    if ctx.request.method == "GET":
        return reply({"tags": get_one(ctx, plural, rid)["tags"]})
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        new = [] if ctx.request.method == "DELETE" else ctx.body().get("tags")
        if not isinstance(new, list) or not all(isinstance(t, str) and 0 < len(t) <= 255 for t in new):
            raise ctx.bad(f"Invalid input for tags. Reason: {new!r} is not a list of strings.", 400, "HTTPBadRequest")
        doc["tags"] = sorted(set(new))
        ctx.store.put(RESOURCES[plural][0], rid, doc)
    return reply(None, 204) if ctx.request.method == "DELETE" else reply({"tags": doc["tags"]})


@routes("/v2.0/<plural>/<rid>/tags/<tag>", "GET", "PUT", "DELETE")
def one_tag(ctx: Ctx, plural: str, rid: str, tag: str) -> Any:
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        if ctx.request.method == "PUT":
            added = tag not in doc["tags"]
            doc["tags"] = sorted(set(doc["tags"]) | {tag})
            ctx.store.put(RESOURCES[plural][0], rid, doc)
            return reply(None, 201 if added else 201)
        if tag not in doc["tags"]:
            raise ctx.bad(f"Tag {tag} could not be found.", 404, "TagNotFound")
        if ctx.request.method == "DELETE":
            doc["tags"].remove(tag)
            ctx.store.put(RESOURCES[plural][0], rid, doc)
    return reply(None, 204)


# -- quotas -----------------------------------------------------------------------------------
@routes("/v2.0/quotas/<pid>", "GET")
@routes("/v2.0/quotas/<pid>/details", "GET")
def quotas(ctx: Ctx, pid: str) -> Any:
    limits = catalog_data.project_quota()
    keys = ("network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule")
    if ctx.request.path.endswith("/details"):
        return reply({"quota": {k: {"limit": limits[k], "used": len(ctx.store.find(k, project_id=ctx.project)), "reserved": 0} for k in keys}})
    return reply({"quota": {k: limits[k] for k in keys}})
