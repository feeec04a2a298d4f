"""The sandbox as a service: one per state directory, race-safe start, tokens, state that
survives kill -9, concurrent clients, reset, and how labs connect on each backend."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time

import openstack
import pytest
import requests
import yaml
from sandbox_fixtures import conn, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(120)


def test_clouds_yaml_is_private_and_app_credential(sandbox):
    path = sandbox.clouds_yaml
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cloud = yaml.safe_load(path.read_text())["clouds"]["sandbox"]
    assert cloud["auth_type"] == "v3applicationcredential" and cloud["region_name"] == "IU"
    assert cloud["auth"]["auth_url"] == f"{sandbox.base_url}/identity/v3"


def test_every_api_needs_a_valid_token(sandbox, conn):
    base = sandbox.base_url
    assert requests.get(f"{base}/compute/v2.1/", timeout=5).status_code == 200  # discovery is open
    for url in (
        "/compute/v2.1/servers",
        "/network/v2.0/networks",
        "/image/v2/images",
        f"/swift/v1/AUTH_{conn.current_project_id}",
    ):
        for headers in ({}, {"X-Auth-Token": "not-a-token"}):
            resp = requests.get(base + url, headers=headers, timeout=5)
            assert resp.status_code == 401, url
            assert resp.json()["error"]["message"] == "The request you have made requires authentication."
    good = {"X-Auth-Token": conn.session.get_token()}
    assert requests.get(f"{base}/compute/v2.1/servers", headers=good, timeout=5).status_code == 200


def test_wrong_secret_is_refused(sandbox):
    cloud = yaml.safe_load(sandbox.clouds_yaml.read_text())["clouds"]["sandbox"]
    auth = dict(cloud["auth"], application_credential_secret="wrong")
    bad = openstack.connect(auth_type="v3applicationcredential", auth=auth, region_name="IU")
    with pytest.raises(Exception, match="401|authenticat"):
        list(bad.compute.flavors())


def test_start_is_shared_and_race_safe(sandbox):
    from lab_helpers.sandbox import start, status

    results = []
    threads = [threading.Thread(target=lambda: results.append(start())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.pid for r in results} == {sandbox.pid} == {status().pid}


def test_concurrent_clients_see_one_cloud(conn, sandbox):
    from lab_helpers.cloud import connect_cloud

    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)
    errors = []

    def make(i: int) -> None:
        try:
            c = connect_cloud("sandbox")
            for j in range(3):
                c.compute.create_server(name=f"par-{i}-{j}", image_id=image.id, flavor_id=flavor.id, networks="auto")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    servers = [s for s in conn.compute.servers() if s.name.startswith("par-")]
    assert len(servers) == 12
    assert conn.compute.get_limits().absolute.total_cores_used == 12
    ports = {p.fixed_ips[0]["ip_address"] for p in conn.network.ports(device_owner="compute:nova")}
    assert len(ports) == 12  # no address handed out twice
    for s in servers:
        conn.compute.delete_server(s)


def test_state_survives_kill_9(conn, sandbox):
    from lab_helpers.cloud import connect_cloud
    from lab_helpers.sandbox import start, status

    conn.object_store.create_container("keep-me")
    conn.object_store.upload_object(container="keep-me", name="note", data=b"still here")
    vol = conn.block_storage.create_volume(size=1, name="keep-vol")
    os.kill(sandbox.pid, signal.SIGKILL)
    deadline = time.time() + 5
    while status().running and time.time() < deadline:
        time.sleep(0.05)
    assert not status().running
    again = start()
    assert again.pid != sandbox.pid and again.port == sandbox.port  # same address: open connections keep working
    assert conn.object_store.download_object("note", container="keep-me") == b"still here"
    fresh = connect_cloud("sandbox")
    assert fresh.object_store.download_object("note", container="keep-me") == b"still here"
    assert fresh.block_storage.get_volume(vol.id).name == "keep-vol"
    fresh.block_storage.delete_volume(vol)


def test_reset_leaves_only_the_default_project():
    from lab_helpers.cloud import connect_cloud
    from lab_helpers.sandbox import reset, status

    before = connect_cloud("sandbox")
    before.object_store.create_container("gone-after-reset")
    before.network.create_network(name="gone-net")
    assert status().running
    reset()
    after = connect_cloud("sandbox")
    assert [n.name for n in before.network.networks(name="gone-net")] == []  # an open connection keeps working
    assert list(after.compute.servers()) == [] and list(after.block_storage.volumes()) == []
    assert list(after.object_store.containers()) == [] and list(after.network.ips()) == []
    assert sorted(n.name for n in after.network.networks()) == ["auto_allocated_network", "public"]
    assert [g.name for g in after.network.security_groups()] == ["default"]
    assert len(list(after.network.routers())) == 1


def test_lab_sandbox_commands(sandbox):
    def run(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lab_helpers", "sandbox", *a], capture_output=True, text=True, timeout=60
        )

    out = run("status")
    assert out.returncode == 0 and "running on http://127.0.0.1:" in out.stdout
    env = run("env").stdout.splitlines()
    assert env[0].startswith("export OS_CLIENT_CONFIG_FILE=") and env[0].endswith("clouds.yaml")
    assert env[1] == "export OS_CLOUD=sandbox"
    secret = yaml.safe_load(sandbox.clouds_yaml.read_text())["clouds"]["sandbox"]["auth"][
        "application_credential_secret"
    ]
    assert secret not in out.stdout + "\n".join(env)


def test_cloud_name_and_live_backend(monkeypatch, sandbox):
    from lab_helpers.cloud import cloud_name, connect_cloud
    from lab_helpers.errors import MissingPiece

    assert cloud_name("sandbox") == "sandbox"
    monkeypatch.delenv("OS_CLOUD", raising=False)
    with pytest.raises(MissingPiece, match="OS_CLOUD"):
        cloud_name("live")
    monkeypatch.setenv("OS_CLOUD", "openstack")
    assert cloud_name("live") == "openstack"
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(sandbox.clouds_yaml))
    with pytest.raises(MissingPiece, match="points at the sandbox"):
        connect_cloud("live")


def test_keystone_tokens_password_and_versions(sandbox):
    base = sandbox.base_url
    doc = requests.get(f"{base}/identity/v3", timeout=5).json()
    assert doc["version"]["id"].startswith("v3")
    admin = yaml.safe_load(sandbox.clouds_yaml.read_text())["clouds"]["sandbox-admin"]["auth"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": admin["password"]}},
            }
        }
    }
    ok = requests.post(f"{base}/identity/v3/auth/tokens", json=body, timeout=5)
    assert ok.status_code == 201 and ok.headers["X-Subject-Token"]
    token = ok.json()["token"]
    assert {r["name"] for r in token["roles"]} >= {"admin"} and token["project"]["id"] == admin["project_id"]
    assert {s["type"] for s in token["catalog"]} >= {
        "identity",
        "compute",
        "image",
        "network",
        "block-storage",
        "volumev3",
        "object-store",
    }
    body["auth"]["identity"]["password"]["user"]["password"] = "wrong"
    bad = requests.post(f"{base}/identity/v3/auth/tokens", json=body, timeout=5)
    assert bad.status_code == 401 and bad.json()["error"]["title"] == "Unauthorized"


def test_sandbox_connection_ignores_live_settings(monkeypatch, sandbox, tmp_path):
    from lab_helpers.cloud import connect_cloud

    live = tmp_path / "clouds.yaml"
    live.write_text("clouds:\n  sandbox:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n")
    monkeypatch.setenv("OS_CLOUD", "openstack")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(live))
    monkeypatch.setenv("OS_AUTH_URL", "http://127.0.0.1:9/v3")
    conn = connect_cloud("sandbox")
    assert conn.config.get_auth_args()["auth_url"] == f"{sandbox.base_url}/identity/v3"
    assert "m3.tiny" in [f.name for f in conn.compute.flavors()]
