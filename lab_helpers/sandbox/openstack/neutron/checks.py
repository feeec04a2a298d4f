"""Neutron's checks on a request before anything is stored: who may see and change what (the
default policies for a project member), and the type and range of every field a write carries.

A member sees its own project's resources plus shared and external networks (and their
subnets); anything else is answered as if it did not exist (404). What it can see but does not
own (the admin's ``public`` network) it cannot change (403, ``PolicyNotAuthorized``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ... import validate
from ...addresses import network_allowed
from ...api import Ctx
from ...errors import ApiError

NAME_MAX = 255
DESCRIPTION_MAX = 255
TAG_MAX = 255
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136"}
ICMP_PROTOCOLS = {"icmp", "ipv6-icmp", "icmpv6", "1", "58"}
PROTOCOLS = (
    PORT_PROTOCOLS
    | ICMP_PROTOCOLS
    | {
        "ah",
        "egp",
        "esp",
        "gre",
        "hopopt",
        "igmp",
        "ip",
        "ipip",
        "ipv6-encap",
        "ipv6-frag",
        "ipv6-nonxt",
        "ipv6-opts",
        "ipv6-route",
        "ospf",
        "pgm",
        "rsvp",
        "vrrp",
        "any",
    }
)
VNIC_TYPES = (
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "remote-managed",
    "accelerator-direct",
    "accelerator-direct-physical",
)
MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")

# What a PUT may change, per kind (anything else is read-only in Neutron).
UPDATABLE = {
    "network": {
        "name",
        "description",
        "admin_state_up",
        "shared",
        "mtu",
        "port_security_enabled",
        "dns_domain",
        "qos_policy_id",
    },
    "subnet": {
        "name",
        "description",
        "gateway_ip",
        "enable_dhcp",
        "dns_nameservers",
        "host_routes",
        "allocation_pools",
        "service_types",
        "dns_publish_fixed_ip",
    },
    "port": {
        "name",
        "description",
        "admin_state_up",
        "security_groups",
        "allowed_address_pairs",
        "port_security_enabled",
        "device_id",
        "device_owner",
        "fixed_ips",
        "binding:vnic_type",
        "binding:host_id",
        "binding:profile",
        "dns_name",
        "extra_dhcp_opts",
        "qos_policy_id",
        "mac_address",
    },
    "router": {"name", "description", "admin_state_up", "external_gateway_info", "routes", "distributed", "ha"},
    "security_group": {"name", "description", "stateful"},
    "security_group_rule": {"description"},
    "floatingip": {"port_id", "fixed_ip_address", "description", "qos_policy_id"},
}
ADMIN_ONLY = {
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "router:external",
    "binding:host_id",
    "binding:profile",
    "distributed",
    "ha",
    "segments",
    "is_default",
}


def forbidden(ctx: Ctx, rule: str) -> ApiError:
    """Neutron's 403 for a policy rule a member does not pass."""
    return ctx.bad(f"({rule}) is disallowed by policy", 403, "PolicyNotAuthorized")


def visible(ctx: Ctx, kind: str, doc: dict[str, Any]) -> bool:
    """Whether the request's project may see ``doc`` at all."""
    if ctx.owns(doc):
        return True
    if kind == "network":
        return bool(doc.get("shared") or doc.get("router:external"))
    if kind == "subnet":
        net = ctx.store.get("network", doc.get("network_id", ""))
        return bool(net and (net.get("shared") or net.get("router:external")))
    return False


def require_owner(ctx: Ctx, kind: str, doc: dict[str, Any], action: str) -> None:
    """403 unless the request's project owns ``doc`` (visibility is checked before, as a 404)."""
    if not ctx.owns(doc):
        raise forbidden(ctx, f"rule:{action}_{kind}")


def _bad(ctx: Ctx, field: str, reason: str) -> ApiError:
    return ctx.bad(f"Invalid input for {field}. Reason: {reason}.", 400, "HTTPBadRequest")


