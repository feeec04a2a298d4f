"""`lab cleanup` against the sandbox, with resources left over on purpose.

One learner ("alice") leaves everything a lab can leave, including a server in ERROR (a flavor
no host fits), one still in BUILD, an attached volume with a snapshot and a port made by hand;
another learner's resources and other labs' must survive; ``--expired`` takes only expired ones.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from conftest import lab_command
from sandbox_fixtures import fresh_sandbox

from lab_helpers.marks import Marks
from lab_helpers.resources.cleanup import cleanup
from lab_helpers.resources.inventory import find

BOOT_S = "1.5"  # long enough to catch a server in BUILD, short enough for the test


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    state = tmp_path_factory.mktemp("cleanup-state")
    with fresh_sandbox(state, learner="alice", boot_s=BOOT_S):
        from lab_helpers.cloud import connect_cloud

        yield connect_cloud("sandbox")


def _make_server(conn, marks: Marks, what: str, flavor: str = "m3.tiny", wait: bool = True):
    net = conn.network.find_network("auto_allocated_network")
    server = conn.compute.create_server(
        name=marks.name(what),
        image_id=conn.image.find_image("Featured-Ubuntu22").id,
        flavor_id=conn.compute.find_flavor(flavor).id,
        networks=[{"uuid": net.id}],
        metadata=marks.metadata(),
    )
    if wait:
        server = conn.compute.wait_for_server(server, interval=0.1, wait=30)
    return server


def _leave_everything(conn, marks: Marks) -> dict:
    """What a lab that crashed halfway could leave: one of each kind, wired together."""
    conn.compute.create_keypair(name=marks.name("key"))
    group = conn.network.create_security_group(name=marks.name("ssh"), description=marks.description())
    server = _make_server(conn, marks, "vm")
    port = next(iter(conn.network.ports(device_id=server.id)))
    public = conn.network.find_network("public")
    conn.network.create_ip(floating_network_id=public.id, port_id=port.id, description=marks.description())
    volume = conn.block_storage.create_volume(name=marks.name("data"), size=1, metadata=marks.metadata())
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    conn.compute.create_volume_attachment(server, volume)
    conn.block_storage.wait_for_status(volume, "in-use", interval=0.1, wait=30)
    conn.block_storage.create_snapshot(
        volume_id=volume.id, name=marks.name("snap"), metadata=marks.metadata(), force=True
    )
    extra_port = conn.network.create_port(
        network_id=conn.network.find_network("auto_allocated_network").id,
        name=marks.name("port"),
        description=marks.description(),
    )
    conn.network.set_tags(extra_port, marks.tags())
    container = marks.name("logs")
    conn.object_store.create_container(name=container)
    conn.object_store.set_container_metadata(container, **marks.metadata())
    for i in range(3):
        conn.object_store.upload_object(container=container, name=f"day-{i}.log", data=b"log line\n" * 10)
    error_server = _make_server(conn, marks, "too-big", flavor="m3.3xl", wait=False)
    deadline = time.monotonic() + 10
    while conn.compute.get_server(error_server.id).status != "ERROR" and time.monotonic() < deadline:
        time.sleep(0.1)
    return {"server": server, "volume": volume, "group": group, "port": extra_port, "error_server": error_server}


def _names(conn) -> set[str]:
    names = {s.name for s in conn.compute.servers()}
    names |= {v.name for v in conn.block_storage.volumes()}
    names |= {s.name for s in conn.block_storage.snapshots()}
    names |= {g.name for g in conn.network.security_groups()}
    names |= {p.name for p in conn.network.ports() if p.name}
    names |= {k.name for k in conn.compute.keypairs()}
    names |= {c.name for c in conn.object_store.containers()}
    return names


def test_cleanup_leaves_nothing_of_alice_and_everything_of_others(env):
    conn = env
    alice = Marks.for_lab("03", learner="alice")
    other = Marks.for_lab("03", learner="someone-else")
    alice_04 = Marks.for_lab("04", learner="alice")
    left = _leave_everything(conn, alice)
    _make_server(conn, other, "vm", wait=False)
    conn.compute.create_keypair(name=other.name("key"))
    conn.object_store.create_container(name=other.name("logs"))
    conn.object_store.set_container_metadata(other.name("logs"), **other.metadata())
    conn.network.create_security_group(name=other.name("ssh"), description=other.description())
    conn.compute.create_keypair(name=alice_04.name("key"))
    building = _make_server(conn, alice, "still-building", wait=False)

    assert conn.compute.get_server(left["error_server"].id).status == "ERROR"
    before = _names(conn)

    # --dry-run: everything listed, nothing removed
    dry = cleanup(conn, learner="alice", lab="03", dry_run=True)
    kinds = sorted({f.kind for f in dry.removed})
    assert kinds == sorted(
        [
            "floating_ip",
            "attachment",
            "server",
            "port",
            "snapshot",
            "volume",
            "object",
            "container",
            "security_group",
            "keypair",
        ]
    )
    assert _names(conn) == before
    assert "would remove" in str(dry) and "3 in course-alice-03-logs" in str(dry)

    servers = {f.name: f for f in dry.removed if f.kind == "server"}
    assert set(servers) == {alice.name("vm"), alice.name("too-big"), alice.name("still-building")}
    assert servers[alice.name("vm")].su_per_hour == 1.0
    assert servers[alice.name("too-big")].su_per_hour == 0.0  # ERROR: never charged
    assert servers[alice.name("too-big")].extra["status"] == "ERROR"
    assert conn.compute.get_server(building.id).status in ("BUILD", "ACTIVE")

    report = cleanup(conn, learner="alice", lab="03")
    assert not report.failed, str(report)
    assert report.su_per_hour_stopped >= 1.0
    assert find(conn, learner="alice", lab="03") == []
    after = _names(conn)
    assert not {n for n in after if n.startswith("course-alice-03-")}
    assert list(conn.network.ips()) == []
    # the other learner and alice's other lab are untouched
    assert {other.name("vm"), other.name("key"), other.name("logs"), other.name("ssh"), alice_04.name("key")} <= after
    assert cleanup(conn, learner="alice", lab="03").removed == []
    # a learner whose id is a prefix of another's ("someone" / "someone-else") takes nothing of theirs
    assert cleanup(conn, learner="someone").removed == []
    assert other.name("key") in _names(conn)


def test_the_order_is_the_one_the_apis_require(env):
    conn = env
    marks = Marks.for_lab("05", learner="alice")
    _leave_everything(conn, marks)
    items = find(conn, learner="alice", lab="05")
    order = [f.kind for f in items]
    for before, after in (
        ("floating_ip", "server"),
        ("attachment", "server"),
        ("server", "port"),
        ("snapshot", "volume"),
        ("object", "container"),
        ("server", "security_group"),
    ):
        assert max(i for i, k in enumerate(order) if k == before) < min(i for i, k in enumerate(order) if k == after)
    assert not cleanup(conn, learner="alice", lab="05").failed
    assert find(conn, learner="alice", lab="05") == []


def test_expired_removes_only_expired_resources_of_every_learner(env):
    conn = env
    old_bob = Marks.for_lab("03", learner="bob", hours=-1)
    fresh_bob = Marks.for_lab("03", learner="bob")
    old_carol = Marks.for_lab("04", learner="carol", hours=-2)
    _make_server(conn, old_bob, "vm", wait=False)
    _make_server(conn, fresh_bob, "fresh", wait=False)
    conn.object_store.create_container(name=old_carol.name("logs"))
    conn.object_store.set_container_metadata(old_carol.name("logs"), **old_carol.metadata())
    conn.object_store.upload_object(container=old_carol.name("logs"), name="x", data=b"x")
    report = cleanup(conn, learner=None, expired_only=True)
    assert not report.failed
    assert {f.name for f in report.removed} == {
        old_bob.name("vm"),
        old_carol.name("logs"),
        f"{old_carol.name('logs')}/x",
    }
    names = _names(conn)
    assert fresh_bob.name("fresh") in names and old_bob.name("vm") not in names
    cleanup(conn, learner="bob")


def test_lab_cleanup_command(env):
    conn = env
    marks = Marks.for_lab("03", learner="alice")
    _make_server(conn, marks, "vm")
    conn.compute.create_keypair(name=marks.name("key"))
    run_env = dict(os.environ)

    dry = subprocess.run(
        lab_command() + ["cleanup", "--lab", "3", "--backend", "sandbox", "--dry-run"],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    assert "would remove: server" in dry.stdout and "1 SU/hour would stop" in dry.stdout
    assert conn.compute.find_server(marks.name("vm")) is not None

    other = subprocess.run(
        lab_command() + ["cleanup", "--backend", "sandbox"],
        capture_output=True,
        text=True,
        env=dict(run_env, LAB_LEARNER="someone-else"),
        timeout=120,
    )
    assert other.returncode == 0 and "alice" not in other.stdout
    assert conn.compute.find_server(marks.name("vm")) is not None

    done = subprocess.run(
        lab_command() + ["cleanup", "--lab", "03", "--backend", "sandbox"],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "removed: server" in done.stdout and "1 SU/hour stopped" in done.stdout
    assert conn.compute.find_server(marks.name("vm")) is None
    assert conn.compute.find_keypair(marks.name("key")) is None
