"""The live backend: the learner's own Jetstream2 allocation, cluster and GPU.

It fails fast, naming what is missing, where a lab cannot start without it (credentials for the
cloud labs, a kubeconfig for the cluster labs). Where only some cells need a piece this machine
lacks (a GPU, ssh into a VM, a Delta login node), those parts are skipped and the reason printed.
"""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..config import LIVE, SANDBOX, client_config_file, kubeconfig_path, os_auth_url_set, os_cloud
from ..errors import MissingPiece, ResourceStateError, UsageError
from .base import JETSTREAM2_BOOT, Backend, skipped

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection

# What each lab needs before it can start on the live backend.
NEEDS: dict[str, tuple[str, ...]] = {
    "00": (),
    "01": (),  # the GPU: without one its cells run on the CPU, and say so
    "02": (),
    "03": ("cloud",),
    "04": ("cloud",),
    "05": ("cluster",),
    "06": ("cluster", "helm", "git"),
    "07": (),
}
OR_SANDBOX = f"or use BACKEND = {SANDBOX!r}"
GET_CREDENTIALS = (
    "Download an application credential's clouds.yaml from Horizon to ~/.config/openstack/ and "
    f"`export OS_CLOUD=openstack`, {OR_SANDBOX}."
)
# RFC 5737 and RFC 3849: addresses for examples, which reach no machine (the sandbox hands these out)
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def clouds_yaml_paths() -> list[Path]:
    """Where openstacksdk looks for clouds.yaml, in its order."""
    first = client_config_file()
    usual = [
        Path.cwd() / "clouds.yaml",
        Path.home() / ".config" / "openstack" / "clouds.yaml",
        Path("/etc/openstack/clouds.yaml"),
    ]
    return ([first] if first else []) + usual


def has_cloud_credentials() -> bool:
    if os_auth_url_set():
        return True
    return bool(os_cloud()) and any(p.is_file() for p in clouds_yaml_paths())


def config_file_is_sandbox() -> bool:
    """True when OS_CLIENT_CONFIG_FILE points at a sandbox's own clouds.yaml (wrong for the live backend)."""
    from .sandbox import CLOUD, FOLDER

    path = client_config_file()
    if path is None:
        return False
    if path.parent.name == FOLDER and path.name == "clouds.yaml":
        return True
    try:
        import yaml

        return CLOUD in (yaml.safe_load(path.read_text()) or {}).get("clouds", {})
    except Exception:  # unreadable or not YAML: not ours
        return False


