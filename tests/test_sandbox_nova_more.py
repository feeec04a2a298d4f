"""Nova around a server on the sandbox, through the real openstacksdk and the `openstack` CLI:
a server's security groups and interfaces, server groups, instance actions, simple tenant
usage, and Nova's and Cinder's validation (types, lengths, filters, other projects' quotas)."""

from __future__ import annotations

import datetime as dt
import json

import openstack
import pytest
from sandbox_fixtures import admin_conn, cli_env, conn, openstack_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(180)
OTHER_PROJECT = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def server(conn):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    made = conn.compute.create_server(name="nova-more", image_id=image.id, flavor_id=flavor.id, networks="auto")
    return conn.compute.wait_for_server(made, interval=0.05, wait=20)


def test_server_security_groups_come_from_its_ports(conn, server):
    group = conn.network.create_security_group(name="ssh-only")
    conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    conn.compute.add_security_group_to_server(server, group)
    body = conn.compute.get(f"/servers/{server.id}/os-security-groups").json()["security_groups"]
    by_name = {g["name"]: g for g in body}
    assert set(by_name) == {"default", "ssh-only"}
    rule = by_name["ssh-only"]["rules"][0]
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"], rule["ip_range"]) == (
        "tcp",
        22,
        22,
        {"cidr": "0.0.0.0/0"},
    )
    # The cloud layer reads the same API (what an infrastructure tool calls on every run).
    names = {g["name"] for g in conn.list_server_security_groups(conn.get_server(server.id))}
    assert names == {"default", "ssh-only"}
    conn.compute.remove_security_group_from_server(server, group)
    assert {
        g["name"] for g in conn.compute.get(f"/servers/{server.id}/os-security-groups").json()["security_groups"]
    } == {"default"}


def test_interfaces_list_attach_detach(conn, server):
    ifaces = list(conn.compute.server_interfaces(server))
    assert len(ifaces) == 1 and ifaces[0].port_state == "ACTIVE"
    port = conn.network.get_port(ifaces[0].port_id)
    assert ifaces[0].fixed_ips[0]["ip_address"] == port.fixed_ips[0]["ip_address"]
    net = conn.network.find_network("auto_allocated_network", ignore_missing=False)
    added = conn.compute.create_server_interface(server, net_id=net.id)
    assert added.net_id == net.id and len(list(conn.compute.server_interfaces(server))) == 2
    assert conn.compute.get_server_interface(added.port_id, server).port_id == added.port_id
    conn.compute.delete_server_interface(added, server)
    assert [i.port_id for i in conn.compute.server_interfaces(server)] == [ifaces[0].port_id]
    assert conn.network.find_port(added.port_id) is None
    both = conn.compute.post(
        f"/servers/{server.id}/os-interface", json={"interfaceAttachment": {"net_id": net.id, "port_id": port.id}}
    )
    assert both.status_code == 400 and "both" in both.text


