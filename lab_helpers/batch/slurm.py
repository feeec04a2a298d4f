"""Submitting for real: only where ``sbatch`` is on PATH (a Delta login node). Elsewhere the
functions say so and the lab shows the script instead."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import MissingPiece, ServiceError
from .jobs import Job, render_sbatch

__all__ = ["cancel", "job_state", "slurm_available", "submit"]


def slurm_available() -> bool:
    return shutil.which("sbatch") is not None and shutil.which("squeue") is not None


def _require() -> None:
    if not slurm_available():
        raise MissingPiece(
            "no Slurm here: `sbatch` is not on PATH.",
            hint="Run this cell on a Delta login node; the script above is what it would submit.",
        )


def submit(job: Job | dict) -> str:
    """Submit ``job`` with sbatch; returns the job id."""
    _require()
    script = render_sbatch(job)
    with tempfile.NamedTemporaryFile("w", suffix=".sbatch", delete=False) as fh:
        fh.write(script)
        path = fh.name
    try:
        done = subprocess.run(["sbatch", "--parsable", path], capture_output=True, text=True, timeout=60)
    finally:
        Path(path).unlink(missing_ok=True)
    if done.returncode != 0:
        raise ServiceError(
            f"sbatch refused the job: {done.stderr.strip()}",
            hint="Read Slurm's message; `accounts` lists your allocations.",
        )
    return done.stdout.strip().split(";")[0]


def job_state(job_id: str) -> str:
    """PENDING, RUNNING, COMPLETED, ... from squeue (or sacct once the job has left the queue)."""
    _require()
    done = subprocess.run(["squeue", "-h", "-j", str(job_id), "-o", "%T"], capture_output=True, text=True, timeout=30)
    state = done.stdout.strip()
    if state:
        return state
    done = subprocess.run(
        ["sacct", "-n", "-X", "-j", str(job_id), "-o", "State"], capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip().split("\n")[0].strip() or "UNKNOWN"


def cancel(job_id: str) -> None:
    _require()
    subprocess.run(["scancel", str(job_id)], capture_output=True, text=True, timeout=30)
