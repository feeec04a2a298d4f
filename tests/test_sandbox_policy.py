"""What a project member may see and change on the sandbox, as OpenStack's default policies
decide it, and the typed checks on every Neutron write; through the real openstacksdk, the
`openstack` CLI and, for oversized bodies, raw HTTP."""

from __future__ import annotations

import openstack
import pytest
import requests
from sandbox_fixtures import admin_conn, cli_env, conn, openstack_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(180)
OTHER_PROJECT = "0123456789abcdef0123456789abcdef"


def _neutron_error(resp) -> dict:
    return resp.json()["NeutronError"]


def test_member_cannot_change_the_admins_public_network(conn):
    public = conn.network.find_network("public", ignore_missing=False)
    subnet = next(conn.network.subnets(network_id=public.id))
    with pytest.raises(
        openstack.exceptions.ForbiddenException, match=r"\(rule:update_network\) is disallowed by policy"
    ):
        conn.network.update_network(public, name="mine")
    with pytest.raises(openstack.exceptions.ForbiddenException, match="disallowed by policy"):
        conn.network.delete_network(public)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.network.update_subnet(subnet, name="mine")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.network.delete_subnet(subnet)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.network.set_tags(public, ["mine"])
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.network.create_subnet(network_id=public.id, cidr="203.0.113.128/25", ip_version=4)
    resp = conn.network.put(f"/networks/{public.id}", json={"network": {"name": "x"}})
    assert resp.status_code == 403 and _neutron_error(resp)["type"] == "PolicyNotAuthorized"
    after = conn.network.get_network(public.id)
    assert after.name == "public" and after.is_router_external and after.tags == []
    # still usable: a floating IP from it
    fip = conn.network.create_ip(floating_network_id=public.id)
    conn.network.delete_ip(fip)


def test_another_projects_resources_are_not_found(conn, admin_conn):
    hidden = admin_conn.network.create_network(name="someone-elses", project_id=OTHER_PROJECT)
    group = admin_conn.network.create_security_group(name="theirs", project_id=OTHER_PROJECT)
    try:
        assert "someone-elses" not in {n.name for n in conn.network.networks()}
        for call in (
            lambda: conn.network.get_network(hidden.id),
            lambda: conn.network.update_network(hidden.id, name="x"),
            lambda: conn.network.delete_network(hidden.id, ignore_missing=False),
            lambda: conn.network.update_security_group(group.id, name="x"),
            lambda: conn.network.delete_security_group(group.id, ignore_missing=False),
            lambda: conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress"),
        ):
            with pytest.raises(openstack.exceptions.NotFoundException):
                call()
        assert admin_conn.network.get_network(hidden.id).name == "someone-elses"  # the admin sees every project
    finally:
        admin_conn.network.delete_network(hidden)
        admin_conn.network.delete_security_group(group)


def test_a_server_boots_only_on_networks_and_ports_its_project_may_see(conn, admin_conn):
    """Nova asks Neutron as the member: another project's network or port does not exist (400), a shared one does."""
    hidden = admin_conn.network.create_network(name="theirs-net", project_id=OTHER_PROJECT)
    admin_conn.network.create_subnet(network_id=hidden.id, cidr="10.77.0.0/24", ip_version=4, project_id=OTHER_PROJECT)
    their_port = admin_conn.network.create_port(network_id=hidden.id, project_id=OTHER_PROJECT)
    shared = admin_conn.network.create_network(name="everyones-net", shared=True)
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    boot = dict(image_id=image.id, flavor_id=flavor.id)
    try:
        with pytest.raises(openstack.exceptions.BadRequestException, match=f"Network {hidden.id} could not be found"):
            conn.compute.create_server(name="on-theirs", networks=[{"uuid": hidden.id}], **boot)
        with pytest.raises(openstack.exceptions.BadRequestException, match=f"Port {their_port.id} could not be found"):
            conn.compute.create_server(name="on-their-port", networks=[{"port": their_port.id}], **boot)
        assert not [s for s in conn.compute.servers() if s.name.startswith("on-their")]
        assert admin_conn.network.get_port(their_port.id).device_id == ""  # still free: nothing was bound to it
        server = conn.compute.create_server(name="on-shared", networks=[{"uuid": shared.id}], **boot)
        try:
            assert [p.network_id for p in conn.network.ports(device_id=server.id)] == [shared.id]
        finally:
            conn.compute.delete_server(server)
    finally:
        admin_conn.network.delete_port(their_port)
        admin_conn.network.delete_network(hidden)
        admin_conn.network.delete_network(shared)


