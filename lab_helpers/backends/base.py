"""What a backend is: everything that differs between the local sandbox and a real cloud.

A lab never asks which backend it is on; it asks the backend (``course.backend``) to do the
part that differs: connect to the cloud or the cluster, choose the array module, say how long a
boot usually takes, meter SUs, show the operator's view, measure a volume. Where a piece is
missing (no GPU, no ssh into a VM, no Slurm), the backend prints why that part is skipped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection


class Backend(ABC):
    """One backend. ``str(backend)`` is its name, as in ``BACKEND = "..."`` and ``--backend``."""

    name: ClassVar[str]
    where: ClassVar[str]  # one phrase for the session's banner
    has_operator_view: ClassVar[bool]  # may list hypervisors (an admin credential)
    starts_own_cloud: ClassVar[bool]  # the cloud is a local service started per learner (and per graded submission)
    min_poll_s: ClassVar[float]  # the shortest sensible wait between two status requests

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:  # two objects of one backend are the same backend
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    # --- what a lab needs ------------------------------------------------------------------------
    @abstractmethod
    def require(self, lab: str) -> None:
        """Raise ``MissingPiece`` naming what this backend lacks for ``lab``; print what it will skip."""

    @abstractmethod
    def cloud_name(self) -> str:
        """The cloud's name in clouds.yaml."""

    @abstractmethod
    def connect(self, *, admin: bool = False) -> Connection:
        """An openstacksdk connection; ``admin=True`` is the operator's (where the backend has one)."""

    @abstractmethod
    def s3_client(self, conn: Connection) -> Any:
        """A boto3 S3 client for the cloud's object store, signed with the learner's own EC2 credential."""

    @abstractmethod
    def cluster(self) -> Path:
        """The kubeconfig of this backend's Kubernetes cluster."""

    @abstractmethod
    def array_module(self) -> ModuleType:
        """The ``xp`` kernels take: CuPy on a GPU, NumPy on the CPU."""

    @abstractmethod
    def usual_boot(self) -> str:
        """How long a server usually takes to become ACTIVE, in words."""

    @abstractmethod
    def metered_su(self, server: Any) -> float:
        """SUs ``server`` has cost since it was created."""

    @abstractmethod
    def measure_volume(
        self, conn: Connection, volume: Any, *, server: Any, params: dict, user: str, timeout_s: float
    ) -> tuple[dict | None, str]:
        """Run the block probe where the volume is: (its JSON result, what was measured in words).

        The result is None when this backend cannot reach the volume (the reason is printed and returned).
        """

    @abstractmethod
    def ssh_skip_reason(self, address: str) -> str:
        """Why a VM at ``address`` cannot be logged into from here ("" when it can)."""

    @abstractmethod
    def login_note(self, address: str) -> str:
        """The line a lab prints under an ssh command for ``address`` ("" when the command works as shown)."""

    @abstractmethod
    def can_submit_jobs(self) -> bool:
        """Whether jobs go to Slurm for real here (``sbatch`` on a login node); when not, the live backend says why."""

    @abstractmethod
    def slurm_cluster_options(self) -> dict:
        """``SLURMCluster`` keyword arguments that differ: where its scheduler listens, which python a job runs."""


# How long Jetstream2 takes, which both backends quote (the sandbox beside its own figure).
JETSTREAM2_BOOT = "on Jetstream2 a server usually takes 1 to 3 minutes to become ACTIVE (longer for GPU flavors)"


def skipped(reason: str) -> str:
    """Print (and return) one line saying which part is skipped and why."""
    line = f"skipped: {reason}"
    print(line)
    return line
