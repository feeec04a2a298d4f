"""What this machine offers each backend: presence only, never a credential's value.

Each finding says what is missing and the one command or step that fixes it. Missing pieces are
findings, not failures: ``lab doctor`` exits 0 whenever it could report. The settings section
lists every setting of :data:`lab_helpers.config.SETTINGS` and whether it is set.
"""

from __future__ import annotations

import html
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .backends import Live, Sandbox, backend_named
from .config import backend_from_environment, os_cloud, resolve_backend, settings_now, state_dir

BOTH = "both"
KUBERNETES = "kubernetes"
SETTINGS = "settings"
SECTIONS = {
    BOTH: "Both backends",
    Sandbox.name: "Sandbox backend",
    Live.name: "Live backend",
    KUBERNETES: "Kubernetes (kubectl, helm, the cluster)",
    SETTINGS: "Settings",
}


@dataclass(frozen=True)
class Finding:
    backend: str  # a key of SECTIONS
    item: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, *args, **kwargs) -> None:
        self.findings.append(Finding(*args, **kwargs))

    def __str__(self) -> str:
        lines = []
        for backend, title in SECTIONS.items():
            rows = [f for f in self.findings if f.backend == backend]
            if not rows:
                continue
            lines.append(title)
            for f in rows:
                mark = "!!" if f.warning else "ok" if f.ok else "--"
                lines.append(f"  [{mark}] {f.item:<26} {f.detail}")
                if f.fix and (not f.ok or f.warning):
                    lines.append(f"       {'':<26} fix: {f.fix}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(f.backend)}</td><td>{'⚠' if f.warning else '✔' if f.ok else '✘'}</td>"
            f"<td>{html.escape(f.item)}</td><td>{html.escape(f.detail)}</td>"
            f"<td><code>{html.escape(f.fix if (not f.ok or f.warning) else '')}</code></td></tr>"
            for f in self.findings
        )
        return f"<table><tr><th>backend</th><th></th><th>piece</th><th>found</th><th>fix</th></tr>{rows}</table>"


def _module(report: Report, backend: str, module: str, label: str, fix: str) -> None:
    found = importlib.util.find_spec(module) is not None  # find, never import (CuPy is slow)
    report.add(backend, label, found, "installed" if found else "not installed", fix)


def _binary(report: Report, backend: str, name: str, fix: str) -> None:
    if shutil.which(name):
        report.add(backend, f"`{name}`", True, "on PATH", fix)
    elif shutil.which(name, path=str(Path(sys.executable).parent)):  # installed in an inactive venv
        report.add(
            backend,
            f"`{name}`",
            True,
            "installed in this environment, which is not on PATH",
            "activate the environment (source .venv/bin/activate)",
            warning=True,
        )
    else:
        report.add(backend, f"`{name}`", False, "not on PATH", fix)


def _shown(default: str, now: str) -> str:
    if now != "default":
        return now
    return "not set" if default == "-" else f"default: {default.replace('`', '')}"


def doctor(settings: bool = False) -> Report:
    """What this machine offers each backend; ``settings=True`` (``lab doctor``) adds every setting."""
    from .backends.live import clouds_yaml_paths, config_file_is_sandbox
    from .config import kubeconfig_path
    from .gpu.probe import probe

    report = Report()
    version = ".".join(map(str, sys.version_info[:3]))
    report.add(BOTH, "Python", (3, 10) <= sys.version_info[:2] <= (3, 13), version, "Use Python 3.10 to 3.13.")
    report.add(
        BOTH,
        "backend",
        True,
        f"LAB_BACKEND is {resolve_backend()!r}" if backend_from_environment() else f"{Sandbox.name} (the default)",
    )
    try:
        folder = state_dir()
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    report.add(
        BOTH,
        "state directory",
        writable,
        "writable" if writable else "not writable",
        "Set LAB_STATE_DIR to a folder you can write.",
    )
    _module(report, BOTH, "jupyterlab", "JupyterLab", "pip install -c constraints.txt -e .")
    _module(report, BOTH, "papermill", "papermill", "pip install -c constraints.txt -e .")
    _binary(report, BOTH, "git", "Install git (apt-get install git, brew install git).")

    _module(report, Sandbox.name, "numpy", "NumPy (stands in for CuPy)", "pip install -c constraints.txt -e .")
    _module(report, Sandbox.name, "openstack", "openstacksdk", "pip install -c constraints.txt -e .")
    _binary(report, Sandbox.name, "openstack", "pip install -c constraints.txt -e . (brings python-openstackclient)")
    _module(report, Sandbox.name, "kubernetes", "kubernetes client", "pip install -c constraints.txt -e .")

    gpu = probe()
    report.add(
        Live.name,
        "NVIDIA GPU",
        gpu.available,
        ", ".join(gpu.names) if gpu.available else gpu.reason,
        "Run lab 01 live on a GPU machine (a Delta gpuA40x4 node).",
    )
    _module(report, Live.name, "cupy", "CuPy", "pip install -e '.[gpu]' (or '.[gpu-cuda13]' for a CUDA 13 driver)")
    cloud = os_cloud()
    files = [p for p in clouds_yaml_paths() if p.is_file()]
    report.add(
        Live.name,
        "clouds.yaml",
        bool(files),
        f"{len(files)} found" if files else "none found",
        "Create an application credential in Horizon and save its clouds.yaml to ~/.config/openstack/.",
    )
    report.add(
        Live.name,
        "OS_CLOUD",
        bool(cloud),
        "set" if cloud else "not set",
        "export OS_CLOUD=<the cloud's name in clouds.yaml>",
    )
    if config_file_is_sandbox() and isinstance(backend_named(), Live):
        report.add(
            Live.name,
            "OS_CLIENT_CONFIG_FILE",
            False,
            "points at the sandbox's clouds.yaml while the backend is live",
            "unset OS_CLIENT_CONFIG_FILE (it came from `lab sandbox env`)",
            warning=True,
        )
    kube = kubeconfig_path()
    report.add(
        Live.name,
        "kubeconfig",
        kube.is_file(),
        "found" if kube.is_file() else "none found",
        "Set KUBECONFIG to your cluster's kubeconfig.",
    )
    _binary(report, Live.name, "sbatch", "Only on a Delta login node: ssh to login.delta.ncsa.illinois.edu.")
    _kubernetes(report)
    for setting, now in settings_now() if settings else []:
        report.add(SETTINGS, setting.name, True, _shown(setting.default, now))
    return report


