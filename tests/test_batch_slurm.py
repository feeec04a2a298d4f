"""Submitting through stand-in sbatch/squeue/sacct scripts on PATH (no Slurm here)."""

import os
import stat

import pytest

from lab_helpers.batch import slurm
from lab_helpers.errors import MissingPiece, ServiceError

JOB = dict(
    partition="gpuA40x4-interactive",
    account="bbka-delta-gpu",
    gpus_per_node=1,
    cpus=1,
    mem_gb=16,
    walltime="00:05:00",
    name="probe",
    command="nvidia-smi",
)


def _tool(folder, name, body):
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "submitted.sbatch"
    _tool(bin_dir, "sbatch", f'cp "$2" {log}\necho "4242;delta"')
    _tool(bin_dir, "squeue", 'echo "PENDING"')
    _tool(bin_dir, "sacct", 'echo "COMPLETED"')
    _tool(bin_dir, "scancel", "exit 0")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_without_slurm_it_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not slurm.slurm_available()
    with pytest.raises(MissingPiece) as info:
        slurm.submit(JOB)
    assert "sbatch" in info.value.message and "login node" in info.value.hint


def test_submit_sends_the_rendered_script_and_polls(fake_slurm):
    assert slurm.slurm_available()
    assert slurm.submit(JOB) == "4242"
    script = fake_slurm.read_text()
    assert "#SBATCH --partition=gpuA40x4-interactive" in script and script.rstrip().endswith("srun nvidia-smi")
    assert slurm.job_state("4242") == "PENDING"


def test_a_refused_job_is_a_service_error(fake_slurm, tmp_path):
    _tool(tmp_path / "bin", "sbatch", 'echo "sbatch: error: Invalid account" >&2\nexit 1')
    with pytest.raises(ServiceError) as info:
        slurm.submit(JOB)
    assert "Invalid account" in info.value.message
