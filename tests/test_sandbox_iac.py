"""The infrastructure-as-code day against the sandbox, driven by Ansible's openstack.cloud
collection (the real modules over the real openstacksdk), as a subprocess.

The whole day (tests/iac/day.yml: keypair, security group and rule, servers with and without
an automatic floating IP, a floating IP from public, a 10 GB volume attached and detached,
objects from a file and from data, the server read back, teardown) runs twice in a row and is
slow on a small machine; a short play (keypair and security group applied twice, then removed)
runs always.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_fixtures import cli_env, sandbox  # noqa: F401

IAC = Path(__file__).parent / "iac"
PLAYBOOK_BIN = Path(sys.executable).with_name("ansible-playbook")
pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not PLAYBOOK_BIN.exists(), reason="ansible is not installed: pip install -c constraints.txt -e '.[test]'"
    ),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A public key file (as `ssh-keygen` would write it) and a file to upload."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    root = tmp_path_factory.mktemp("iac")
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    pub = root / "id_ed25519.pub"
    pub.write_text(
        key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        + " learner@laptop\n"
    )
    notes = root / "notes.txt"
    notes.write_text("what the day made\n" * 100)
    return {"public_key_file": str(pub), "upload_file": str(notes), "root": root}


def play(env: dict[str, str], files: dict, playbook: str) -> dict:
    """Run one playbook; returns the json callback's report (plays, tasks, stats)."""
    home = files["root"] / "ansible-home"
    run_env = dict(env)
    run_env.update(
        {
            "ANSIBLE_HOME": str(home),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(IAC / "sdk_compat"), env.get("PYTHONPATH", "")])),
        }
    )
    args = [
        str(PLAYBOOK_BIN),
        "-i",
        "localhost,",
        "-e",
        f"public_key_file={files['public_key_file']}",
        "-e",
        f"upload_file={files['upload_file']}",
        str(IAC / playbook),
    ]
    done = subprocess.run(args, capture_output=True, text=True, env=run_env, timeout=600, cwd=str(IAC))
    try:
        report = json.loads(done.stdout[done.stdout.index("{") :])
    except ValueError:
        pytest.fail(
            f"ansible-playbook printed no report (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    failed = [
        (t["task"]["name"], r.get("msg"))
        for p in report["plays"]
        for t in p["tasks"]
        for r in t["hosts"].values()
        if r.get("failed")
    ]
    assert not failed and done.returncode == 0, f"failed tasks: {failed}\n{done.stderr[-2000:]}"
    return report


def changed_tasks(report: dict) -> list[str]:
    return [
        t["task"]["name"] for p in report["plays"] for t in p["tasks"] for r in t["hosts"].values() if r.get("changed")
    ]


def test_keypair_and_security_group_applied_twice_then_removed(cli_env, files):
    report = play(cli_env, files, "groups.yml")
    assert report["stats"]["localhost"]["failures"] == 0
    changed = changed_tasks(report)
    assert changed[:3] == ["Keypair from a public key file", "Security group for ssh", "Its tcp/22 rule"]
    assert not {"Keypair again", "Security group again", "Rule again"} & set(changed)


@pytest.mark.slow
def test_the_whole_day_passes_twice_in_a_row(cli_env, files):
    for run in (1, 2):
        report = play(cli_env, files, "day.yml")
        stats = report["stats"]["localhost"]
        assert stats["failures"] == 0 and stats["unreachable"] == 0, (run, stats)
        changed = changed_tasks(report)
        assert "A server with an automatic floating IP" in changed and "Delete the security group" in changed