def _tool_fix() -> str:
    """How to get the course's kubectl and helm on this platform."""
    from .errors import MissingPiece
    from .tools.install import require_supported

    try:
        require_supported()
    except MissingPiece as exc:
        return exc.hint
    return 'lab tools install, then eval "$(lab sandbox env)"'


def _kubernetes(report: Report) -> None:
    """Which kubectl and helm run and where from; the kubeconfig in effect; the sandbox cluster."""
    from .tools import find_tool, server_minor

    minor = server_minor()
    for name in ("kubectl", "helm"):
        found = find_tool(name)
        if found.path is None:
            report.add(KUBERNETES, f"`{name}`", False, "not found", _tool_fix())
            continue
        warning = found.skew_warning(minor)
        fix = 'eval "$(lab sandbox env)"' if found.course_copy is not None else _tool_fix()
        off_path = found.course_copy is not None and not found.first_on_path
        detail = f"{found.version or 'version unreadable'}, {found.where(full=False)}"
        detail += f"; {warning}" if warning else ""
        report.add(KUBERNETES, f"`{name}`", True, detail, fix, bool(warning) or off_path)
    _kubeconfig_in_effect(report)
    _sandbox_cluster(report)


def _kubeconfig_in_effect(report: Report) -> None:
    from .config import kubeconfig_path
    from .sandbox.service import kube_env, sandbox_dir

    path = kubeconfig_path()
    sandbox_config = Path(kube_env(sandbox_dir())["KUBECONFIG"])
    if dict((s.name, now) for s, now in settings_now())["KUBECONFIG"] != "default":
        whose = "the sandbox's" if path.resolve() == sandbox_config.resolve() else "your own file"
        detail = f"KUBECONFIG is set: {whose}, {'found' if path.is_file() else 'missing'}"
    else:
        detail = f"KUBECONFIG not set: kubectl reads ~/.kube/config ({'found' if path.is_file() else 'none'})"
    report.add(
        KUBERNETES,
        "KUBECONFIG in effect",
        path.is_file(),
        detail,
        'eval "$(lab sandbox env)" for the sandbox; on the live backend, your cluster\'s kubeconfig',
    )


def _sandbox_cluster(report: Report) -> None:
    from .kube.records import all_records
    from .sandbox.service import status

    records = all_records()
    if not records:
        report.add(KUBERNETES, "sandbox cluster", False, "none", "lab cluster create")
        return
    name = records[0].name
    if not status().running:
        report.add(KUBERNETES, "sandbox cluster", True, f"{name} (the sandbox is stopped; lab sandbox start)")
        return
    from .errors import LabError
    from .kube.client import api_client
    from .kube.nodes import READY, node_states

    try:
        states = node_states(api_client(admin=True), name)
    except (LabError, OSError, ValueError) as exc:
        report.add(
            KUBERNETES,
            "sandbox cluster",
            False,
            f"{name}: its API did not answer ({exc})",
            "lab sandbox stop; lab sandbox start",
        )
        return
    ready = sum(state == READY for state in states.values())
    report.add(
        KUBERNETES,
        "sandbox cluster",
        bool(states) and ready == len(states),
        f"{name}: {ready}/{len(states)} nodes Ready",
        f"kubectl get nodes; lab cluster delete --name {name} && lab cluster create",
    )
