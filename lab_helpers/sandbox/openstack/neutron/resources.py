"""Neutron's REST verbs over the resources in ``model``: list, show, create, update and delete,
each kind with its own rules. Router interfaces are in ``routers``, tags and quotas in ``tags``."""

from __future__ import annotations

import ipaddress
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...queries import paginate
from ...store import iso, now
from .. import catalog_data
from . import checks as network_checks
from .lookups import get_one, list_docs, shape
from .model import (
    RESOURCES,
    add_rule,
    base_doc,
    create_security_group,
    create_subnet,
    make_port,
    next_ip,
    used_addresses,
)

routes = Routes()


@routes("/v2.0/<plural>", "GET")
def list_resources(ctx: Ctx, plural: str) -> Any:
    if plural not in RESOURCES:
        raise ctx.bad("The resource could not be found.", 404, "HTTPNotFound")
    docs = paginate(ctx, list_docs(ctx, plural))
    return reply({plural.replace("-", "_"): [shape(ctx, d) for d in docs]})


@routes("/v2.0/<plural>/<rid>", "GET")
def show_resource(ctx: Ctx, plural: str, rid: str) -> Any:
    return reply({RESOURCES.get(plural, ("", "x"))[1]: shape(ctx, get_one(ctx, plural, rid))})


def _quota(ctx: Ctx, kind: str, owner: str) -> None:
    limit = catalog_data.project_quota()[kind]
    if len(ctx.store.find(kind, project_id=owner)) >= limit:
        raise ctx.bad(f"Quota exceeded for resources: ['{kind}'].", 409, "OverQuota")


def _subnet_of(ctx: Ctx, net: dict[str, Any], ip: str) -> dict[str, Any]:
    """The subnet of ``net`` that holds ``ip`` (Neutron's 400 when none does)."""
    addr = ipaddress.ip_address(ip)
    for sid in net["subnets"]:
        sub = ctx.store.get("subnet", sid)
        if sub and addr in ipaddress.ip_network(sub["cidr"]):
            return sub
    raise ctx.bad(
        f"IP address {ip} is not a valid IP for any of the subnets on the specified network.",
        400,
        "InvalidIpForNetwork",
    )


def _free(ctx: Ctx, sub: dict[str, Any], ip: str) -> str:
    if ip in used_addresses(ctx.store):
        raise ctx.bad(f"IP address {ip} already allocated in subnet {sub['id']}", 409, "IpAddressAlreadyAllocated")
    return ip


