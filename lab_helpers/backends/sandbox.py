"""The sandbox backend: a local cloud on 127.0.0.1, NumPy on the CPU, nothing to configure."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..config import SANDBOX
from ..errors import MissingPiece, ServiceError
from .base import JETSTREAM2_BOOT, Backend

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection

CLOUD = "sandbox"  # the clouds in the sandbox's own clouds.yaml
ADMIN_CLOUD = "sandbox-admin"
FOLDER = "sandbox"  # the service's folder under the state directory
NO_LOGIN = (
    "  (not on the sandbox: its VMs cannot be logged into, and this address is from a range reserved for "
    "documentation; on the live backend, this is the command to use)"
)


class Sandbox(Backend):
    name = SANDBOX
    where = "a local sandbox on 127.0.0.1 (no account needed)"
    has_operator_view = True  # the sandbox hands out its admin credential too
    starts_own_cloud = True
    min_poll_s = 0.0

    def require(self, lab: str) -> None:
        return None  # everything the sandbox needs comes with the course's install

    def cloud_name(self) -> str:
        return CLOUD

    def connect(self, *, admin: bool = False) -> Connection:
        """The sandbox's cloud, started on first use; its own clouds.yaml is loaded explicitly."""
        import openstack
        from openstack.config import loader

        from ..sandbox import ensure_running

        path = str(ensure_running().clouds_yaml)
        config = loader.OpenStackConfig(config_files=[path], vendor_files=[], secure_files=[], load_envvars=False)
        return openstack.connection.Connection(config=config.get_one(cloud=ADMIN_CLOUD if admin else CLOUD))

    def s3_client(self, conn: Connection) -> Any:
        """The sandbox's S3 API with the learner's EC2 credential (the one ``lab sandbox env`` exports)."""
        from ..sandbox import ensure_running
        from ..sandbox.openstack.s3.constants import REGION
        from ..sandbox.openstack.s3.credentials import learner_ec2
        from .s3 import s3_client

        running = ensure_running()
        cred = learner_ec2(running.base_url, running.clouds_yaml)
        return s3_client(cred["endpoint"], cred["access"], cred["secret"], REGION)

    def cluster(self) -> Path:
        """The sandbox's kubeconfig, once ``lab cluster create`` (or ``lab_helpers.kube.create_cluster()``) made a cluster."""
        from ..kube.client import api_client, kubeconfig
        from ..kube.nodes import node_states
        from ..kube.records import all_records

        records = all_records()
        if not records:
            raise MissingPiece(
                "the sandbox has no Kubernetes cluster yet.",
                hint="Create one with `lab cluster create` (in a notebook: lab_helpers.kube.create_cluster()).",
            )
        name = records[0].name
        if not node_states(api_client(admin=True), name):
            raise MissingPiece(
                f"the sandbox's cluster {name} has no nodes left (was the sandbox reset?).",
                hint=f"Run `lab cluster delete --name {name}`, then `lab cluster create`.",
            )
        return kubeconfig()

    def array_module(self) -> ModuleType:
        import numpy

        return numpy

    def usual_boot(self) -> str:
        from ..config import sandbox_boot_seconds
        from ..sandbox import status

        running = status()
        boot_s = running.boot_s if running.running and running.boot_s is not None else sandbox_boot_seconds()
        return f"the sandbox takes {boot_s:g} s; {JETSTREAM2_BOOT}"

    def metered_su(self, server: Any) -> float:
        """From Nova's usage API (``os-simple-tenant-usage``): the server's hours times its flavor's rate."""
        import datetime as dt

        from ..resources.cost import su_per_hour

        conn = self.connect()
        try:
            created = dt.datetime.fromisoformat(str(server.created_at).replace("Z", "+00:00"))
            project = conn.current_project_id
            if project is None:
                raise ServiceError("The sandbox's connection is scoped to no project, so its usage cannot be read.")
            usage = conn.compute.get_usage(
                project, start=created - dt.timedelta(seconds=1), end=dt.datetime.now(dt.timezone.utc)
            )
        finally:
            conn.close()
        for row in usage.server_usages or []:
            if row.get("instance_id") == server.id:
                return su_per_hour(row["flavor"], int(row["vcpus"])) * float(row["hours"])
        return 0.0

    def measure_volume(
        self, conn: Connection, volume: Any, *, server: Any, params: dict, user: str, timeout_s: float
    ) -> tuple[dict | None, str]:
        from ..sandbox import volume_backing_file
        from ..storage.block import run_probe_here

        result = run_probe_here(volume_backing_file(volume.id), params)
        return result, f"sandbox volume {volume.name}: its backing file on this machine's disk"

    def ssh_skip_reason(self, address: str) -> str:
        return "the sandbox's VMs are simulated and cannot be logged into"

    def login_note(self, address: str) -> str:
        return NO_LOGIN

    def can_submit_jobs(self) -> bool:
        return False  # the lab shows what would be submitted

    def slurm_cluster_options(self) -> dict:
        """The scheduler on 127.0.0.1 and a plain ``python`` in the job script."""
        return {"python": "python", "scheduler_options": {"host": "127.0.0.1"}}
