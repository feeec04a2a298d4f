import pytest

from lab_helpers.checks.core import evaluate, get_spec

JOB = dict(partition="gpuA40x4", account="bbka-delta-gpu", nodes=1, gpus_per_node=1, cpus=32, mem_gb=40, walltime="06:00:00")


def judge(name, answer, **context):
    return evaluate(get_spec(name), answer, context)


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))


def test_su_cost():
    # 32 cores / 16 = 2 GPU-equivalents x 6 h x 0.5 = 6 SU
    assert judge("02.su-cost", 6, job=JOB).passed
    wrong = judge("02.su-cost", 3, job=JOB)  # GPUs only: 1 x 6 x 0.5
    assert wrong.status == "failed" and "cores" in wrong.message
    assert judge("02.su-cost", None, job=JOB).status == "not done"


def test_partition():
    assert judge("02.partition", "gpuA40x4", expected="gpuA40x4").passed
    assert judge("02.partition", "gpuA40x4-interactive", expected="gpuA40x4").status == "failed"
    assert "not a Delta partition" in judge("02.partition", "gpu", expected="gpuA40x4").message


def test_job():
    needs = dict(partitions=["gpuA40x4", "gpuA40x4-preempt"], gpus=4, mem_gb=100, hours=12)
    good = dict(partition="gpuA40x4", account="bbka-delta-gpu", nodes=1, gpus_per_node=4, cpus=32, mem_gb=120, walltime="14:00:00")
    assert judge("02.job", good, needs=needs).passed
    short = judge("02.job", {**good, "walltime": "08:00:00"}, needs=needs)
    assert short.status == "partial" and "wall time" in short.message
    rejected = judge("02.job", {**good, "gpus_per_node": 8}, needs=needs)
    assert rejected.status == "failed" and "4 GPUs" in rejected.message
    assert judge("02.job", "gpuA40x4", needs=needs).status == "failed"


def test_amdahl():
    # p = 0.9 on 4 GPUs: 1 / (0.1 + 0.225) = 3.0769
    assert judge("02.amdahl", 3.08, p=0.9, workers=4).passed
    ideal = judge("02.amdahl", 4, p=0.9, workers=4)
    assert ideal.status == "failed" and "ideal" in ideal.message


def test_backfill():
    assert judge("02.backfill", "J3", expected="J3").passed
    assert judge("02.backfill", "J5", expected="J3").status == "failed"
