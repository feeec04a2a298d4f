"""Course code never opens ssh to an address the sandbox made up (RFC 5737 documentation ranges)
or to one the cloud did not hand to the learner's server."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from sandbox_fixtures import conn, sandbox  # noqa: F401

from lab_helpers.errors import UsageError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def ssh_spy(tmp_path, monkeypatch):
    """A stand-in `ssh` (and no paramiko) that records being called: the tests assert it never is."""
    marker = tmp_path / "ssh-was-called"
    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\ntouch "{marker}"\nexit 255\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    monkeypatch.setitem(sys.modules, "paramiko", None)
    return marker


@pytest.mark.parametrize("address", ["192.0.2.10", "198.51.100.7", "203.0.113.11"])
def test_documentation_addresses_are_refused_before_any_connection(tmp_path, ssh_spy, address):
    from lab_helpers.storage import block

    with pytest.raises(UsageError, match="cannot be logged into") as err:
        block.run_probe_over_ssh(address, tmp_path / "key.pem", "ubuntu", "volume:x", {}, timeout_s=5, wait_ssh_s=0)
    assert "BACKEND" in err.value.hint and not ssh_spy.exists()


def test_live_measurement_against_the_sandbox_never_connects(conn, tmp_path, ssh_spy):
    """A clouds.yaml that is really the sandbox, used as `live`: the floating IP is skipped, nothing is sent."""
    from lab_helpers.backends import Live
    from lab_helpers.storage import measure_block_io

    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    server = conn.compute.wait_for_server(
        conn.compute.create_server(name="reach", image_id=image.id, flavor_id=flavor.id, networks="auto"),
        interval=0.05,
        wait=10,
    )
    port = next(conn.network.ports(device_id=server.id))
    public = conn.network.find_network("public", ignore_missing=False)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    volume = conn.block_storage.wait_for_status(
        conn.block_storage.create_volume(size=1, name="reach"), "available", interval=0.05
    )
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", interval=0.05, wait=10)
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    course = SimpleNamespace(backend=Live())
    try:
        lab_server = SimpleNamespace(server=server, address=fip.floating_ip_address, private_key=key)
        block = measure_block_io(course, conn, volume, server=lab_server, size_mib=1)
        assert block.rows == [] and "cannot be logged into" in block.skipped and "not measured" in str(block)
        stranger = SimpleNamespace(server=server, address="10.77.0.9", private_key=key)
        with pytest.raises(UsageError, match="does not list it"):
            measure_block_io(course, conn, volume, server=stranger, size_mib=1)
        assert not ssh_spy.exists()
    finally:
        conn.compute.delete_volume_attachment(server, volume.id)
        conn.compute.delete_server(server)
        conn.network.delete_ip(fip)


def test_the_servers_own_addresses_pass_the_check(conn):
    from lab_helpers.storage.reach import checked_address, server_addresses

    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    server = conn.compute.wait_for_server(
        conn.compute.create_server(name="reach2", image_id=image.id, flavor_id=flavor.id, networks="auto"),
        interval=0.05,
        wait=10,
    )
    try:
        fixed = next(iter(server_addresses(conn, server.id)))
        assert fixed.startswith("10.0.0.")
        assert checked_address(conn, server.id, fixed) == fixed  # a private address the cloud handed out
    finally:
        conn.compute.delete_server(server)


def test_the_login_line_says_when_it_cannot_work():
    from lab_helpers.storage.reach import login_line

    sandbox_line = login_line("203.0.113.11")
    assert sandbox_line.startswith("log in with: ssh -i <your private key> ubuntu@203.0.113.11")
    assert "simulated" in sandbox_line and "live" in sandbox_line
    assert login_line("149.165.152.11") == "log in with: ssh -i <your private key> ubuntu@149.165.152.11"
