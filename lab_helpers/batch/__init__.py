"""Slurm batch jobs on Delta (lab 02): the machine as data, job validation, SU cost, sbatch,
dask-jobqueue, a queue simulation with EASY backfill, and Amdahl's law.

Named for what it is: the course's "cluster" from lab 05 on is Kubernetes."""

# The modules the labs import from (each pins its own names in ``__all__``; tests/test_public_api.py).
__all__ = ["amdahl", "delta", "jobqueue", "jobs", "queue", "slurm"]
