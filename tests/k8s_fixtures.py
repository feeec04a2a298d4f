"""Fixtures for the sandbox Kubernetes tests: the pinned kubectl and helm (installed once per test
session, as `lab tools install` installs them), and one fresh sandbox per test module with the
real clients pointed at it.

Import them into a test module with ``from k8s_fixtures import k8s_tools, kube``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

POD_START_S = "0.2"  # how long a pod stays ContainerCreating in tests


@pytest.fixture(scope="session")
def k8s_tools(tmp_path_factory) -> Path:
    """The folder holding the pinned ``kubectl`` and ``helm``."""
    from lab_helpers.tools import install

    dest = tmp_path_factory.mktemp("k8s-tools")
    install(dest)
    return dest


@dataclass
class Kube:
    """A running sandbox and the environment the real clients need to reach its Kubernetes API."""

    state: Path
    kubeconfig: Path
    env: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)

    def run(self, tool: str, *args: str, check: bool = True, timeout: float = 60, input: str | None = None):
        """Run ``kubectl``/``helm`` with this sandbox's kubeconfig; a failure shows its output."""
        done = subprocess.run([tool, *args], env=self.env, capture_output=True, text=True, timeout=timeout, input=input)
        if check and done.returncode != 0:
            raise AssertionError(f"{tool} {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def kubectl(self, *args: str, **kw):
        return self.run("kubectl", *args, **kw)

    def helm(self, *args: str, **kw):
        return self.run("helm", *args, **kw)

    def api_client(self, context: str = "sandbox"):
        """A kubernetes-client ApiClient for this sandbox (``sandbox`` = learner, ``sandbox-admin``)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig), context=context)


@pytest.fixture(scope="module")
def kube(tmp_path_factory, k8s_tools) -> Kube:
    state = tmp_path_factory.mktemp("kube-state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_STATE_DIR", str(state))
        mp.setenv("LAB_SANDBOX_BOOT_S", "0.2")
        mp.setenv("LAB_POD_START_S", POD_START_S)
        for var in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "LAB_BACKEND", "KUBECONFIG"):
            mp.delenv(var, raising=False)
        from lab_helpers import sandbox as sb

        status = sb.start()
        root = state / "sandbox"
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{k8s_tools}{os.pathsep}{env.get('PATH', '')}",
                "KUBECONFIG": str(root / "kubeconfig"),
                "KUBECACHEDIR": str(state / "kube-cache"),
                "HELM_CACHE_HOME": str(state / "helm" / "cache"),
                "HELM_CONFIG_HOME": str(state / "helm" / "config"),
                "HELM_DATA_HOME": str(state / "helm" / "data"),
                "HOME": str(state),
            }
        )
        try:
            yield Kube(state, root / "kubeconfig", env, dict(status.urls))
        finally:
            sb.stop()
