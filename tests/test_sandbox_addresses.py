"""No answer of the sandbox cloud carries a routable public address: floating IPs and router
gateways come from a documentation range (RFC 5737), project networks are private, and the rest
is loopback. Checked on everything a typical lab session reads back, through openstacksdk's
proxies, its cloud layer and the `openstack` CLI."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest
from sandbox_fixtures import cli_env, conn, openstack_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(180)

DOCUMENTATION = [
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]
LOOPBACK = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128")]
ANY = {"0.0.0.0/0", "::/0"}  # a security group rule's "from anywhere": a prefix, not an address
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?![\d.])")


def _netmask(text: str) -> bool:
    """255.255.255.0 and its kind (as in the console's ci-info table): a mask, not an address."""
    try:
        return text.startswith("255.") and ipaddress.ip_network(f"0.0.0.0/{text}").prefixlen >= 8
    except ValueError:
        return False


def _allowed(text: str) -> bool:
    if text in ANY or _netmask(text):
        return True
    net = ipaddress.ip_network(text, strict=False)
    return any(net.version == ok.version and net.subnet_of(ok) for ok in DOCUMENTATION + PRIVATE + LOOPBACK)


def routable(value) -> list[str]:
    """Every IPv4 address or prefix inside ``value`` (any JSON, or text) that is not allowed."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += routable(k) + routable(v)
    elif isinstance(value, list):
        for v in value:
            found += routable(v)
    elif isinstance(value, str):
        for addr, prefix in IPV4.findall(value):
            text = addr + (prefix or "")
            try:
                if not _allowed(text):
                    found.append(text)
            except ValueError:
                continue  # not an address after all (an octet over 255)
    return found


def test_the_scanner_flags_public_addresses():
    assert routable({"a": ["log in with ssh ubuntu@149.165.152.11", "8.8.8.8"]}) == ["149.165.152.11", "8.8.8.8"]
    assert routable({"ok": "203.0.113.10 10.0.0.10 127.0.0.1:5000 0.0.0.0/0 Ubuntu 22.04.5 v. 24.1"}) == []
    assert routable("192.0.3.1") == ["192.0.3.1"]  # next to a documentation range is not in it
    assert routable("ens3 | 10.0.0.12 | 255.255.255.0 | 255.0.0.1") == ["255.0.0.1"]


def test_no_sandbox_answer_carries_a_routable_address(conn, sandbox):
    server = conn.create_server(
        "addr-auto-ip", image="Featured-Ubuntu22", flavor="m3.tiny", wait=True, auto_ip=True, timeout=30
    )
    public = conn.network.find_network("public", ignore_missing=False)
    router = conn.network.create_router(name="addr-router", external_gateway_info={"network_id": public.id})
    spare = conn.network.create_ip(floating_network_id=public.id)
    group = conn.network.create_security_group(name="addr-ssh")
    conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    try:
        answers = {}
        pid = conn.current_project_id
        for path in (
            "/networks",
            "/subnets",
            "/ports",
            "/routers",
            "/floatingips",
            "/security-groups",
            "/security-group-rules",
        ):
            answers["network" + path] = conn.network.get(path).json()
        for path in (
            "/servers/detail",
            f"/servers/{server.id}",
            f"/servers/{server.id}/ips",
            "/limits",
            "/os-keypairs",
            f"/servers/{server.id}/os-interface",
        ):
            resp = conn.compute.get(path)
            if resp.status_code == 200:
                answers["compute" + path] = resp.json()
        console = conn.compute.get_server_console_output(server.id)["output"]
        assert "login:" in console
        answers["console"] = console
        answers["cloud.list_servers"] = [dict(s) for s in conn.list_servers(detailed=True)]
        answers["cloud.list_floating_ips"] = [dict(f) for f in conn.list_floating_ips()]
        answers["volumes"] = conn.block_storage.get("/volumes/detail").json()
        answers["catalog"] = conn.session.get(f"{sandbox.base_url}/identity/v3/auth/catalog").json()
        answers["account"] = conn.object_store.get("/").text
        floating = [f["floating_ip_address"] for f in answers["network/floatingips"]["floatingips"]]
        assert len(floating) >= 2 and all(any(ipaddress.ip_address(a) in n for n in DOCUMENTATION) for a in floating)
        gateway = router.external_gateway_info["external_fixed_ips"][0]["ip_address"]
        assert ipaddress.ip_address(gateway) in ipaddress.ip_network("203.0.113.0/24")
        bad = {where: routable(body) for where, body in answers.items()}
        assert {k: v for k, v in bad.items() if v} == {}
        assert pid  # the project id itself is hex, never mistaken for an address
    finally:
        conn.delete_server(server.id, wait=True, delete_ips=True, timeout=10)
        conn.network.delete_ip(spare)
        conn.network.delete_router(router)
        conn.network.delete_security_group(group)


def test_cli_answers_carry_no_routable_address(cli_env):
    for args in (
        ("subnet", "list"),
        ("floating", "ip", "list"),
        ("router", "list", "--long"),
        ("port", "list", "--long"),
    ):
        out = openstack_cli(cli_env, *args, "-f", "json")
        assert out.returncode == 0, (args, out.stderr[-400:])
        assert routable(json.loads(out.stdout)) == [], args


def test_a_sandbox_seeded_with_the_real_range_is_readdressed_at_start(tmp_path):
    """A state directory from before the documentation range: its next start moves every public address."""
    from lab_helpers.sandbox.openstack.family import OPENSTACK
    from lab_helpers.sandbox.openstack.identity import bootstrap
    from lab_helpers.sandbox.openstack.neutron.model import base_doc, readdress_public
    from lab_helpers.sandbox.store import Store

    store = Store(tmp_path)
    bootstrap(store)
    project = store.meta("project_id")
    with store.tx():
        OPENSTACK.prepare(store)
        public = next(n for n in store.list("network") if n["name"] == "public")
        sub = store.get("subnet", public["subnets"][0])
        sub.update(
            cidr="149.165.152.0/21",
            gateway_ip="149.165.152.1",
            allocation_pools=[{"start": "149.165.152.2", "end": "149.165.159.254"}],
        )
        store.put("subnet", sub["id"], sub)
        router = store.list("router")[0]
        router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] = "149.165.152.10"
        store.put("router", router["id"], router)
        old = base_doc(project, floating_network_id=public["id"], floating_ip_address="149.165.152.11", port_id=None)
        store.put("floatingip", old["id"], old)
    with store.tx():
        OPENSTACK.prepare(store)
    answers = {"subnets": store.list("subnet"), "routers": store.list("router"), "fips": store.list("floatingip")}
    assert routable(answers) == []
    assert store.get("floatingip", old["id"])["floating_ip_address"].startswith("203.0.113.")
    assert readdress_public(store) == 0  # once moved, nothing more to do
    store.close()