def test_a_member_may_not_change_or_delete_the_featured_images(conn):
    """Glance answers 403 (not 405) to a member's PATCH or DELETE of the operator's public images."""
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    with pytest.raises(openstack.exceptions.ForbiddenException, match="not permitted to modify"):
        conn.image.update_image(image, name="mine")
    with pytest.raises(openstack.exceptions.ForbiddenException, match="not permitted to delete"):
        conn.image.delete_image(image, ignore_missing=False)
    resp = conn.image.delete(f"/images/{image.id}")
    assert resp.status_code == 403
    assert conn.image.get_image(image.id).name == "Featured-Ubuntu22"


def test_floating_ip_address_is_the_admins_choice(conn, admin_conn):
    public = conn.network.find_network("public", ignore_missing=False)
    for address in ("8.8.8.8", "203.0.113.77"):
        with pytest.raises(openstack.exceptions.ForbiddenException, match="create_floatingip:floating_ip_address"):
            conn.network.create_ip(floating_network_id=public.id, floating_ip_address=address)
    assert not list(conn.network.ips(floating_ip_address="8.8.8.8"))
    with pytest.raises(openstack.exceptions.BadRequestException, match="not a valid IP for any of the subnets"):
        admin_conn.network.create_ip(floating_network_id=public.id, floating_ip_address="8.8.8.8")
    chosen = admin_conn.network.create_ip(floating_network_id=public.id, floating_ip_address="203.0.113.77")
    try:
        assert chosen.floating_ip_address == "203.0.113.77"
        with pytest.raises(openstack.exceptions.ConflictException, match="already allocated"):
            admin_conn.network.create_ip(floating_network_id=public.id, floating_ip_address="203.0.113.77")
    finally:
        admin_conn.network.delete_ip(chosen)


def test_quotas_of_another_project_are_forbidden(conn, admin_conn):
    assert conn.network.get_quota(conn.current_project_id).floating_ips == 10
    with pytest.raises(openstack.exceptions.ForbiddenException, match="get_quota"):
        conn.network.get_quota(OTHER_PROJECT)
    assert admin_conn.network.get_quota(OTHER_PROJECT, details=True).networks["used"] == 0
    before = conn.network.get_quota(conn.current_project_id).networks
    with pytest.raises(openstack.exceptions.ForbiddenException, match="update_quota"):
        conn.network.update_quota(conn.current_project_id, networks=before + 1)
    assert conn.network.get_quota(conn.current_project_id).networks == before


def test_keystone_member_sees_only_its_own(conn, admin_conn, sandbox):
    assert conn.identity.get_project(conn.current_project_id).name == "sandbox"
    with pytest.raises(openstack.exceptions.ForbiddenException, match="identity:get_project"):
        conn.identity.get_project(OTHER_PROJECT)
    with pytest.raises(openstack.exceptions.NotFoundException):
        admin_conn.identity.get_project(OTHER_PROJECT)
    with pytest.raises(openstack.exceptions.ForbiddenException, match="identity:create_project"):
        conn.identity.create_project(name="mine")
    admin_id = admin_conn.current_user_id
    with pytest.raises(openstack.exceptions.ForbiddenException, match="identity:get_user"):
        conn.identity.get_user(admin_id)
    with pytest.raises(openstack.exceptions.ForbiddenException, match="identity:delete_user"):
        conn.identity.delete_user(admin_id)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(conn.identity.application_credentials(user=admin_id))
    assert conn.identity.get(f"/users/{admin_id}/credentials/OS-EC2").status_code == 403
    assert conn.identity.get(f"/users/{conn.current_user_id}/credentials/OS-EC2").status_code == 200


def test_port_security_groups_are_typed_and_deleting_groups_still_works(conn):
    net = conn.network.find_network("auto_allocated_network", ignore_missing=False)
    port = conn.network.create_port(network_id=net.id, name="typed")
    group = conn.network.create_security_group(name="doomed")
    try:
        for bad in (5, "abc", [5], {"a": 1}):
            resp = conn.network.put(f"/ports/{port.id}", json={"port": {"security_groups": bad}})
            assert resp.status_code == 400, (bad, resp.text)
        with pytest.raises(openstack.exceptions.NotFoundException, match="does not exist"):
            conn.network.update_port(port, security_groups=["00000000-0000-0000-0000-000000000000"])
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.create_port(network_id=net.id, security_groups=5)
        conn.network.update_port(port, security_groups=[group.id])
        with pytest.raises(openstack.exceptions.ConflictException, match="in use"):
            conn.network.delete_security_group(group)
        conn.network.update_port(port, security_groups=[])
    finally:
        conn.network.delete_port(port)
    conn.network.delete_security_group(group)
    assert conn.network.find_security_group("doomed") is None