def _ip(ctx: Ctx, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _bad(ctx, field, f"{validate.show(value)} is not a valid IP address")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise _bad(ctx, field, f"{validate.show(value)} is not a valid IP address") from None


def _cidr(ctx: Ctx, value: Any, field: str, strict: bool = False) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str) or "/" not in value and strict:
        raise _bad(ctx, field, f"{validate.show(value)} is not a valid IP subnet")
    try:
        return ipaddress.ip_network(value, strict=strict)
    except ValueError:
        if strict:
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                pass
            else:
                raise _bad(ctx, field, f"'{value}' isn't a recognized IP subnet cidr, '{net}' is recommended") from None
        raise _bad(ctx, field, f"{validate.show(value)} is not a valid IP subnet") from None


def _dict_list(
    ctx: Ctx, value: Any, field: str, keys: set[str], required: set[str], max_items: int = 64
) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > max_items:
        raise _bad(ctx, field, f"{validate.show(value)} is not a list of at most {max_items} items")
    for item in value:
        if not isinstance(item, dict) or not required <= set(item) or set(item) - keys:
            raise _bad(
                ctx,
                field,
                f"{validate.show(item)} is not a dictionary with keys {sorted(keys)} ({sorted(required)} required)",
            )
    return value


def _routes(ctx: Ctx, value: Any, field: str) -> list[dict[str, str]]:
    out = []
    for r in _dict_list(ctx, value, field, {"destination", "nexthop"}, {"destination", "nexthop"}, max_items=30):
        out.append({"destination": str(_cidr(ctx, r["destination"], field)), "nexthop": _ip(ctx, r["nexthop"], field)})
    return out


