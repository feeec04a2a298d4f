"""The real `openstack` CLI against the sandbox, set up the way a learner's terminal is:
eval "$(lab sandbox env)". Few calls: each one starts the CLI (about a second)."""

from __future__ import annotations

import json

import pytest
import yaml
from sandbox_fixtures import cli_env, conn, openstack_cli, sandbox  # noqa: F401

pytestmark = pytest.mark.timeout(180)


def test_server_list_sees_what_the_sdk_made(conn, cli_env):
    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.small", ignore_missing=False)
    server = conn.compute.create_server(name="cli-seen", image_id=image.id, flavor_id=flavor.id, networks="auto")
    conn.compute.wait_for_server(server, interval=0.05, wait=10)
    out = openstack_cli(cli_env, "server", "list", "-f", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["Name"], r["Status"], r["Flavor"]) for r in rows] == [("cli-seen", "ACTIVE", "m3.small")]
    assert rows[0]["Image"] == "Featured-Ubuntu22"


def test_flavor_list(cli_env):
    out = openstack_cli(cli_env, "flavor", "list", "-f", "json")
    assert out.returncode == 0, out.stderr
    names = {r["Name"]: r for r in json.loads(out.stdout)}
    assert names["m3.quad"]["VCPUs"] == 4 and names["m3.quad"]["RAM"] == 15 * 1024


def test_volume_and_container_create(conn, cli_env):
    out = openstack_cli(cli_env, "volume", "create", "--size", "2", "cli-vol", "-f", "json")
    assert out.returncode == 0, out.stderr
    made = json.loads(out.stdout)
    assert made["size"] == 2 and made["name"] == "cli-vol"
    assert conn.block_storage.get_volume(made["id"]).size == 2
    out = openstack_cli(cli_env, "container", "create", "cli-bucket", "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["container"] == "cli-bucket"
    assert "cli-bucket" in [c.name for c in conn.object_store.containers()]


def test_ec2_credentials_for_s3(cli_env, sandbox):
    out = openstack_cli(cli_env, "ec2", "credentials", "create", "-f", "json")
    assert out.returncode == 0, out.stderr
    cred = json.loads(out.stdout)
    assert len(cred["access"]) == 32 and cred["project_id"]
    listed = openstack_cli(cli_env, "ec2", "credentials", "list", "-f", "json")
    assert cred["access"] in [r["Access"] for r in json.loads(listed.stdout)]


def test_cli_errors(cli_env, sandbox):
    missing = openstack_cli(cli_env, "server", "show", "no-such-server")
    assert missing.returncode == 1 and "No Server found for no-such-server" in missing.stderr
    denied = openstack_cli(cli_env, "hypervisor", "list")
    assert denied.returncode == 1 and "os-hypervisors:list" in denied.stderr and "403" in denied.stderr
    admin = dict(cli_env, OS_CLOUD="sandbox-admin")
    allowed = openstack_cli(admin, "hypervisor", "list", "-f", "json")
    assert allowed.returncode == 0, allowed.stderr
    assert "js2-c0101" in [r["Hypervisor Hostname"] for r in json.loads(allowed.stdout)]
    secret = yaml.safe_load(sandbox.clouds_yaml.read_text())["clouds"]["sandbox"]["auth"][
        "application_credential_secret"
    ]
    assert secret not in missing.stderr + denied.stderr
