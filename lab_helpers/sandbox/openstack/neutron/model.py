"""Neutron's resources in the store: networks, subnets, ports, routers, security groups and rules,
floating IPs, with Jetstream2's defaults (``auto_allocated_network``, the external ``public``
network, one router, a ``default`` security group that allows egress only), and the operations
Nova performs on them for a server (bind, release, read its addresses). No request context here:
the handlers (``resources``, ``routers``, ``tags``) check the request, then call these."""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from typing import Any

from ... import errors
from ...addresses import network_allowed
from ...store import Store, iso, now
from .. import catalog_data
from ..identity import ADMIN_PROJECT

RESOURCES = {  # url plural -> (store kind, json key, NotFound type, not-found message)
    "networks": ("network", "network", "NetworkNotFound", "Network {} could not be found."),
    "subnets": ("subnet", "subnet", "SubnetNotFound", "Subnet {} could not be found."),
    "ports": ("port", "port", "PortNotFound", "Port {} could not be found."),
    "routers": ("router", "router", "RouterNotFound", "Router {} could not be found"),
    "security-groups": (
        "security_group",
        "security_group",
        "SecurityGroupNotFound",
        "Security group {} does not exist",
    ),
    "security-group-rules": (
        "security_group_rule",
        "security_group_rule",
        "SecurityGroupRuleNotFound",
        "Security group rule {} does not exist",
    ),
    "floatingips": ("floatingip", "floatingip", "FloatingIPNotFound", "Floating IP {} could not be found"),
}
QUOTA_KEYS = {
    "network": "network",
    "subnet": "subnet",
    "port": "port",
    "router": "router",
    "floatingip": "floatingip",
    "security_group": "security_group",
    "security_group_rule": "security_group_rule",
}


def base_doc(project: str, **fields: Any) -> dict[str, Any]:
    t = iso(now())
    return {
        "id": str(uuid.uuid4()),
        "project_id": project,
        "tenant_id": project,
        "tags": [],
        "description": "",
        "created_at": t,
        "updated_at": t,
        "revision_number": 0,
        **fields,
    }


def seed(store: Store, project: str) -> None:
    """JS2's networking for a new project: what `lab sandbox reset` returns to."""
    cfg = catalog_data.raw()["network"]
    public = store.put(
        "network",
        catalog_data.stable_id("net", "public"),
        base_doc(
            ADMIN_PROJECT,
            id=catalog_data.stable_id("net", "public"),
            name="public",
            status="ACTIVE",
            admin_state_up=True,
            shared=False,
            mtu=1500,
            subnets=[],
            **{
                "router:external": True,
                "availability_zones": ["nova"],
                "is_default": True,
                "port_security_enabled": True,
                "provider:network_type": None,
            },
        ),
    )
    pub_sub = create_subnet(store, ADMIN_PROJECT, public["id"], "public-subnet", cfg["sandbox_external_cidr"])
    own = base_doc(
        project,
        name="auto_allocated_network",
        status="ACTIVE",
        admin_state_up=True,
        shared=False,
        mtu=1442,
        subnets=[],
        **{"router:external": False, "availability_zones": ["nova"], "port_security_enabled": True},
    )
    store.put("network", own["id"], own)
    sub = create_subnet(
        store,
        project,
        own["id"],
        "auto_allocated_subnet_v4",
        cfg["internal_cidr"],
        dns=list(cfg.get("sandbox_dns", [])),
    )
    router = base_doc(
        project,
        name="auto_allocated_router",
        status="ACTIVE",
        admin_state_up=True,
        distributed=False,
        ha=False,
        routes=[],
        availability_zones=["nova"],
        flavor_id=None,
        external_gateway_info={
            "network_id": public["id"],
            "enable_snat": True,
            "external_fixed_ips": [{"subnet_id": pub_sub["id"], "ip_address": next_ip(store, pub_sub)}],
        },
    )
    store.put("router", router["id"], router)
    make_port(
        store, project, own["id"], device_id=router["id"], device_owner="network:router_interface", ip=sub["gateway_ip"]
    )
    create_security_group(
        store, project, "default", "Default security group: egress only (add ingress rules for ssh, http)"
    )


