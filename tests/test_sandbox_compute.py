"""Nova on the sandbox through the real openstacksdk: servers, flavors, keypairs, quotas,
placement, admin views and Nova's error shapes."""

from __future__ import annotations

import hashlib

import openstack
import pytest
from sandbox_fixtures import admin_conn, conn, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def image(conn):
    return conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)


def _boot(conn, image, name, flavor="m3.tiny", **kw):
    flavor_obj = conn.compute.find_flavor(flavor, ignore_missing=False)
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor_obj.id, networks="auto", **kw)
    return conn.compute.wait_for_server(server, interval=0.05, wait=20)


def test_flavors_match_the_data_file(conn):
    flavors = {f.name: f for f in conn.compute.flavors()}
    assert flavors["m3.small"].vcpus == 2 and flavors["m3.small"].ram == 6 * 1024
    assert flavors["g3.xl"].vcpus == 32
    shown = conn.compute.get_flavor(flavors["m3.quad"].id)
    assert shown.name == "m3.quad" and shown.disk == 20


def test_microversion_is_negotiated_and_echoed(conn):
    resp = conn.compute.get("/servers/detail", microversion="2.96")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.96"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.96"
    too_new = conn.compute.get("/servers", microversion="2.200")
    assert too_new.status_code == 406


def test_server_lifecycle_metadata_tags_console(conn, image):
    server = _boot(conn, image, "lab03-web", metadata={"lab": "03"})
    assert server.status == "ACTIVE"
    assert server.flavor.name == "m3.tiny"
    assert server.availability_zone == "nova"
    assert list(server.addresses) == ["auto_allocated_network"]
    conn.compute.set_server_metadata(server, expires="2026-12-01")
    assert conn.compute.fetch_server_metadata(server).metadata == {"lab": "03", "expires": "2026-12-01"}
    server.add_tag(conn.compute, "lab-03")
    assert "lab-03" in conn.compute.get_server(server.id).tags
    assert [s.name for s in conn.compute.servers(tags="lab-03")] == ["lab03-web"]
    console = conn.compute.get_server_console_output(server, length=2)["output"]
    assert console.splitlines()[-1] == "lab03-web login: "
    conn.compute.stop_server(server)
    assert conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.05, wait=10).status == "SHUTOFF"
    with pytest.raises(openstack.exceptions.ConflictException, match="while it is in vm_state stopped"):
        conn.compute.stop_server(server)
    conn.compute.start_server(server)
    conn.compute.shelve_server(server)
    assert conn.compute.wait_for_server(server, status="SHELVED_OFFLOADED", interval=0.05, wait=10).host_id == ""
    conn.compute.unshelve_server(server)
    assert conn.compute.wait_for_server(server, interval=0.05, wait=10).host_id
    conn.compute.reboot_server(server, "SOFT")
    assert conn.compute.wait_for_server(server, interval=0.05, wait=10).status == "ACTIVE"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.05, wait=10)
    with pytest.raises(openstack.exceptions.ResourceNotFound, match=f"Instance {server.id} could not be found"):
        conn.compute.get_server(server.id)


