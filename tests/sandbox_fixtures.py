"""Fixtures for the sandbox cloud tests: one fresh sandbox per test module, in its own state
directory, with a short boot time; stopped at the end of the module.

Import them into a test module with ``from sandbox_fixtures import sandbox, conn, admin_conn``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

BOOT_S = "0.2"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A running sandbox in a temporary LAB_STATE_DIR; yields its ServiceStatus."""
    state = tmp_path_factory.mktemp("labstate")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_STATE_DIR", str(state))
        mp.setenv("LAB_SANDBOX_BOOT_S", BOOT_S)
        mp.delenv("OS_CLOUD", raising=False)
        mp.delenv("OS_CLIENT_CONFIG_FILE", raising=False)
        mp.delenv("LAB_BACKEND", raising=False)
        from lab_helpers import sandbox as sb

        status = sb.start()
        try:
            yield status
        finally:
            sb.stop()


@pytest.fixture(scope="module")
def conn(sandbox):
    from lab_helpers.cloud import connect_cloud

    connection = connect_cloud("sandbox")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def admin_conn(sandbox):
    from lab_helpers.cloud import connect_cloud

    connection = connect_cloud("sandbox", admin=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def cli_env(sandbox):
    """The environment `eval "$(lab sandbox env)"` gives a terminal (bash evaluates it, so
    ``PATH=<tools>:"$PATH"`` expands as it does for a learner)."""
    import shlex

    lab = " ".join(shlex.quote(part) for part in [sys.executable, "-m", "lab_helpers", "sandbox", "env"])
    out = subprocess.run(
        ["bash", "-c", f'eval "$({lab})" && env -0'],
        capture_output=True,
        check=True,
        env=dict(os.environ),
    )
    env = {}
    for entry in out.stdout.split(b"\0"):
        key, sep, value = entry.decode().partition("=")
        if sep:
            env[key] = value
    return env


def openstack_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run the real `openstack` CLI (the one installed beside this Python)."""
    exe = Path(sys.executable).with_name("openstack")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=120)


@contextmanager
def fresh_sandbox(state: Path, *, learner: str, boot_s: str = "0.3"):
    """LAB_STATE_DIR, boot time and learner set for a module's sandbox; stopped and put back after."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_STATE_DIR", str(state))
        mp.setenv("LAB_SANDBOX_BOOT_S", boot_s)
        mp.setenv("LAB_LEARNER", learner)
        try:
            yield
        finally:
            from lab_helpers.sandbox.service import stop

            stop()