RULE_CASES = [
    ({"protocol": "tcp", "port_range_min": 99999, "port_range_max": 99999}, "99999"),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 22}, "port 0"),
    ({"protocol": "tcp", "port_range_min": 443, "port_range_max": 80}, "port_range_min must be <= port_range_max"),
    ({"protocol": "tcp", "port_range_min": "22a", "port_range_max": 22}, "integer"),
    ({"protocol": "bogus"}, "not supported"),
    ({"protocol": 300}, "not supported"),
    ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, "only supported for TCP"),
    ({"port_range_min": 22, "port_range_max": 22}, "Must also specify protocol"),
    ({"protocol": "icmp", "port_range_min": 300}, "ICMP type"),
    ({"protocol": "tcp", "remote_ip_prefix": "not-a-cidr"}, "not a valid IP subnet"),
    ({"protocol": "tcp", "remote_ip_prefix": 5}, "not a valid IP subnet"),
    ({"protocol": "tcp", "remote_ip_prefix": "::/0"}, "Conflicting value ethertype IPv4"),
    ({"protocol": "tcp", "ethertype": "IPv5"}, "ethertype"),
    ({"protocol": "tcp", "description": "x" * 256}, "description"),
]


@pytest.mark.parametrize("fields,message", RULE_CASES, ids=[m for _, m in RULE_CASES])
def test_security_group_rule_fields_are_checked(conn, fields, message):
    group = conn.network.find_security_group("rules-checked") or conn.network.create_security_group(
        name="rules-checked"
    )
    with pytest.raises(openstack.exceptions.BadRequestException, match=message):
        conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress", **fields)
    assert [r["direction"] for r in conn.network.get_security_group(group.id).security_group_rules] == [
        "egress",
        "egress",
    ]


def test_rule_prefixes_are_normalised(conn):
    group = conn.network.create_security_group(name="normalised")
    rule = conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="10.0.0.5/24",
    )
    assert rule.remote_ip_prefix == "10.0.0.5/24" and conn.network.get_security_group_rule(rule.id).port_range_max == 22
    resp = conn.network.get(f"/security-group-rules/{rule.id}")
    assert resp.json()["security_group_rule"]["normalized_cidr"] == "10.0.0.0/24"
    with pytest.raises(openstack.exceptions.ConflictException, match="already exists"):
        conn.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
            remote_ip_prefix="10.0.0.0/24",
        )
    conn.network.delete_security_group(group)


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", "n" * 100_000),
        ("name", "n" * 256),
        ("description", "d" * 256),
        ("name", 5),
        ("admin_state_up", "maybe"),
        ("mtu", 99999),
        ("shared", []),
    ],
)
def test_network_fields_are_checked(conn, field, value):
    resp = conn.network.post("/networks", json={"network": {field: value}})
    assert resp.status_code in (400, 413), resp.text[:300]
    assert all(len(n.name) <= 255 for n in conn.network.networks())


def test_tags_and_names_are_bounded(conn):
    net = conn.network.create_network(name="n" * 255)
    try:
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.set_tags(net, ["t" * 256])
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.set_tags(net, [""])
        assert conn.network.put(f"/networks/{net.id}/tags/{'t' * 256}").status_code == 400
        conn.network.set_tags(net, ["t" * 255])
        assert conn.network.get_network(net.id).tags == ["t" * 255]
        resp = conn.network.put(f"/networks/{net.id}", json={"network": {"subnets": ["x"]}})
        assert resp.status_code == 400 and "read-only attribute subnets" in resp.text
    finally:
        conn.network.delete_network(net)


