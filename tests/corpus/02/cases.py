"""Lab 02's grading corpus: the scores each submission must get (sandbox backend: nothing submitted).

Auto-graded maximum: 13 points. Public: 02.su-cost 2, 02.partition 1, 02.job 3, 02.backfill 1,
02.amdahl 2. Hidden, re-derived in the grader from the released exercise: su-cost, job, backfill
and amdahl, 1 each.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, builder, fill

SETUP, SU, PARTITION, JOB, BACKFILL, AMDAHL = "29282617", "0467a8e9", "48ea8dd4", "52c99ad7", "5dea6e93", "32258c35"
FULL = 13
MY_JOB = (
    'my_job = dict(partition="gpuA40x4", account=f"{ALLOCATION}-delta-gpu", nodes=1, gpus_per_node=4,\n'
    '              cpus=64, mem_gb=120, walltime="14:00:00", command="python finetune.py")'
)


def fill_job(nb, code: str) -> None:
    """The job's stub is two lines (a dict with ... to replace): both give way to ``code``."""
    fill(nb, JOB, "my_job = dict(partition=...", code)
    fill(nb, JOB, "              cpus=..., mem_gb=...", "")  # the stub's second line


def right(nb) -> None:
    fill(nb, SU, "job_su = None", "job_su = max(1, 32 / 16, 40 / 62.5) * 6 * 0.5")
    fill(nb, PARTITION, "partition_choice = None", 'partition_choice = "gpuA40x4"')
    fill_job(nb, MY_JOB)
    fill(nb, BACKFILL, "first_backfilled = None", 'first_backfilled = "J3"')
    fill(nb, AMDAHL, "four_gpu_speedup = None", "four_gpu_speedup = 1 / ((1 - p) + p / 4)")


def partly_wrong(nb) -> None:
    """GPUs only (0), the partition (1), the job (3+1), J5 (0), Amdahl (2+1): 8."""
    right(nb)
    fill(nb, SU, "job_su = max(", "job_su = 1 * 6 * 0.5")
    fill(nb, BACKFILL, 'first_backfilled = "J3"', 'first_backfilled = "J5"')


def wrong(nb) -> None:
    fill(nb, SU, "job_su = None", "job_su = 0")
    fill(nb, PARTITION, "partition_choice = None", 'partition_choice = "cpu"')
    fill_job(nb, "my_job = {}")
    fill(nb, BACKFILL, "first_backfilled = None", 'first_backfilled = "J1"')
    fill(nb, AMDAHL, "four_gpu_speedup = None", "four_gpu_speedup = 4")


SPEC = LabCorpus(
    lab="02",
    checks=["02.su-cost", "02.partition", "02.job", "02.backfill", "02.amdahl"],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=SU,
    late=JOB,
    slot=(PARTITION, "partition_choice", '"gpuA40x4"'),
    deleted=(SETUP, AMDAHL),
    scores={
        "correct": FULL,
        "partly-wrong": 8,
        "untouched": 0,
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 3,
        "sys-exit": FULL,
        "os-exit": 3,  # the SU cost 2 + 1
        "memory-bomb": FULL - 3,  # the bomb keeps its memory: numpy then cannot load in the Amdahl cell
        "kill-kernel": 8,  # killed after the job: the backfill and Amdahl are not done
        "deleted-cells": FULL - 3,  # Amdahl's cell deleted: restored as released, not done
        "duplicated-reordered": FULL,
        "redefined-check": 0,
        "monkeypatch": 0,
        "fake-pass-lines": 0,
        "read-hidden": FULL,
        "huge-output": FULL,
        "network-call": FULL,
    },
)


build = builder(SPEC)