def readdress_public(store: Store) -> int:
    """Move external subnets off a routable range (a sandbox made before the sandbox used a
    documentation range): the subnet, floating IPs and router gateways get new addresses. Returns
    how many addresses changed."""
    target = catalog_data.raw()["network"]["sandbox_external_cidr"]
    changed = 0
    for sub in store.list("subnet"):
        net = store.get("network", sub["network_id"]) or {}
        if not net.get("router:external") or network_allowed(ipaddress.ip_network(sub["cidr"])):
            continue
        ipnet = ipaddress.ip_network(target)
        sub.update(
            cidr=target, gateway_ip=str(ipnet[1]), allocation_pools=[{"start": str(ipnet[2]), "end": str(ipnet[-2])}]
        )
        store.put("subnet", sub["id"], sub)
        for fip in store.list("floatingip"):
            if fip["floating_network_id"] == net["id"]:
                fip["floating_ip_address"] = (
                    "0.0.0.0"  # freed first, so that _next_ip can hand out the whole range again
                )
                store.put("floatingip", fip["id"], fip)
        for fip in store.list("floatingip"):
            if fip["floating_network_id"] == net["id"]:
                fip["floating_ip_address"] = next_ip(store, sub)
                store.put("floatingip", fip["id"], fip)
                changed += 1
        for router in store.list("router"):
            for ip in (router.get("external_gateway_info") or {}).get("external_fixed_ips", []):
                if ip["subnet_id"] == sub["id"]:
                    ip["ip_address"] = "0.0.0.0"
                    store.put("router", router["id"], router)
                    ip["ip_address"] = next_ip(store, sub)
                    store.put("router", router["id"], router)
                    changed += 1
    return changed


