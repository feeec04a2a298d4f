"""Neutron on the sandbox through the real openstacksdk: JS2's default networking,
security groups, floating IPs, tags, quotas and NeutronError bodies."""

from __future__ import annotations

import openstack
import pytest
from sandbox_fixtures import conn, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(120)


def test_default_networking_is_js2s(conn):
    nets = {n.name: n for n in conn.network.networks()}
    assert nets["public"].is_router_external and not nets["auto_allocated_network"].is_router_external
    subnet = next(conn.network.subnets(network_id=nets["auto_allocated_network"].id))
    assert subnet.cidr == "10.0.0.0/24"
    routers = list(conn.network.routers())
    assert len(routers) == 1 and routers[0].external_gateway_info["network_id"] == nets["public"].id
    default = conn.network.find_security_group("default", ignore_missing=False)
    directions = {r["direction"] for r in default.security_group_rules}
    assert directions == {"egress"}  # no ingress: a forgotten ssh rule means no ssh


def test_security_group_rules_and_errors(conn):
    group = conn.network.create_security_group(name="lab03-ssh", description="ssh in")
    rule = conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    assert rule.port_range_min == 22
    with pytest.raises(openstack.exceptions.ConflictException, match="Security group rule already exists"):
        conn.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            ethertype="IPv4",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
            remote_ip_prefix="0.0.0.0/0",
        )
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.network.create_security_group_rule(security_group_id=group.id, direction="sideways")
    default = conn.network.find_security_group("default", ignore_missing=False)
    with pytest.raises(openstack.exceptions.ConflictException, match="Removing default security group not allowed"):
        conn.network.delete_security_group(default)
    conn.network.delete_security_group(group)
    with pytest.raises(openstack.exceptions.ResourceNotFound, match="does not exist"):
        conn.network.get_security_group(group.id)


def test_neutron_error_body_shape(conn):
    resp = conn.network.get("/networks/00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404
    assert resp.json()["NeutronError"]["type"] == "NetworkNotFound"


def test_floating_ip_on_a_server_port(conn):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    server = conn.compute.wait_for_server(
        conn.compute.create_server(name="web", image_id=image.id, flavor_id=flavor.id, networks="auto"),
        interval=0.05,
        wait=10,
    )
    port = next(conn.network.ports(device_id=server.id))
    public = conn.network.find_network("public", ignore_missing=False)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    assert fip.status == "ACTIVE" and fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    addrs = conn.compute.get_server(server.id).addresses["auto_allocated_network"]
    assert {"floating", "fixed"} == {a["OS-EXT-IPS:type"] for a in addrs}
    conn.compute.delete_server(server)
    assert conn.network.get_ip(fip.id).port_id is None  # the address stays with the project
    conn.network.delete_ip(fip)


def test_floating_ip_quota(conn):
    public = conn.network.find_network("public", ignore_missing=False)
    made = []
    try:
        with pytest.raises(
            openstack.exceptions.ConflictException, match=r"Quota exceeded for resources: \['floatingip'\]"
        ):
            for _ in range(11):
                made.append(conn.network.create_ip(floating_network_id=public.id))
        assert len(made) == 10  # the Startup/Research CPU allocation's 10 floating IPs
    finally:
        for ip in made:
            conn.network.delete_ip(ip)


def test_tags_round_trip_and_filter(conn):
    net = conn.network.create_network(name="lab-net")
    conn.network.set_tags(net, ["lab:03", "learner:me"])
    assert sorted(conn.network.get_network(net.id).tags) == ["lab:03", "learner:me"]
    assert [n.name for n in conn.network.networks(tags="lab:03")] == ["lab-net"]
    assert list(conn.network.networks(tags="lab:99")) == []
    net.add_tag(conn.network, "expires:2026-12-01")
    assert "expires:2026-12-01" in conn.network.get_network(net.id).tags
    conn.network.delete_network(net)


def test_network_quota_details(conn):
    quota = conn.network.get_quota(conn.current_project_id, details=True)
    assert quota.floating_ips["limit"] == 10
    assert quota.routers["used"] == 1


def test_a_port_keeps_its_description(conn):
    """Labs mark hand-made ports in the description at creation, before any tag is set."""
    net = conn.network.find_network("auto_allocated_network")
    port = conn.network.create_port(network_id=net.id, name="marked", description="course-lab=03 course-learner=x")
    try:
        assert conn.network.get_port(port.id).description == "course-lab=03 course-learner=x"
    finally:
        conn.network.delete_port(port)