def common(ctx: Ctx, kind: str, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The fields every resource shares, plus the admin-only and project checks."""
    out: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in req:
            limit = NAME_MAX if key == "name" else DESCRIPTION_MAX
            out[key] = validate.string(ctx, req[key], key, max_len=limit, allow_none=key == "description") or ""
    if "admin_state_up" in req:
        out["admin_state_up"] = validate.boolean(ctx, req["admin_state_up"], "admin_state_up")
    if "tags" in req:
        if not creating:
            raise ctx.bad("Cannot update read-only attribute tags", 400, "HTTPBadRequest")
        out["tags"] = sorted(set(validate.str_list(ctx, req["tags"], "tags", max_len=TAG_MAX, min_len=1)))
    for key in ("project_id", "tenant_id"):
        if key in req:
            if not creating:
                raise ctx.bad(f"Cannot update read-only attribute {key}", 400, "HTTPBadRequest")
            owner = validate.string(ctx, req[key], key, max_len=255, min_len=1)
            if owner != ctx.project and not ctx.is_admin:
                raise ctx.bad(
                    "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request "
                    "requires admin privileges",
                    400,
                    "HTTPBadRequest",
                )
            out["project_id"] = out["tenant_id"] = owner
    for key in ADMIN_ONLY & set(req):
        if not ctx.is_admin:
            raise forbidden(ctx, f"rule:{'create' if creating else 'update'}_{kind}:{key}")
    if not creating:
        bad = sorted(set(req) - UPDATABLE.get(kind, set()) - {"name", "description", "admin_state_up"})
        if bad:
            raise ctx.bad(f"Cannot update read-only attribute {bad[0]}", 400, "HTTPBadRequest")
    return out


def network(ctx: Ctx, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = common(ctx, "network", req, creating)
    if "shared" in req:
        out["shared"] = validate.boolean(ctx, req["shared"], "shared")
        if out["shared"] and not ctx.is_admin:
            raise forbidden(ctx, f"rule:{'create' if creating else 'update'}_network:shared")
    if "mtu" in req:
        out["mtu"] = validate.integer(ctx, req["mtu"], "mtu", lo=68, hi=9000)
    if "port_security_enabled" in req:
        out["port_security_enabled"] = validate.boolean(ctx, req["port_security_enabled"], "port_security_enabled")
    if "router:external" in req:
        out["router:external"] = validate.boolean(ctx, req["router:external"], "router:external")
    for key in ("dns_domain", "qos_policy_id"):
        if key in req:
            out[key] = validate.string(ctx, req[key], key, max_len=255, allow_none=True)
    return out


def subnet(ctx: Ctx, req: dict[str, Any], creating: bool, cidr: str | None = None) -> dict[str, Any]:
    """A subnet's fields; ``cidr`` is the existing one on an update."""
    out = common(ctx, "subnet", req, creating)
    if creating:
        out["network_id"] = validate.string(ctx, req.get("network_id"), "network_id", max_len=64, min_len=1)
        net = _cidr(ctx, req.get("cidr"), "cidr", strict=True)
        if "ip_version" in req and validate.integer(ctx, req["ip_version"], "ip_version") != net.version:
            raise ctx.bad("Invalid input for operation: ip_version and cidr do not match.", 400, "InvalidInput")
        if net.num_addresses < 4:
            raise _bad(ctx, "cidr", f"'{net}' is too small for a subnet: it needs at least 4 addresses")
        if not network_allowed(net):
            raise _bad(
                ctx,
                "cidr",
                f"'{net}' is a routable public range; the sandbox cloud only hands out private "
                "(RFC 1918) and documentation (RFC 5737) addresses",
            )
        out["cidr"] = str(net)
        for key in ("ipv6_ra_mode", "ipv6_address_mode"):
            if req.get(key) is not None:
                out[key] = validate.one_of(ctx, req[key], key, ("slaac", "dhcpv6-stateful", "dhcpv6-stateless"))
        if req.get("subnetpool_id") is not None:
            raise ctx.bad("Subnet pools are not available in the sandbox cloud: give a cidr.", 400, "HTTPBadRequest")
    subnet_cidr = out.get("cidr") or cidr
    if subnet_cidr is None:  # an update passes the stored cidr, a create has just checked its own
        raise ValueError("a subnet's fields are checked against its cidr, and none was given")
    ipnet = ipaddress.ip_network(subnet_cidr)
    if "gateway_ip" in req and req["gateway_ip"] is not None:
        gw = _ip(ctx, req["gateway_ip"], "gateway_ip")
        if ipaddress.ip_address(gw) not in ipnet:
            raise ctx.bad(
                f"Invalid input for operation: Gateway IP {gw} is not in subnet {ipnet}.", 400, "InvalidInput"
            )
        out["gateway_ip"] = gw
    elif "gateway_ip" in req:
        out["gateway_ip"] = None
    if "enable_dhcp" in req:
        out["enable_dhcp"] = validate.boolean(ctx, req["enable_dhcp"], "enable_dhcp")
    if "dns_nameservers" in req:
        servers = req["dns_nameservers"] if isinstance(req["dns_nameservers"], list) else None
        if servers is None:
            raise _bad(ctx, "dns_nameservers", f"{validate.show(req['dns_nameservers'])} is not a list")
        if len(servers) > 5:
            raise ctx.bad(
                f"Unable to complete operation for {out.get('network_id', 'the subnet')}. The number of DNS "
                "nameservers exceeds the limit 5.",
                400,
                "DNSNameServersExhausted",
            )
        out["dns_nameservers"] = [_ip(ctx, s, "dns_nameservers") for s in servers]
    if "host_routes" in req:
        out["host_routes"] = _routes(ctx, req["host_routes"], "host_routes")
    if "allocation_pools" in req:
        pools = []
        for pool in _dict_list(ctx, req["allocation_pools"], "allocation_pools", {"start", "end"}, {"start", "end"}):
            lo, hi = (
                ipaddress.ip_address(_ip(ctx, pool["start"], "allocation_pools")),
                ipaddress.ip_address(_ip(ctx, pool["end"], "allocation_pools")),
            )
            if lo not in ipnet or hi not in ipnet or int(lo) > int(hi):  # both in ipnet: one IP version
                raise ctx.bad(
                    f"The allocation pool {lo}-{hi} spans beyond the subnet cidr {ipnet}.",
                    400,
                    "OutOfBoundsAllocationPool",
                )
            pools.append({"start": str(lo), "end": str(hi)})
        out["allocation_pools"] = pools
    if "service_types" in req:
        out["service_types"] = validate.str_list(ctx, req["service_types"], "service_types", max_len=255)
    if "dns_publish_fixed_ip" in req:
        out["dns_publish_fixed_ip"] = validate.boolean(ctx, req["dns_publish_fixed_ip"], "dns_publish_fixed_ip")
    return out


def port(ctx: Ctx, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = common(ctx, "port", req, creating)
    if creating:
        out["network_id"] = validate.string(ctx, req.get("network_id"), "network_id", max_len=64, min_len=1)
    for key in ("device_id", "device_owner", "dns_name", "binding:host_id"):
        if key in req:
            out[key] = validate.string(ctx, req[key], key, max_len=255, allow_none=key != "device_id") or ""
    if "qos_policy_id" in req:
        out["qos_policy_id"] = validate.string(ctx, req["qos_policy_id"], "qos_policy_id", max_len=64, allow_none=True)
    if "mac_address" in req:
        if not isinstance(req["mac_address"], str) or not MAC.fullmatch(req["mac_address"]):
            raise _bad(ctx, "mac_address", f"{validate.show(req['mac_address'])} is not a valid MAC address")
        out["mac_address"] = req["mac_address"].lower()
    if "security_groups" in req:
        groups = req["security_groups"]
        if groups is None:
            groups = []
        if not isinstance(groups, list):
            raise _bad(ctx, "security_groups", f"{validate.show(groups)} is not a list")
        for gid in groups:
            if not isinstance(gid, str) or not gid:
                raise _bad(ctx, "security_groups", f"{validate.show(gid)} is not a valid UUID")
            group = ctx.store.get("security_group", gid)
            if group is None or not visible(ctx, "security_group", group):
                raise ctx.bad(f"Security group {gid} does not exist", 404, "SecurityGroupNotFound")
        out["security_groups"] = list(dict.fromkeys(groups))
    if "fixed_ips" in req:
        out["fixed_ips"] = _dict_list(
            ctx, req["fixed_ips"], "fixed_ips", {"subnet_id", "ip_address"}, set(), max_items=1
        )
        for entry in out["fixed_ips"]:
            if "ip_address" in entry:
                entry["ip_address"] = _ip(ctx, entry["ip_address"], "fixed_ips")
            if "subnet_id" in entry:
                validate.string(ctx, entry["subnet_id"], "fixed_ips", max_len=64, min_len=1)
    if "allowed_address_pairs" in req:
        pairs = []
        for pair in _dict_list(
            ctx,
            req["allowed_address_pairs"],
            "allowed_address_pairs",
            {"ip_address", "mac_address"},
            {"ip_address"},
            max_items=10,
        ):
            ip = str(_cidr(ctx, pair["ip_address"], "allowed_address_pairs"))
            row = {"ip_address": ip.removesuffix("/32").removesuffix("/128")}
            if "mac_address" in pair:
                if not isinstance(pair["mac_address"], str) or not MAC.fullmatch(pair["mac_address"]):
                    raise _bad(
                        ctx, "allowed_address_pairs", f"{validate.show(pair['mac_address'])} is not a valid MAC address"
                    )
                row["mac_address"] = pair["mac_address"].lower()
            pairs.append(row)
        out["allowed_address_pairs"] = pairs
    if "port_security_enabled" in req:
        out["port_security_enabled"] = validate.boolean(ctx, req["port_security_enabled"], "port_security_enabled")
    if "binding:vnic_type" in req:
        out["binding:vnic_type"] = out["binding_vnic_type"] = validate.one_of(
            ctx, req["binding:vnic_type"], "binding:vnic_type", VNIC_TYPES
        )
    if "binding:profile" in req:
        out["binding:profile"] = validate.mapping(ctx, req["binding:profile"], "binding:profile", allow_none=True) or {}
    if "extra_dhcp_opts" in req:
        out["extra_dhcp_opts"] = _dict_list(
            ctx, req["extra_dhcp_opts"], "extra_dhcp_opts", {"opt_name", "opt_value", "ip_version"}, {"opt_name"}
        )
        for opt in out["extra_dhcp_opts"]:
            validate.string(ctx, opt["opt_name"], "extra_dhcp_opts", max_len=64, min_len=1)
            validate.string(ctx, opt.get("opt_value"), "extra_dhcp_opts", max_len=255, allow_none=True)
    return out


def router(ctx: Ctx, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = common(ctx, "router", req, creating)
    if "external_gateway_info" in req:
        gw = validate.mapping(ctx, req["external_gateway_info"], "external_gateway_info", allow_none=True)
        if gw:
            extra = set(gw) - {"network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"}
            if extra:
                raise _bad(ctx, "external_gateway_info", f"unexpected keys {sorted(map(str, extra))[:5]}")
            validate.string(ctx, gw.get("network_id"), "external_gateway_info", max_len=64, min_len=1)
            action = "create" if creating else "update"
            if "enable_snat" in gw:
                validate.boolean(ctx, gw["enable_snat"], "external_gateway_info")
                if not ctx.is_admin:
                    raise forbidden(
                        ctx, f"rule:{action}_router and rule:{action}_router:external_gateway_info:enable_snat"
                    )
            if "external_fixed_ips" in gw and not ctx.is_admin:
                raise forbidden(
                    ctx, f"rule:{action}_router and rule:{action}_router:external_gateway_info:external_fixed_ips"
                )
        out["external_gateway_info"] = gw or None
    if "routes" in req:
        out["routes"] = _routes(ctx, req["routes"], "routes")
    for key in ("distributed", "ha"):
        if key in req:
            out[key] = validate.boolean(ctx, req[key], key)
    return out


def security_group(ctx: Ctx, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = common(ctx, "security_group", req, creating)
    if "stateful" in req:
        out["stateful"] = validate.boolean(ctx, req["stateful"], "stateful")
    return out


def rule(ctx: Ctx, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    """A security group rule's fields, normalised as Neutron stores them."""
    out = common(ctx, "security_group_rule", req, creating)
    if not creating:
        return out
    out["security_group_id"] = validate.string(
        ctx, req.get("security_group_id"), "security_group_id", max_len=64, min_len=1
    )
    if req.get("direction") not in ("ingress", "egress"):
        raise _bad(ctx, "direction", f"{validate.show(req.get('direction'))} is not in ['ingress', 'egress']")
    out["direction"] = req["direction"]
    ether = req.get("ethertype") or "IPv4"
    if ether not in ("IPv4", "IPv6"):
        raise _bad(ctx, "ethertype", f"{validate.show(ether)} is not in ['IPv4', 'IPv6']")
    out["ethertype"] = ether
    proto = req.get("protocol")
    if isinstance(proto, bool) or proto is not None and not isinstance(proto, (str, int)):
        raise ctx.bad(
            f"Security group rule protocol {validate.show(proto)} not supported.",
            400,
            "SecurityGroupRuleInvalidProtocol",
        )
    if proto is not None:
        text = str(proto).lower()
        if text.isdigit() and not 0 <= int(text) <= 255 or not text.isdigit() and text not in PROTOCOLS:
            raise ctx.bad(
                f"Security group rule protocol {validate.show(proto)} not supported. Only protocol values "
                f"{sorted(PROTOCOLS)} and integer representations [0 to 255] are supported.",
                400,
                "SecurityGroupRuleInvalidProtocol",
            )
        proto = None if text == "any" else str(int(text)) if text.isdigit() else text
    out["protocol"] = proto
    lo = validate.integer(ctx, req.get("port_range_min"), "port_range_min", lo=0, hi=65535, allow_none=True)
    hi = validate.integer(ctx, req.get("port_range_max"), "port_range_max", lo=0, hi=65535, allow_none=True)
    if (lo is not None or hi is not None) and proto is None:
        raise ctx.bad(
            "Must also specify protocol if port range is given.", 400, "SecurityGroupProtocolRequiredWithPorts"
        )
    if proto in PORT_PROTOCOLS:
        for value in (lo, hi):
            if value == 0:
                raise ctx.bad("Invalid value for port 0.", 400, "SecurityGroupInvalidPortValue")
        if lo is not None and hi is not None and lo > hi:
            raise ctx.bad(
                "For TCP/UDP protocols, port_range_min must be <= port_range_max", 400, "SecurityGroupInvalidPortRange"
            )
        if lo is not None and hi is None:
            hi = lo
    elif proto in ICMP_PROTOCOLS:
        for key, value in (("type", lo), ("code", hi)):
            if value is not None and value > 255:
                raise ctx.bad(
                    f"Invalid value for ICMP {key} (port-range-min): {value}.", 400, "SecurityGroupInvalidIcmpValue"
                )
        if hi is not None and lo is None:
            raise ctx.bad(
                f"ICMP code (port-range-max) {hi} is provided but ICMP type (port-range-min) is missing.",
                400,
                "SecurityGroupMissingIcmpType",
            )
    elif lo is not None or hi is not None:
        raise ctx.bad(
            f"Invalid protocol {proto} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.",
            400,
            "SecurityGroupInvalidProtocolForPortRange",
        )
    out["port_range_min"], out["port_range_max"] = lo, hi
    prefix = req.get("remote_ip_prefix")
    out["remote_ip_prefix"] = out["normalized_cidr"] = None
    if prefix is not None:
        net = _cidr(ctx, prefix, "remote_ip_prefix")
        if (net.version == 4) != (ether == "IPv4"):
            raise ctx.bad(
                f"Conflicting value ethertype {ether} for CIDR {prefix}", 400, "SecurityGroupRuleParameterConflict"
            )
        out["remote_ip_prefix"] = prefix if "/" in prefix else str(net)
        out["normalized_cidr"] = str(net)
    remote = req.get("remote_group_id")
    if remote is not None:
        validate.string(ctx, remote, "remote_group_id", max_len=64, min_len=1)
        if prefix is not None:
            raise ctx.bad(
                "Only remote_ip_prefix or remote_group_id may be provided.",
                400,
                "SecurityGroupRemoteGroupAndRemoteIpPrefix",
            )
        group = ctx.store.get("security_group", remote)
        if group is None or not visible(ctx, "security_group", group):
            raise ctx.bad(f"Security group {remote} does not exist", 404, "SecurityGroupNotFound")
    out["remote_group_id"] = remote
    out.setdefault("description", "")
    return out


def floating_ip(ctx: Ctx, req: dict[str, Any], creating: bool) -> dict[str, Any]:
    out = common(ctx, "floatingip", req, creating)
    if creating:
        out["floating_network_id"] = validate.string(
            ctx, req.get("floating_network_id"), "floating_network_id", max_len=64, min_len=1
        )
        if req.get("floating_ip_address") is not None:
            if not ctx.is_admin:
                raise forbidden(ctx, "rule:create_floatingip and rule:create_floatingip:floating_ip_address")
            out["floating_ip_address"] = _ip(ctx, req["floating_ip_address"], "floating_ip_address")
        if req.get("subnet_id") is not None:
            out["subnet_id"] = validate.string(ctx, req["subnet_id"], "subnet_id", max_len=64, min_len=1)
        for key in ("dns_name", "dns_domain"):
            if key in req:
                out[key] = validate.string(ctx, req[key], key, max_len=255) or ""
    if "port_id" in req:
        out["port_id"] = validate.string(ctx, req["port_id"], "port_id", max_len=64, min_len=1, allow_none=True)
    if req.get("fixed_ip_address") is not None:
        out["fixed_ip_address"] = _ip(ctx, req["fixed_ip_address"], "fixed_ip_address")
    if "qos_policy_id" in req:
        out["qos_policy_id"] = validate.string(ctx, req["qos_policy_id"], "qos_policy_id", max_len=64, allow_none=True)
    return out


FIELDS = {
    "network": network,
    "subnet": subnet,
    "port": port,
    "router": router,
    "security_group": security_group,
    "security_group_rule": rule,
    "floatingip": floating_ip,
}