def create_subnet(
    store: Store, project: str, net_id: str, name: str, cidr: str, dns: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """A subnet on ``net_id``: the first host address is the gateway, the rest the allocation pool,
    unless ``fields`` say otherwise (``gateway_ip`` may be None: no gateway)."""
    ipnet = ipaddress.ip_network(cidr)
    first, last = (ipnet[1], ipnet[-2]) if ipnet.version == 4 else (ipnet[1], ipnet[-1])
    gateway = fields.pop("gateway_ip", str(first))
    pools = fields.pop("allocation_pools", None) or [
        {"start": str(first + 1 if gateway == str(first) else first), "end": str(last)}
    ]
    sub = base_doc(
        project,
        name=name,
        network_id=net_id,
        cidr=cidr,
        ip_version=ipnet.version,
        gateway_ip=gateway,
        enable_dhcp=True,
        dns_nameservers=dns or [],
        host_routes=[],
        ipv6_ra_mode=None,
        ipv6_address_mode=None,
        allocation_pools=pools,
        subnetpool_id=None,
        segment_id=None,
        service_types=[],
        dns_publish_fixed_ip=None,
    )
    sub.update(fields)
    store.put("subnet", sub["id"], sub)
    net = store.get("network", net_id)
    if net:
        net["subnets"].append(sub["id"])
        store.put("network", net_id, net)
    return sub


class NoMoreAddresses(errors.ApiError):
    """A subnet with every address of its allocation pools in use: Neutron's 409."""

    def __init__(self, sub: dict[str, Any]) -> None:
        super().__init__(
            errors.neutron(
                409, "IpAddressGenerationFailure", f"No more IP addresses available on network {sub['network_id']}."
            ).response
        )


def used_addresses(store: Store) -> set[str]:
    """Every address a port, floating IP, router gateway or subnet gateway holds."""
    used = {ip["ip_address"] for p in store.list("port") for ip in p["fixed_ips"]}
    used |= {f["floating_ip_address"] for f in store.list("floatingip")}
    used |= {
        ip["ip_address"]
        for r in store.list("router")
        for ip in (r.get("external_gateway_info") or {}).get("external_fixed_ips", [])
    }
    used |= {s["gateway_ip"] for s in store.list("subnet") if s.get("gateway_ip")}
    return used


def next_ip(store: Store, sub: dict[str, Any]) -> str:
    used = used_addresses(store)
    for pool in sub["allocation_pools"]:
        start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        ip = start + 8 if int(end) - int(start) > 32 else start  # leave room for DHCP and service ports
        while int(ip) <= int(end):  # a pool's two ends share the subnet's IP version
            if str(ip) not in used:
                return str(ip)
            ip += 1
    raise NoMoreAddresses(sub)


def make_port(
    store: Store,
    project: str,
    net_id: str,
    device_id: str = "",
    device_owner: str = "",
    ip: str | None = None,
    groups: list[str] | None = None,
    name: str = "",
    description: str = "",
    subnet_id: str | None = None,
    mac: str | None = None,
) -> dict[str, Any]:
    net = store.get("network", net_id)
    sub_id = subnet_id or (net["subnets"][0] if net and net["subnets"] else None)
    sub = store.get("subnet", sub_id) if sub_id else None
    fixed = [{"subnet_id": sub["id"], "ip_address": ip or next_ip(store, sub)}] if sub else []
    mac = mac or "fa:16:3e:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))
    port = base_doc(
        project,
        name=name,
        description=description,
        network_id=net_id,
        admin_state_up=True,
        mac_address=mac,
        fixed_ips=fixed,
        device_id=device_id,
        device_owner=device_owner,
        status="ACTIVE" if device_id else "DOWN",
        allowed_address_pairs=[],
        extra_dhcp_opts=[],
        security_groups=groups if groups is not None else [],
        port_security_enabled=True,
        binding_vnic_type="normal",
        **{"binding:vnic_type": "normal", "binding:host_id": ""},
    )
    store.put("port", port["id"], port)
    return port


def default_network(store: Store, project: str) -> dict[str, Any]:
    for net in store.list("network"):
        if net["name"] == "auto_allocated_network" and net["project_id"] == project:
            return net
    for net in store.list("network"):
        if not net.get("router:external"):
            return net
    raise RuntimeError("the project has no network: run `lab sandbox reset`")


def find_security_group(store: Store, project: str, ref: str) -> dict[str, Any] | None:
    for g in store.list("security_group"):
        if ref in (g["id"], g["name"]) and g["project_id"] == project:
            return g
    return None


def bind_port(
    store: Store, project: str, net_id: str, port_id: str | None, server_id: str, group_ids: list[str]
) -> None:
    if port_id:
        port = store.need("port", port_id)
        port.update(device_id=server_id, device_owner="compute:nova", status="ACTIVE")
        store.put("port", port_id, port)
    else:
        make_port(store, project, net_id, server_id, "compute:nova", groups=group_ids)


def set_port_groups(store: Store, server_id: str, group_ids: list[str]) -> None:
    for port in store.list("port", parent=server_id):
        port["security_groups"] = group_ids
        store.put("port", port["id"], port)


def release_ports(store: Store, server_id: str) -> None:
    """A deleted server's ports go away; their floating IPs stay, unassociated (as in Neutron)."""
    for port in store.list("port", parent=server_id):
        for fip in store.list("floatingip", parent=port["id"]):
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            store.put("floatingip", fip["id"], fip)
        store.delete("port", port["id"])


def server_addresses(store: Store, server: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for port in store.list("port", parent=server["id"]):
        net = store.get("network", port["network_id"]) or {"name": port["network_id"]}
        rows = out.setdefault(net["name"], [])
        for ip in port["fixed_ips"]:
            rows.append(
                {
                    "version": 4,
                    "addr": ip["ip_address"],
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
        for fip in store.list("floatingip", parent=port["id"]):
            rows.append(
                {
                    "version": 4,
                    "addr": fip["floating_ip_address"],
                    "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
    return out


def create_security_group(store: Store, project: str, name: str, description: str = "") -> dict[str, Any]:
    group = base_doc(project, name=name, description=description, stateful=True, security_group_rules=[])
    store.put("security_group", group["id"], group)
    for ether in ("IPv4", "IPv6"):
        add_rule(store, project, group["id"], direction="egress", ethertype=ether)
    return store.need("security_group", group["id"])


def _normalized(prefix: str | None) -> str | None:
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def add_rule(store: Store, project: str, group_id: str, **fields: Any) -> dict[str, Any]:
    rule = base_doc(
        project,
        security_group_id=group_id,
        direction=fields.get("direction"),
        ethertype=fields.get("ethertype") or "IPv4",
        protocol=fields.get("protocol"),
        port_range_min=fields.get("port_range_min"),
        port_range_max=fields.get("port_range_max"),
        remote_ip_prefix=fields.get("remote_ip_prefix"),
        remote_group_id=fields.get("remote_group_id"),
        remote_address_group_id=None,
        belongs_to_default_sg=None,
        normalized_cidr=fields.get("normalized_cidr") or _normalized(fields.get("remote_ip_prefix")),
        description=fields.get("description") or "",
    )
    store.put("security_group_rule", rule["id"], rule)
    group = store.need("security_group", group_id)
    group["security_group_rules"].append(rule)
    store.put("security_group", group_id, group)
    return rule
