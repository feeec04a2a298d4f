"""Shared test setup: every test session gets its own state directory and workspace.

Tests never touch the learner's real state; the grader uses the same isolation.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# Fixtures registered here, once: a session fixture imported into each test module would be a separate
# fixture there, set up again per module (each lab executed again).
from executed_labs import executed_labs  # noqa: F401
from k8s_fixtures import k8s_tools  # noqa: F401  (per module, see its docstring)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _isolated_state(tmp_path_factory):
    state = tmp_path_factory.mktemp("lab-state")
    old = {k: os.environ.get(k) for k in ("LAB_STATE_DIR", "LAB_WORKSPACE", "LAB_BACKEND", "LAB_LEARNER")}
    os.environ["LAB_STATE_DIR"] = str(state)
    os.environ["LAB_WORKSPACE"] = str(state / "workspace")
    os.environ.pop("LAB_BACKEND", None)
    os.environ["LAB_LEARNER"] = "learner"  # outputs never carry the login name of the machine
    yield state
    try:  # labs start a sandbox cloud in this state directory: stop it with the session
        from lab_helpers.sandbox import service

        service.stop()
    except Exception:
        pass
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def lab_command() -> list[str]:
    """The `lab` command of this environment (as a module, so PATH does not matter)."""
    return [sys.executable, "-m", "lab_helpers"]


def pytest_collection_modifyitems(config, items):
    from lab_helpers.gpu.probe import probe

    has_gpu = probe().available
    has_chromium = bool(shutil.which("chromium") or os.path.exists("/usr/bin/chromium"))
    require_browser = os.environ.get("LAB_REQUIRE_BROWSER") == "1"
    for item in items:
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="no NVIDIA GPU on this machine"))
        if "browser" in item.keywords and not has_chromium and not require_browser:
            item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed (apt-get install chromium)"))
        if "slow" in item.keywords and "slow" not in (config.getoption("-m") or ""):
            item.add_marker(pytest.mark.skip(reason="slow: run with -m slow"))