def test_subnets_are_checked(conn):
    net = conn.network.create_network(name="subnets-checked")
    try:
        for cidr, message in (
            ("8.8.8.0/24", "routable public range"),
            ("10.9.0.1/24", "10.9.0.0/24"),
            ("bogus", "not a valid IP subnet"),
            ("10.9.0.0/31", "too small"),
        ):
            with pytest.raises(openstack.exceptions.BadRequestException, match=message):
                conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4)
        sub = conn.network.create_subnet(network_id=net.id, cidr="10.9.0.0/29", ip_version=4)
        with pytest.raises(openstack.exceptions.BadRequestException, match="overlaps"):
            conn.network.create_subnet(network_id=net.id, cidr="10.9.0.0/28", ip_version=4)
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.update_subnet(sub, gateway_ip="192.168.1.1")
        ports = []
        with pytest.raises(openstack.exceptions.ConflictException, match="No more IP addresses"):
            for _ in range(8):  # a /29 has 5 addresses for ports
                ports.append(conn.network.create_port(network_id=net.id))
        assert len(ports) == 5
        for port in ports:
            conn.network.delete_port(port)
    finally:
        conn.network.delete_network(net)


def test_router_gateway_and_interfaces_are_checked(conn):
    own = conn.network.find_network("auto_allocated_network", ignore_missing=False)
    public = conn.network.find_network("public", ignore_missing=False)
    with pytest.raises(openstack.exceptions.BadRequestException, match="not an external network"):
        conn.network.create_router(name="r", external_gateway_info={"network_id": own.id})
    with pytest.raises(openstack.exceptions.ForbiddenException, match="enable_snat"):
        conn.network.create_router(name="r", external_gateway_info={"network_id": public.id, "enable_snat": False})
    router = conn.network.create_router(name="r2", external_gateway_info={"network_id": public.id})
    try:
        gw_ip = router.external_gateway_info["external_fixed_ips"][0]["ip_address"]
        assert gw_ip.startswith("203.0.113.")
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.update_router(router, routes=[{"destination": "bogus", "nexthop": "10.0.0.1"}])
        public_subnet = next(conn.network.subnets(network_id=public.id))
        with pytest.raises((openstack.exceptions.ForbiddenException, openstack.exceptions.BadRequestException)):
            conn.network.add_interface_to_router(router, subnet=public_subnet.id)
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.add_interface_to_router(router)
    finally:
        conn.network.delete_router(router)


def test_cli_gets_neutrons_refusals(cli_env):
    out = openstack_cli(cli_env, "network", "set", "--name", "mine", "public")
    assert out.returncode != 0 and "disallowed by policy" in out.stderr
    out = openstack_cli(cli_env, "floating", "ip", "create", "--floating-ip-address", "8.8.8.8", "public")
    assert out.returncode != 0 and "disallowed by policy" in out.stderr
    out = openstack_cli(
        cli_env, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "99999", "default"
    )
    assert out.returncode != 0 and "99999" in out.stderr + out.stdout
    out = openstack_cli(cli_env, "network", "show", "public", "-f", "value", "-c", "name")
    assert out.returncode == 0 and out.stdout.strip() == "public"


def test_oversized_bodies_get_413_but_object_data_streams(conn, sandbox):
    headers = {"X-Auth-Token": conn.session.get_token(), "Content-Type": "application/json"}
    big = b'{"network": {"name": "' + b"x" * (5 << 20) + b'"}}'
    pid = conn.current_project_id
    for path in (
        "/network/v2.0/networks",
        "/compute/v2.1/servers",
        f"/volume/v3/{pid}/volumes",
        "/identity/v3/auth/tokens",
    ):
        resp = requests.post(sandbox.base_url + path, data=big, headers=headers, timeout=30)
        assert resp.status_code == 413, (path, resp.status_code)
    chunks = (b"x" * 100_000 for _ in range(50))  # no Content-Length: Transfer-Encoding chunked
    assert (
        requests.post(sandbox.base_url + "/network/v2.0/networks", data=chunks, headers=headers, timeout=30).status_code
        == 413
    )
    with pytest.raises(openstack.exceptions.HttpException) as exc:
        conn.network.create_network(name="x" * (5 << 20))
    assert exc.value.status_code == 413
    conn.object_store.create_container("big")
    data = b"y" * (5 << 20)
    conn.object_store.upload_object("big", "five-mb", data=data)
    assert conn.object_store.download_object("five-mb", container="big") == data
    conn.object_store.delete_object("five-mb", container="big")
    conn.object_store.delete_container("big")


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "limit=1.5"])
def test_bad_limits_are_400(conn, query):
    for service, path in (
        (conn.network, "/networks"),
        (conn.network, "/ports"),
        (conn.compute, "/servers"),
        (conn.block_storage, "/volumes"),
    ):
        resp = service.get(f"{path}?{query}")
        assert resp.status_code == 400, (path, query, resp.status_code)
    with pytest.raises(openstack.exceptions.BadRequestException):
        list(conn.network.networks(limit=-1))