def _fixed_ip(ctx: Ctx, net: dict[str, Any], entries: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(subnet id, address) asked for by a port's ``fixed_ips`` (each may be None: the cloud picks)."""
    if not entries:
        return None, None
    entry = entries[0]
    sub = None
    if "subnet_id" in entry:
        if entry["subnet_id"] not in net["subnets"]:
            raise ctx.bad(
                f"Invalid input for operation: Failed to create port on network {net['id']}, because fixed_ips "
                f"included invalid subnet {str(entry['subnet_id'])[:64]}.",
                400,
                "InvalidInput",
            )
        sub = ctx.store.get("subnet", entry["subnet_id"])
    ip = entry.get("ip_address")
    if ip is not None:
        holder = _subnet_of(ctx, net, ip)
        if sub is not None and holder["id"] != sub["id"]:
            raise ctx.bad(f"IP address {ip} is not a valid IP for the specified subnet.", 400, "InvalidIpForSubnet")
        sub = holder
        _free(ctx, sub, ip)
    return (sub["id"] if sub else None), ip


def _gateway(ctx: Ctx, gw: dict[str, Any] | None, old: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A router's ``external_gateway_info`` with its address on the external network."""
    if not gw:
        return None
    ext = get_one(ctx, "networks", gw["network_id"])
    if not ext.get("router:external"):
        raise ctx.bad(f"Bad router request: Network {ext['id']} is not an external network.", 400, "BadRequest")
    if old and old.get("network_id") == ext["id"] and "external_fixed_ips" not in gw:
        return dict(old, enable_snat=gw.get("enable_snat", old.get("enable_snat", True)))
    asked = [e for e in gw.get("external_fixed_ips") or [] if isinstance(e, dict) and e.get("ip_address")]
    if asked:
        ip = network_checks._ip(ctx, asked[0]["ip_address"], "external_gateway_info")
        sub = _subnet_of(ctx, ext, ip)
        _free(ctx, sub, ip)
    else:
        if not ext["subnets"]:
            raise ctx.bad(f"Bad router request: No subnets on external network {ext['id']}.", 400, "BadRequest")
        sub = ctx.store.need("subnet", ext["subnets"][0])
        ip = next_ip(ctx.store, sub)
    snat = validate.boolean(ctx, gw.get("enable_snat", True), "enable_snat")
    return {
        "network_id": ext["id"],
        "enable_snat": snat,
        "external_fixed_ips": [{"subnet_id": sub["id"], "ip_address": ip}],
    }


def _create(ctx: Ctx, plural: str, req: dict[str, Any]) -> dict[str, Any]:
    kind = RESOURCES[plural][0]
    f = network_checks.FIELDS[kind](ctx, req, True)
    owner = f.pop("project_id", ctx.project)
    f.pop("tenant_id", None)
    tags = f.pop("tags", [])
    _quota(ctx, kind, owner)
    s = ctx.store
    if kind == "network":
        doc = base_doc(
            owner,
            name=f.get("name", ""),
            description=f.get("description", ""),
            status="ACTIVE",
            admin_state_up=f.get("admin_state_up", True),
            shared=f.get("shared", False),
            mtu=f.get("mtu", 1442),
            subnets=[],
            dns_domain=f.get("dns_domain") or "",
            qos_policy_id=f.get("qos_policy_id"),
            **{
                "router:external": f.get("router:external", False),
                "availability_zones": ["nova"],
                "port_security_enabled": f.get("port_security_enabled", True),
            },
        )
    elif kind == "subnet":
        net = get_one(ctx, "networks", f.pop("network_id"))
        network_checks.require_owner(ctx, "subnet", net, "create")
        new = ipaddress.ip_network(f["cidr"])
        for sid in net["subnets"]:
            other = s.get("subnet", sid)
            if other and ipaddress.ip_network(other["cidr"]).overlaps(new):
                raise ctx.bad(
                    f"Invalid input for operation: Requested subnet with cidr: {new} for network: {net['id']} overlaps "
                    "with another subnet.",
                    400,
                    "InvalidInput",
                )
        doc = create_subnet(s, owner, net["id"], f.pop("name", ""), f.pop("cidr"), f.pop("dns_nameservers", None), **f)
    elif kind == "port":
        net = get_one(ctx, "networks", f.pop("network_id"))
        if not ctx.owns(net) and not net.get("shared"):
            raise ctx.bad(f"Tenant {ctx.project} not allowed to create port on this network", 403, "HTTPForbidden")
        groups = f.pop("security_groups", None)
        if groups is None:
            groups = [g["id"] for g in s.find("security_group", project_id=owner, name="default")]
        sub_id, ip = _fixed_ip(ctx, net, f.pop("fixed_ips", []))
        doc = make_port(
            s,
            owner,
            net["id"],
            f.pop("device_id", ""),
            f.pop("device_owner", ""),
            ip=ip,
            groups=groups,
            name=f.pop("name", ""),
            description=f.pop("description", ""),
            subnet_id=sub_id,
            mac=f.pop("mac_address", None),
        )
        doc.update(f)
        doc["status"] = "ACTIVE" if doc["device_id"] else "DOWN"
    elif kind == "router":
        gw = _gateway(ctx, f.pop("external_gateway_info", None))
        doc = base_doc(
            owner,
            name=f.get("name", ""),
            description=f.get("description", ""),
            status="ACTIVE",
            admin_state_up=f.get("admin_state_up", True),
            external_gateway_info=gw,
            routes=f.get("routes", []),
            distributed=f.get("distributed", False),
            ha=f.get("ha", False),
            availability_zones=["nova"],
            flavor_id=None,
        )
    elif kind == "security_group":
        if f.get("name") == "default" and s.find("security_group", project_id=owner, name="default"):
            raise ctx.bad("Default security group already exists.", 409, "SecurityGroupDefaultAlreadyExists")
        doc = create_security_group(s, owner, f.get("name", ""), f.get("description", ""))
        doc["stateful"] = f.get("stateful", True)
    elif kind == "security_group_rule":
        doc = _create_rule(ctx, f)
    else:
        doc = _create_fip(ctx, owner, f)
    doc["tags"] = tags
    return s.put(kind, doc["id"], doc)


def _create_rule(ctx: Ctx, f: dict[str, Any]) -> dict[str, Any]:
    group = get_one(ctx, "security-groups", f.pop("security_group_id"))
    network_checks.require_owner(ctx, "security_group_rule", group, "create")
    same = (
        "direction",
        "ethertype",
        "protocol",
        "port_range_min",
        "port_range_max",
        "normalized_cidr",
        "remote_group_id",
    )
    for rule in group["security_group_rules"]:
        if all(rule.get(k) == f.get(k) for k in same):
            raise ctx.bad(
                f"Security group rule already exists. Rule id is {rule['id']}.", 409, "SecurityGroupRuleExists"
            )
    return add_rule(ctx.store, group["project_id"], group["id"], **f)


def _associate(ctx: Ctx, fip: dict[str, Any], port_id: str | None, fixed_ip: str | None = None) -> None:
    if not port_id:
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN", port_details=None)
        return
    port = get_one(ctx, "ports", port_id)
    ips = [ip["ip_address"] for ip in port["fixed_ips"]]
    if not ips:
        raise ctx.bad(
            f"Bad floatingip request: Port {port_id} does not have any IP addresses on it.", 400, "BadRequest"
        )
    if fixed_ip is not None and fixed_ip not in ips:
        raise ctx.bad(f"Bad floatingip request: Port {port_id} does not have fixed ip {fixed_ip}.", 400, "BadRequest")
    fixed = fixed_ip or ips[0]
    for other in ctx.store.list("floatingip", parent=port_id):
        if other["id"] != fip["id"] and other["fixed_ip_address"] == fixed:
            raise ctx.bad(
                f"Cannot associate floating IP {fip['floating_ip_address']} ({fip['id']}) with port {port_id} using fixed IP "
                f"{fixed}, as that fixed IP already has a floating IP on external network {other['floating_network_id']}.",
                409,
                "FloatingIPPortAlreadyAssociated",
            )
    attached = {
        p["device_id"]
        for p in ctx.store.find("port", network_id=port["network_id"], device_owner="network:router_interface")
    }
    routers = [
        r
        for r in ctx.store.list("router")
        if r["id"] in attached
        and ctx.owns(r)
        and (r.get("external_gateway_info") or {}).get("network_id") == fip["floating_network_id"]
    ]
    if not routers:
        raise ctx.bad(
            f"External network {fip['floating_network_id']} is not reachable from subnet of port {port_id}. Therefore, "
            f"cannot associate Port {port_id} with a Floating IP.",
            404,
            "ExternalGatewayForFloatingIPNotFound",
        )
    fip.update(
        port_id=port_id,
        fixed_ip_address=fixed,
        router_id=routers[0]["id"],
        status="ACTIVE",
        port_details={
            "name": port["name"],
            "network_id": port["network_id"],
            "mac_address": port["mac_address"],
            "admin_state_up": port["admin_state_up"],
            "status": port["status"],
            "device_id": port["device_id"],
            "device_owner": port["device_owner"],
        },
    )


def _create_fip(ctx: Ctx, owner: str, f: dict[str, Any]) -> dict[str, Any]:
    net = get_one(ctx, "networks", f["floating_network_id"])
    if not net.get("router:external"):
        raise ctx.bad(
            f"Bad floatingip request: Network {net['id']} is not a valid external network.", 400, "BadRequest"
        )
    if f.get("floating_ip_address"):
        sub = _subnet_of(ctx, net, f["floating_ip_address"])
        address = _free(ctx, sub, f["floating_ip_address"])
    else:
        if f.get("subnet_id") and f["subnet_id"] not in net["subnets"]:
            raise ctx.bad(
                f"Bad floatingip request: Subnet {f['subnet_id'][:64]} is not on network {net['id']}.",
                400,
                "BadRequest",
            )
        sid = f.get("subnet_id") or (net["subnets"][0] if net["subnets"] else None)
        if sid is None:
            raise ctx.bad(
                f"Unable to find any IP address on external network {net['id']}.", 404, "ExternalIpAddressExhausted"
            )
        address = next_ip(ctx.store, ctx.store.need("subnet", sid))
    fip = base_doc(
        owner,
        floating_network_id=net["id"],
        floating_ip_address=address,
        port_id=None,
        fixed_ip_address=None,
        router_id=None,
        status="DOWN",
        dns_domain=f.get("dns_domain", ""),
        dns_name=f.get("dns_name", ""),
        qos_policy_id=f.get("qos_policy_id"),
        port_details=None,
        port_forwardings=[],
        description=f.get("description", ""),
    )
    _associate(ctx, fip, f.get("port_id"), f.get("fixed_ip_address"))
    return fip


@routes("/v2.0/<plural>", "POST")
def create_resource(ctx: Ctx, plural: str) -> Any:
    if plural not in RESOURCES:
        raise ctx.bad("The resource could not be found.", 404, "HTTPNotFound")
    key = RESOURCES[plural][1]
    req = ctx.body(key)
    with ctx.store.tx():
        doc = _create(ctx, plural, req)
    return reply({key: doc}, 201)


def _update(ctx: Ctx, kind: str, doc: dict[str, Any], f: dict[str, Any]) -> None:
    """Apply checked fields ``f`` to ``doc``, with each kind's own rules."""
    s = ctx.store
    if kind == "floatingip":
        if "port_id" in f:
            _associate(ctx, doc, f.pop("port_id"), f.pop("fixed_ip_address", None))
        f.pop("fixed_ip_address", None)
    elif kind == "router" and "external_gateway_info" in f:
        gw = f.pop("external_gateway_info")
        if not gw and s.find("floatingip", router_id=doc["id"]):
            net = (doc.get("external_gateway_info") or {}).get("network_id")
            raise ctx.bad(
                f"Gateway cannot be updated for router {doc['id']}, since a gateway to external network {net} is required "
                "by one or more floating IPs.",
                409,
                "RouterExternalGatewayInUseByFloatingIp",
            )
        doc["external_gateway_info"] = _gateway(ctx, gw, doc.get("external_gateway_info"))
    elif kind == "security_group" and doc["name"] == "default" and f.get("name", "default") != "default":
        raise ctx.bad("Updating default security group not allowed.", 409, "SecurityGroupCannotUpdateDefault")
    elif kind == "port":
        if "mac_address" in f and not ctx.is_admin:
            raise network_checks.forbidden(ctx, "rule:update_port:mac_address")
        if "fixed_ips" in f:
            net = s.get("network", doc["network_id"]) or {"id": doc["network_id"], "subnets": []}
            own = {ip["ip_address"] for ip in doc["fixed_ips"]}
            entries = [e for e in f.pop("fixed_ips") if e.get("ip_address") not in own]
            if entries:
                sub_id, ip = _fixed_ip(ctx, net, entries)
                sub = (
                    s.get("subnet", sub_id)
                    if sub_id
                    else (s.get("subnet", net["subnets"][0]) if net["subnets"] else None)
                )
                if sub:
                    doc["fixed_ips"] = [{"subnet_id": sub["id"], "ip_address": ip or next_ip(s, sub)}]
    doc.update(f)


@routes("/v2.0/<plural>/<rid>", "PUT")
def update_resource(ctx: Ctx, plural: str, rid: str) -> Any:
    kind, key = RESOURCES.get(plural, ("", "x"))[:2]
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        req = ctx.body(key)
        network_checks.require_owner(ctx, kind, doc, "update")
        if kind == "subnet":
            f = network_checks.subnet(ctx, req, False, cidr=doc["cidr"])
        else:
            f = network_checks.FIELDS[kind](ctx, req, False)
        _update(ctx, kind, doc, f)
        doc["updated_at"], doc["revision_number"] = iso(now()), doc["revision_number"] + 1
        ctx.store.put(kind, rid, doc)
    return reply({key: doc})


@routes("/v2.0/<plural>/<rid>", "DELETE")
def delete_resource(ctx: Ctx, plural: str, rid: str) -> Any:
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        kind = RESOURCES[plural][0]
        network_checks.require_owner(ctx, kind, doc, "delete")
        s = ctx.store
        if kind == "network":
            if any(
                p["device_owner"] in ("compute:nova", "network:router_interface")
                for p in s.find("port", network_id=rid)
            ):
                raise ctx.bad(
                    f"Unable to complete operation on network {rid}. There are one or more ports still in use on the network.",
                    409,
                    "NetworkInUse",
                )
            for sub in s.find("subnet", network_id=rid):
                s.delete("subnet", sub["id"])
            for port in s.find("port", network_id=rid):
                s.delete("port", port["id"])
        elif kind == "subnet":
            if any(ip["subnet_id"] == rid and p["device_id"] for p in s.list("port") for ip in p["fixed_ips"]):
                raise ctx.bad(
                    f"Unable to complete operation on subnet {rid}: One or more ports have an IP allocation from this subnet.",
                    409,
                    "SubnetInUse",
                )
            net = s.get("network", doc["network_id"])
            if net:
                net["subnets"] = [x for x in net["subnets"] if x != rid]
                s.put("network", net["id"], net)
        elif kind == "router":
            if s.list("port", parent=rid):
                raise ctx.bad(f"Router {rid} still has ports", 409, "RouterInUse")
        elif kind == "security_group":
            if doc["name"] == "default" and not ctx.is_admin:
                raise ctx.bad("Removing default security group not allowed.", 409, "SecurityGroupCannotRemoveDefault")
            if any(rid in (p.get("security_groups") or []) for p in s.list("port")):
                raise ctx.bad(f"Security Group {rid} in use.", 409, "SecurityGroupInUse")
            for rule in s.find("security_group_rule", security_group_id=rid):
                s.delete("security_group_rule", rule["id"])
        elif kind == "security_group_rule":
            group = s.get("security_group", doc["security_group_id"])
            if group:
                group["security_group_rules"] = [r for r in group["security_group_rules"] if r["id"] != rid]
                s.put("security_group", group["id"], group)
        elif kind == "port":
            if doc["device_owner"] == "network:router_interface":
                raise ctx.bad(
                    f"Port {rid} cannot be deleted directly via the port API: has device owner network:router_interface.",
                    409,
                    "ServicePortInUse",
                )
            for fip in s.list("floatingip", parent=rid):
                fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN", port_details=None)
                s.put("floatingip", fip["id"], fip)
        s.delete(kind, rid)
    return reply(None, 204)