def unroutable(address: str) -> bool:
    """True for an address from a range reserved for documentation."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _DOCUMENTATION)


class Live(Backend):
    name = LIVE
    where = "your own cloud, cluster and GPU"
    has_operator_view = False  # Jetstream2 keeps hypervisors to its operators
    starts_own_cloud = False
    min_poll_s = 2.0

    def require(self, lab: str) -> None:
        """Raise ``MissingPiece`` naming what the live backend lacks for ``lab``."""
        for need in NEEDS.get(lab, ()):
            if need == "cloud" and not has_cloud_credentials():
                raise MissingPiece(
                    "the live backend needs your Jetstream2 credentials: no clouds.yaml with OS_CLOUD set.",
                    hint=GET_CREDENTIALS,
                )
            if need == "cluster" and not kubeconfig_path().is_file():
                raise MissingPiece(
                    "the live backend needs a kubeconfig: none found.",
                    hint=f"Set KUBECONFIG to your cluster's config, {OR_SANDBOX}.",
                )
            if need in ("helm", "git") and not shutil.which(need):
                raise MissingPiece(f"the live backend needs `{need}` on PATH.", hint=f"Install {need}, {OR_SANDBOX}.")

    def cloud_name(self) -> str:
        name = os_cloud()
        if not name:
            raise MissingPiece(
                "the live backend needs OS_CLOUD: the name of your cloud in clouds.yaml.", hint=GET_CREDENTIALS
            )
        return name

    def connect(self, *, admin: bool = False) -> Connection:
        """Only the learner's own clouds.yaml (``OS_CLOUD``); the sandbox's file is never consulted."""
        import openstack

        if admin:
            raise MissingPiece(
                "the admin view needs operator credentials, which Jetstream2 does not give to projects.",
                hint=f"Use backend={SANDBOX!r} to see hypervisors; on JS2 compare servers' hostId instead.",
            )
        name = self.cloud_name()
        if config_file_is_sandbox():
            raise MissingPiece(
                "OS_CLIENT_CONFIG_FILE points at the sandbox's clouds.yaml while the backend is live.",
                hint="`unset OS_CLIENT_CONFIG_FILE` (or point it at your Jetstream2 clouds.yaml).",
            )
        return openstack.connect(cloud=name)

    def s3_client(self, conn: Connection) -> Any:
        """The S3 endpoint of the cloud's own catalog (an ``s3`` or ``ec2`` service), else Jetstream2's from
        data/jetstream2.yaml; the EC2 credential found or created through Keystone on ``conn``."""
        from ..paths import load_yaml
        from .s3 import catalog_s3_endpoint, ec2_credential, s3_client

        facts = load_yaml("jetstream2.yaml")["object_store"]
        endpoint = catalog_s3_endpoint(conn) or str(facts["s3_endpoint"])
        access, secret = ec2_credential(conn)
        return s3_client(endpoint, access, secret, str(facts["s3_region"]))

    def cluster(self) -> Path:
        path = kubeconfig_path()
        if not path.is_file():
            raise MissingPiece(
                f"the live backend needs a kubeconfig: {path} is not a file.",
                hint=f"Set KUBECONFIG to your cluster's config, {OR_SANDBOX}.",
            )
        return path

    def array_module(self) -> ModuleType:
        """CuPy on the GPU; without a usable one, NumPy on the CPU, with the reason printed."""
        from ..gpu.device import cupy_or_reason

        cupy, reason = cupy_or_reason()
        if cupy is not None:
            return cupy
        skipped(
            f"the GPU: the live backend measures it with CuPy, but {reason}. These cells run on this machine's "
            "CPU with NumPy, as on the sandbox; for the GPU's own numbers run on a GPU machine (a Delta gpuA40x4 "
            "node) with `pip install 'visualizing-compute[gpu]'`."
        )
        import numpy

        return numpy

    def usual_boot(self) -> str:
        return JETSTREAM2_BOOT

    def metered_su(self, server: Any) -> float:
        """A project sees only ``launched_at``: the ACTIVE rate times the time since launch (an upper
        bound when the server was stopped in between)."""
        from datetime import datetime, timezone

        from ..resources.cost import state_charge, su_per_hour

        launched = getattr(server, "launched_at", None)
        if not launched:
            return 0.0
        start = datetime.fromisoformat(str(launched).replace("Z", "")).replace(tzinfo=timezone.utc)
        hours = (datetime.now(timezone.utc) - start).total_seconds() / 3600.0
        flavor = getattr(server, "flavor", None)
        name: str | None
        if isinstance(flavor, dict):
            name = flavor.get("original_name") or flavor.get("name")
        else:
            name = getattr(flavor, "name", "")
        if name is None:
            raise UsageError("the server's flavor has neither an original_name nor a name: no SU rate for it.")
        return su_per_hour(name) * state_charge(server.status) * max(0.0, hours)

    def measure_volume(
        self, conn: Connection, volume: Any, *, server: Any, params: dict, user: str, timeout_s: float
    ) -> tuple[dict | None, str]:
        """Inside the lab's VM, over ssh, against the attached device."""
        from ..storage.block import run_probe_over_ssh
        from ..storage.reach import checked_address

        if server is None or getattr(server, "private_key", None) is None:
            raise MissingPiece(
                "on the live backend the volume is measured from inside the lab's VM, over ssh.",
                hint="Pass server=ensure_lab_server(course, conn). If its keypair was made on another "
                "machine, run `lab cleanup --lab 04` and run the lab again here, so that the "
                "private key is saved.",
            )
        if volume.status != "in-use":
            raise ResourceStateError(
                f"volume {volume.name} is {volume.status}, not attached.",
                hint="Attach it to the lab's server first (create_volume_attachment).",
            )
        reason = self.ssh_skip_reason(server.address)
        if reason:
            return None, skipped(f"measuring volume {volume.name} needs ssh to a VM the cloud handed out; {reason}")
        address = checked_address(conn, server.server.id, server.address)
        result = run_probe_over_ssh(address, server.private_key, user, f"volume:{volume.id}", params, timeout_s)
        return result, f"volume {volume.name}, attached to {server.server.name}, measured inside the VM"

    def ssh_skip_reason(self, address: str) -> str:
        if unroutable(address):
            return (
                f"{address} is from a range reserved for documentation (as the sandbox's addresses are), "
                "which reaches no machine and cannot be logged into"
            )
        return ""

    def login_note(self, address: str) -> str:
        reason = self.ssh_skip_reason(address)
        return f"  (skipped: {reason})" if reason else ""

    def can_submit_jobs(self) -> bool:
        from ..batch.slurm import slurm_available

        if slurm_available():
            return True
        skipped("submitting to Slurm needs a Delta login node: `sbatch` is not on PATH here")
        return False

    def slurm_cluster_options(self) -> dict:
        return {}  # on a login node dask-jobqueue's defaults (its own address and interpreter) are right
