"""The same job through dask-jobqueue's ``SLURMCluster``, the way the Mobility Scooter Project's Delta tutorial does it.

Constructing a ``SLURMCluster`` starts a local Dask scheduler but submits nothing: jobs go to
Slurm only on ``cluster.scale(...)``. So ``job_script()`` can be shown anywhere, and the lab
closes the cluster right after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .jobs import Job, validate

__all__ = ["backend_options"]

if TYPE_CHECKING:  # pragma: no cover
    from ..backends import Backend

# The Mobility Scooter Project's Delta tutorial, as keyword arguments of SLURMCluster.
SEED = dict(
    queue="gpuA40x4-interactive",
    cores=1,
    memory="16GB",
    walltime="00:30:00",
    job_extra_directives=["--gpus-per-node=1"],
    worker_extra_args=["--resources", "GPU=1"],
)


def backend_options(backend: Backend | str | None = None) -> dict:
    """What differs between backends: where the scheduler listens and which python the job runs.

    In the sandbox the scheduler listens on 127.0.0.1 and the job script says plain ``python``;
    on a login node dask-jobqueue's defaults (its own address and interpreter) are right.
    """
    from ..backends import resolve

    return resolve(backend).slurm_cluster_options()


def cluster_kwargs(job: Job | dict) -> dict:
    """SLURMCluster keyword arguments for a validated ``Job``."""
    job = validate(job)
    kwargs = dict(
        queue=job.partition,
        account=job.account,
        cores=int(job.cpus),
        processes=1,
        memory=f"{job.memory_gb:g}GB",
        walltime=job.walltime,
        job_name=job.name,
    )
    if int(job.gpus_per_node) > 0:
        kwargs["job_extra_directives"] = [f"--gpus-per-node={int(job.gpus_per_node)}"]
        kwargs["worker_extra_args"] = ["--resources", f"GPU={int(job.gpus_per_node)}"]
    return kwargs


def job_script(backend: Backend | str | None = None, **kwargs) -> str:
    """The script SLURMCluster would submit for one worker; the cluster is closed before returning."""
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(**{**backend_options(backend), **kwargs})
    try:
        return cluster.job_script()
    finally:
        cluster.close()