def test_unknown_flavor_and_bad_body_are_400(conn, image):
    with pytest.raises(openstack.exceptions.BadRequestException, match="Flavor nope could not be found"):
        conn.compute.create_server(name="x", image_id=image.id, flavor_id="nope", networks="auto")
    resp = conn.compute.post("/servers", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "badRequest" in resp.json()


def test_quota_exceeded_says_what_nova_says(conn, image):
    big = conn.compute.find_flavor("m3.2xl")
    first = conn.compute.create_server(name="q1", image_id=image.id, flavor_id=big.id, networks="auto")
    second = conn.compute.create_server(name="q2", image_id=image.id, flavor_id=big.id, networks="auto")
    try:
        used = conn.compute.get_limits().absolute.total_cores_used
        assert used >= 128
        with pytest.raises(openstack.exceptions.ForbiddenException) as err:
            conn.compute.create_server(name="q3", image_id=image.id, flavor_id=big.id, networks="auto")
        assert f"Quota exceeded for cores: Requested 64, but already used {used} of 150 cores" in str(err.value)
    finally:
        conn.compute.delete_server(first)
        conn.compute.delete_server(second)


def test_no_valid_host_ends_in_error_with_a_fault(conn, image):
    huge = conn.compute.find_flavor("m3.3xl")  # 500 GB: fits the quota, not a 512 GB node's free memory
    server = conn.compute.create_server(name="huge", image_id=image.id, flavor_id=huge.id, networks="auto")
    with pytest.raises(openstack.exceptions.ResourceFailure):
        conn.compute.wait_for_server(server, interval=0.05, wait=10)
    failed = conn.compute.get_server(server.id)
    assert failed.status == "ERROR"
    assert failed.fault["message"].startswith("No valid host was found.")
    conn.compute.delete_server(server)


def test_placement_packs_and_host_id_is_novas(conn, admin_conn, image, sandbox):
    a = _boot(conn, image, "pack-a", "m3.quad")
    b = _boot(conn, image, "pack-b", "m3.quad")
    assert a.host_id == b.host_id  # filled one host before the next
    project = conn.current_project_id
    seen = {s.name: s for s in admin_conn.compute.servers()}
    host = seen["pack-a"].compute_host
    assert host == seen["pack-b"].compute_host == "js2-c0101"
    assert a.host_id == hashlib.sha224((project + host).encode()).hexdigest()
    assert getattr(conn.compute.get_server(a.id), "compute_host", None) is None  # hidden from the learner
    for s in (a, b):
        conn.compute.delete_server(s)


def test_hypervisors_are_admin_only(conn, admin_conn, image):
    with pytest.raises(openstack.exceptions.ForbiddenException, match="os-hypervisors:list"):
        list(conn.compute.hypervisors())
    server = _boot(conn, image, "hv", "m3.medium")
    rows = {h.name: h for h in admin_conn.compute.hypervisors(details=True)}
    assert set(rows) >= {"js2-c0101", "js2-g0101", "js2-r0101"}
    assert rows["js2-c0101"].vcpus == 128 and rows["js2-c0101"].vcpus_used == 8
    conn.compute.delete_server(server)


def test_keypairs_generate_and_import(conn):
    made = conn.compute.create_keypair(name="lab03-key")
    first = made.private_key.splitlines()[0]
    assert first.startswith("-----BEGIN") and first.endswith("OPENSSH PRIVATE KEY-----")
    assert made.fingerprint.count(":") == 15
    imported = conn.compute.create_keypair(name="mine", public_key=made.public_key)
    assert imported.fingerprint == made.fingerprint and imported.private_key is None
    assert {k.name for k in conn.compute.keypairs()} == {"lab03-key", "mine"}
    with pytest.raises(openstack.exceptions.ConflictException, match="already exists"):
        conn.compute.create_keypair(name="mine", public_key=made.public_key)
    conn.compute.delete_keypair("mine")
    with pytest.raises(openstack.exceptions.ResourceNotFound):
        conn.compute.get_keypair("mine")


def test_usage_api_counts_the_servers_hours(conn, image):
    """Nova's os-simple-tenant-usage, as a client reads metered time: hours so far, then the deleted server too."""
    import datetime as dt

    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    server = _boot(conn, image, "metered", "m3.large")

    def row() -> dict:
        usage = conn.compute.get_usage(conn.current_project_id, start=start, end=dt.datetime.now(dt.timezone.utc))
        return next(r for r in usage.server_usages if r["instance_id"] == server.id)

    live = row()
    assert live["flavor"] == "m3.large" and live["vcpus"] == 16 and live["state"] == "active"
    assert 0 < live["hours"] < 60 / 3600  # under a minute
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.05, wait=10)
    gone = row()
    assert gone["state"] == "terminated" and gone["ended_at"] and gone["hours"] >= live["hours"]


def test_cloud_layer_create_server_with_auto_ip(conn):
    server = conn.create_server(
        "cloud-layer", image="Featured-Ubuntu22", flavor="m3.tiny", wait=True, auto_ip=True, timeout=30
    )
    assert server.status == "ACTIVE"
    kinds = {a["OS-EXT-IPS:type"]: a["addr"] for a in server.addresses["auto_allocated_network"]}
    assert kinds["floating"].startswith("203.0.113.")  # a documentation range (RFC 5737), never a routable one
    fip = next(conn.network.ips(floating_ip_address=kinds["floating"]))
    assert fip.fixed_ip_address == kinds["fixed"] and fip.status == "ACTIVE"
    assert conn.delete_server("cloud-layer", wait=True, delete_ips=True, timeout=10)
