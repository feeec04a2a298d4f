"""The live backend's preconditions: fail fast, naming exactly what is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import MissingPiece

# What each lab needs on the live backend.
NEEDS: dict[str, tuple[str, ...]] = {
    "00": (),
    "01": ("gpu",),
    "02": (),
    "03": ("cloud",),
    "04": ("cloud",),
    "05": ("cluster",),
    "06": ("cluster", "helm", "git"),
    "07": (),
}


def clouds_yaml_paths() -> list[Path]:
    """Where openstacksdk looks for clouds.yaml, in its order."""
    paths = []
    if os.environ.get("OS_CLIENT_CONFIG_FILE"):
        paths.append(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).expanduser())
    paths += [Path.cwd() / "clouds.yaml", Path.home() / ".config" / "openstack" / "clouds.yaml", Path("/etc/openstack/clouds.yaml")]
    return paths


def has_cloud_credentials() -> bool:
    if os.environ.get("OS_AUTH_URL"):
        return True
    return bool(os.environ.get("OS_CLOUD")) and any(p.is_file() for p in clouds_yaml_paths())


def kubeconfig_path() -> Path:
    return Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]).expanduser()


def require_live(lab: str) -> None:
    """Raise ``MissingPiece`` naming what the live backend lacks for ``lab``."""
    for need in NEEDS.get(lab, ()):
        if need == "cloud" and not has_cloud_credentials():
            raise MissingPiece(
                "the live backend needs your Jetstream2 credentials: no clouds.yaml with OS_CLOUD set.",
                hint="Download an application credential's clouds.yaml from Horizon to ~/.config/openstack/ and `export OS_CLOUD=openstack`, or use BACKEND='sandbox'.",
            )
        if need == "cluster" and not kubeconfig_path().is_file():
            raise MissingPiece("the live backend needs a kubeconfig: none found.", hint="Set KUBECONFIG to your cluster's config, or use BACKEND='sandbox'.")
        if need in ("helm", "git") and not shutil.which(need):
            raise MissingPiece(f"the live backend needs `{need}` on PATH.", hint=f"Install {need}, or use BACKEND='sandbox'.")
        if need == "gpu":
            from .gpu.probe import probe

            if not probe().available:
                raise MissingPiece("the live backend for this lab needs an NVIDIA GPU: none was detected.", hint="Run it on a GPU machine (a Delta gpuA40x4 node), or use BACKEND='sandbox'.")