def test_server_groups_by_microversion_members_and_quota(conn):
    old = conn.compute.post(
        "/os-server-groups",
        json={"server_group": {"name": "spread", "policies": ["anti-affinity"]}},
        microversion="2.1",
    ).json()["server_group"]
    assert old["policies"] == ["anti-affinity"] and "policy" not in old and old["members"] == []
    new = conn.compute.create_server_group(name="packed", policy="affinity")
    assert new.policy == "affinity" and new.rules == {}
    bad = conn.compute.post(
        "/os-server-groups",
        json={"server_group": {"name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}},
        microversion="2.64",
    )
    assert bad.status_code == 400 and "Only anti-affinity policy" in bad.text
    assert (
        conn.compute.post(
            "/os-server-groups", json={"server_group": {"name": "x", "policy": "sideways"}}, microversion="2.64"
        ).status_code
        == 400
    )
    # Two members of an anti-affinity group land on different hosts.
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    members = [
        conn.compute.create_server(
            name=f"spread-{i}",
            image_id=image.id,
            flavor_id=flavor.id,
            networks="none",
            scheduler_hints={"group": old["id"]},
        )
        for i in range(2)
    ]
    members = [conn.compute.wait_for_server(m, interval=0.05, wait=20) for m in members]
    shown = conn.compute.get_server_group(old["id"])
    assert sorted(shown.member_ids) == sorted(m.id for m in members)
    assert members[0].host_id != members[1].host_id
    assert conn.compute.get(f"/servers/{members[0].id}", microversion="2.71").json()["server"]["server_groups"] == [
        old["id"]
    ]
    limits = conn.compute.get_limits().absolute
    assert limits.server_groups == 10 and limits.server_groups_used == 2
    for m in members:
        conn.compute.delete_server(m)
        conn.compute.wait_for_delete(m, interval=0.05, wait=10)
    assert conn.compute.get_server_group(old["id"]).member_ids == []
    made = [conn.compute.create_server_group(name=f"g{i}", policy="soft-affinity") for i in range(8)]
    over = conn.compute.post(
        "/os-server-groups", json={"server_group": {"name": "one-too-many", "policy": "affinity"}}, microversion="2.64"
    )
    assert over.status_code == 403 and "Quota exceeded" in over.text
    for g in made + [new]:
        conn.compute.delete_server_group(g)
    conn.compute.delete_server_group(old["id"])
    assert list(conn.compute.server_groups()) == []
    assert conn.compute.get("/os-server-groups/nope").status_code == 404


def test_instance_actions_are_recorded_with_request_ids(conn, server):
    resp = conn.compute.post(f"/servers/{server.id}/action", json={"os-stop": None})
    rid = resp.headers["X-Openstack-Request-Id"]
    conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.05, wait=10)
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", interval=0.05, wait=10)
    actions = list(conn.compute.server_actions(server))
    assert [a.action for a in actions][:2] == ["start", "stop"] and actions[-1].action == "create"
    assert actions[1].request_id == rid
    shown = conn.compute.get_server_action(rid, server)
    assert shown.events[0]["event"] == "compute_stop_instance" and shown.events[0]["result"] == "Success"
    assert conn.compute.get(f"/servers/{server.id}/os-instance-actions/req-nope").status_code == 404


def test_usage_reports_server_hours(conn, admin_conn, server, sandbox):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    usage = conn.compute.get_usage(conn.current_project_id, start=start, end=end)
    assert usage.total_hours > 0 and usage.total_vcpus_usage >= usage.total_hours
    names = {u["name"] for u in usage.server_usages}
    assert "nova-more" in names
    row = next(u for u in usage.server_usages if u["name"] == "nova-more")
    assert row["vcpus"] == 1 and row["flavor"] == "m3.tiny" and row["state"] in ("active", "stopped")
    assert conn.compute.get("/os-simple-tenant-usage").status_code == 403  # listing every project is for admins
    every = list(admin_conn.compute.usages(start=start, end=end))
    assert any(u.project_id == conn.current_project_id for u in every)
    bad = conn.compute.get(f"/os-simple-tenant-usage/{conn.current_project_id}", params={"start": "yesterday"})
    assert bad.status_code == 400 and "invalid format" in bad.text
    assert conn.compute.get(f"/os-simple-tenant-usage/{OTHER_PROJECT}").status_code == 403


def test_cli_usage_server_groups_and_events(cli_env, server):
    shown = openstack_cli(cli_env, "usage", "show", "-f", "json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert "nova-more" in {row["name"] for row in report["Servers"]} and float(report["CPU Hours"]) > 0
    assert (
        openstack_cli(cli_env, "usage", "list").returncode != 0
    )  # every project's usage is for admins (Nova's policy)
    listed = openstack_cli(dict(cli_env, OS_CLOUD="sandbox-admin"), "usage", "list", "-f", "json")
    assert listed.returncode == 0, listed.stderr
    assert any(float(row["CPU Hours"]) > 0 for row in json.loads(listed.stdout))
    made = openstack_cli(cli_env, "server", "group", "create", "--policy", "anti-affinity", "cli-group", "-f", "json")
    assert made.returncode == 0, made.stderr
    listed = openstack_cli(cli_env, "server", "group", "list", "-f", "json")
    assert listed.returncode == 0 and [g["Name"] for g in json.loads(listed.stdout)] == ["cli-group"]
    assert openstack_cli(cli_env, "server", "group", "delete", "cli-group").returncode == 0
    events = openstack_cli(cli_env, "server", "event", "list", server.id, "-f", "json")
    assert events.returncode == 0, events.stderr
    assert "create" in {e["Action"] for e in json.loads(events.stdout)}


# -- validation ----------------------------------------------------------------------------------
def test_flavor_filters_and_limits_are_validated(conn):
    bad = conn.compute.get("/flavors/detail", params={"minRam": "abc"})
    assert bad.status_code == 400 and "Invalid minRam filter [abc]" in bad.json()["badRequest"]["message"]
    assert [f.name for f in conn.compute.flavors(min_ram=100_000)] and all(
        f.ram >= 100_000 for f in conn.compute.flavors(min_ram=100_000)
    )
    for path in ("/servers", "/flavors", "/os-server-groups"):
        assert conn.compute.get(path, params={"limit": -1}).status_code == 400, path
    assert conn.block_storage.get("/volumes", params={"limit": -1}).status_code == 400
    assert conn.image.get("/images", params={"limit": -1}).status_code == 400
    assert conn.image.get("/images", params={"limit": "x"}).status_code == 400


def test_a_server_cannot_be_renamed_to_an_object(conn, server):
    resp = conn.compute.put(f"/servers/{server.id}", json={"server": {"name": {"a": 1}}})
    assert resp.status_code == 400 and "Invalid input for field/attribute name" in resp.text
    assert conn.compute.put(f"/servers/{server.id}", json={"server": {"name": "x" * 256}}).status_code == 400
    assert conn.compute.get_server(server.id).name == "nova-more"
    assert conn.compute.get("/servers", params={"name": "(unclosed"}).status_code == 200
    assert [s.name for s in conn.compute.servers(name="nova-m")] == ["nova-more"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", 5),
        ("name", "n" * 100_000),
        ("metadata", {"k": 5}),
        ("metadata", "text"),
        ("tags", "x"),
        ("tags", [5]),
        ("key_name", {"a": 1}),
        ("description", ["x"]),
        ("security_groups", [{"name": 5}]),
        ("networks", 5),
        ("user_data", 5),
    ],
)
def test_server_create_refuses_bad_types(conn, field, value):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    body = {"name": "typed", "imageRef": image.id, "flavorRef": "m3.tiny", "networks": "none", field: value}
    before = len(list(conn.compute.servers()))
    resp = conn.compute.post("/servers", json={"server": body})
    assert resp.status_code == 400, resp.text
    assert "badRequest" in resp.json()
    assert len(list(conn.compute.servers())) == before


def test_metadata_tags_keypairs_and_actions_are_typed(conn, server):
    path = f"/servers/{server.id}"
    assert conn.compute.post(f"{path}/metadata", json={"metadata": {"a": {"b": 1}}}).status_code == 400
    assert conn.compute.put(f"{path}/metadata/k", json={"meta": {"k": 7}}).status_code == 400
    assert conn.compute.put(f"{path}/tags", json={"tags": [1, 2]}).status_code == 400
    assert conn.compute.post(f"{path}/action", json={"reboot": {"type": 5}}).status_code == 400
    assert conn.compute.post(f"{path}/action", json={"reboot": "hard"}).status_code == 400
    assert conn.compute.post(f"{path}/action", json={"addSecurityGroup": {"name": ["x"]}}).status_code == 400
    assert conn.compute.post("/os-keypairs", json={"keypair": {"name": "k", "public_key": 5}}).status_code == 400
    assert conn.compute.post("/os-keypairs", json={"keypair": {"name": "k" * 300}}).status_code == 400
    assert conn.compute.post("/os-keypairs", json={"keypair": {"name": "k", "type": "pgp"}}).status_code == 400
    assert (
        conn.compute.post(f"{path}/os-volume_attachments", json={"volumeAttachment": {"volumeId": 5}}).status_code
        == 400
    )
    assert conn.compute.get_server(server.id).metadata == {}


def test_cinder_writes_are_typed(conn):
    bs = conn.block_storage
    for body in (
        {"size": 1, "name": 5},
        {"size": 1, "name": "v" * 256},
        {"size": 1, "metadata": {"k": 1}},
        {"size": True},
        {"size": 1, "description": {"x": 1}},
        {"size": 1, "snapshot_id": 7},
    ):
        assert bs.post("/volumes", json={"volume": body}).status_code == 400, body
    vol = bs.create_volume(size=1, name="typed")
    bs.wait_for_status(vol, "available", interval=0.05, wait=10)
    assert bs.put(f"/volumes/{vol.id}", json={"volume": {"name": ["x"]}}).status_code == 400
    assert bs.put(f"/volumes/{vol.id}/metadata/k", json={"meta": {"k": 9}}).status_code == 400
    assert bs.post(f"/volumes/{vol.id}/action", json={"os-extend": {"new_size": "big"}}).status_code == 400
    assert bs.post(f"/volumes/{vol.id}/action", json={"os-reset_status": {"status": "nonsense"}}).status_code == 403
    assert bs.post("/snapshots", json={"snapshot": {"volume_id": vol.id, "name": 5}}).status_code == 400
    assert bs.post("/snapshots", json={"snapshot": {"volume_id": vol.id, "force": "perhaps"}}).status_code == 400
    assert bs.get_volume(vol.id).name == "typed"
    bs.delete_volume(vol)


def test_another_projects_quota_is_forbidden_to_a_member(conn, admin_conn):
    mine = conn.compute.get(f"/os-quota-sets/{conn.current_project_id}")
    assert mine.status_code == 200
    other = conn.compute.get(f"/os-quota-sets/{OTHER_PROJECT}")
    assert other.status_code == 403 and "os-quota-sets:show" in other.text
    assert conn.block_storage.get(f"/os-quota-sets/{OTHER_PROJECT}").status_code == 403
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.block_storage.get_quota_set(OTHER_PROJECT)
    assert conn.compute.get("/limits", params={"tenant_id": OTHER_PROJECT}).status_code == 403
    assert conn.compute.get("/limits", params={"tenant_id": conn.current_project_id}).status_code == 200
    assert admin_conn.compute.get(f"/os-quota-sets/{OTHER_PROJECT}").status_code == 200
    assert admin_conn.block_storage.get(f"/os-quota-sets/{OTHER_PROJECT}").status_code == 200


def test_actions_of_a_deleted_server_stay_readable_from_2_21(conn):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    gone = conn.compute.wait_for_server(
        conn.compute.create_server(name="short-lived", image_id=image.id, flavor_id=flavor.id, networks="none"),
        interval=0.05,
        wait=20,
    )
    vol = conn.block_storage.create_volume(size=1, name="short-lived-data")
    conn.block_storage.wait_for_status(vol, "available", interval=0.05, wait=10)
    conn.compute.create_volume_attachment(gone, volume_id=vol.id)
    conn.compute.delete_volume_attachment(gone, vol.id)
    conn.compute.delete_server(gone)
    conn.compute.wait_for_delete(gone, interval=0.05, wait=10)
    path = f"/servers/{gone.id}/os-instance-actions"
    assert conn.compute.get(path, microversion="2.1").status_code == 404
    actions = [a["action"] for a in conn.compute.get(path, microversion="2.21").json()["instanceActions"]]
    assert actions == ["delete", "detach_volume", "attach_volume", "create"]
    conn.block_storage.delete_volume(vol)
