import pytest

from lab_helpers.batch.delta import format_walltime, parse_walltime, partition, partitions
from lab_helpers.batch.jobs import Job, problems, render_sbatch, su_cost, validate
from lab_helpers.errors import UsageError

GOOD = dict(
    partition="gpuA40x4", account="bbka-delta-gpu", nodes=1, gpus_per_node=1, cpus=16, mem_gb=60, walltime="02:00:00"
)


def test_delta_data_matches_the_reference_figures():
    p = partitions()
    assert p["gpuA40x4"].charge_factor == 0.5 and p["gpuA40x4-interactive"].charge_factor == 1.0
    assert p["gpuA40x4-preempt"].charge_factor == 0.25 and p["gpuH200x8"].charge_factor == 3.0
    assert p["gpuA40x4"].max_walltime == "48:00:00" and p["gpuA40x4-interactive"].max_hours == 1.0
    assert p["gpuA40x4-preempt"].max_hours == 48 and p["cpu-interactive"].max_hours == 0.5
    node = p["gpuA40x4"].node_type
    assert (node.nodes, node.cores, node.memory_gb, node.gpus) == (100, 64, 256, 4)
    assert all(part.source.startswith("https://") for part in p.values())


def test_walltime_forms():
    assert parse_walltime("02:30:00") == 2.5
    assert parse_walltime("1-00:00:00") == 24
    assert parse_walltime("45:00") == 0.75
    assert format_walltime(2.5) == "02:30:00"
    with pytest.raises(UsageError) as info:
        parse_walltime("2h")
    assert "HH:MM:SS" in info.value.message


def test_a_good_job_validates():
    assert validate(GOOD).gpus_per_node == 1
    assert problems(Job(**GOOD)) == []


@pytest.mark.parametrize(
    "change, field, says, fix",
    [
        (
            dict(gpus_per_node=8),
            "gpus_per_node",
            "gpuA40x4 nodes have 4 GPUs; the job asks for 8 per node",
            "nodes=2, gpus_per_node=4",
        ),
        (dict(gpus_per_node=0), "gpus_per_node", "must ask for at least one GPU", "use a cpu partition"),
        (dict(cpus=65), "cpus", "have 64 cores", "at most 64 cores"),
        (dict(mem_gb=300), "mem_gb", "have 256 GB of memory", "at most 256 GB"),
        (dict(walltime="49:00:00"), "walltime", "over gpuA40x4's limit of 48:00:00", "checkpoint"),
        (
            dict(partition="gpuA40x4-interactive", walltime="02:00:00"),
            "walltime",
            "limit of 01:00:00",
            "or use gpuA40x4",
        ),
        (dict(account="bbka-delta-cpu"), "account", "is not a GPU account", "bbka-delta-gpu"),
        (dict(partition="gpua40x4"), "partition", "does not exist", "case-sensitive"),
        (dict(nodes=101), "nodes", "has 100 nodes", "at most 100 nodes"),
        (dict(walltime="soon"), "walltime", "HH:MM:SS", "02:30:00"),
    ],
)
def test_errors_say_what_to_change(change, field, says, fix):
    found = problems({**GOOD, **change})
    assert [p.field for p in found] == [field]
    assert says in found[0].message and fix in found[0].fix
    with pytest.raises(UsageError) as info:
        validate({**GOOD, **change})
    assert says in info.value.message and fix in info.value.hint


def test_cpu_partition_rejects_gpus_and_unknown_fields():
    found = problems(dict(partition="cpu", account="bbka-delta-cpu", gpus_per_node=1, cpus=8))
    assert [p.field for p in found] == ["gpus_per_node"]
    with pytest.raises(UsageError) as info:
        Job.from_any({**GOOD, "gpu": 1})
    assert "unknown job fields: gpu" in info.value.message


@pytest.mark.parametrize(
    "job, su, decided_by",
    [
        # 1 GPU, 16 cores, 60 GB: max(1, 16/16, 60/62.5) = 1 GPU; 2 h x 0.5 = 1 SU
        (GOOD, 1.0, "gpus"),
        # 1 GPU but 32 cores: cores/16 = 2 GPU-equivalents; 2 h x 0.5 x 2 = 2 SU
        ({**GOOD, "cpus": 32}, 2.0, "cores"),
        # 1 GPU but 250 GB: 250/62.5 = 4; 2 h x 0.5 x 4 = 4 SU
        ({**GOOD, "mem_gb": 250}, 4.0, "memory"),
        # the same job on the interactive partition (factor 1.0) for 45 min: 1 x 0.75 h x 1.0 = 0.75 SU,
        # raised to Delta's minimum charge of 1 SU
        ({**GOOD, "partition": "gpuA40x4-interactive", "walltime": "00:45:00"}, 1.0, "gpus"),
        # 8-way A100 node: one GPU counts as 250 GB there; 2 GPUs, 600 GB -> 600/250 = 2.4 x 4 h x 1.5 = 14.4 SU
        ({**GOOD, "partition": "gpuA100x8", "gpus_per_node": 2, "mem_gb": 600, "walltime": "04:00:00"}, 14.4, "memory"),
        # 2 nodes x 4 GPUs x 10 h x 0.5 = 40 SU
        ({**GOOD, "nodes": 2, "gpus_per_node": 4, "walltime": "10:00:00"}, 40.0, "gpus"),
        # CPU: 8 cores, default memory (8 GB) -> 8 core-hours x 3 h x 1.0 = 24 SU
        (dict(partition="cpu", account="bbka-delta-cpu", cpus=8, walltime="03:00:00"), 24.0, "cores"),
    ],
)
def test_su_cost(job, su, decided_by):
    cost = su_cost(job)
    assert cost.su == pytest.approx(su)
    assert cost.decided_by == decided_by
    assert "SU" in str(cost)


def test_minimum_charge_is_said():
    cost = su_cost({**GOOD, "walltime": "00:30:00"})  # 1 GPU x 0.5 h x 0.5 = 0.25 SU -> 1 SU
    assert cost.su == 1 and cost.minimum_applied and "minimum charge of 1 SU" in str(cost)


def test_default_memory_is_1000_mb_per_core():
    assert Job(partition="cpu", account="x-delta-cpu", cpus=4).memory_gb == 4.0


def test_sbatch_rendering():
    script = render_sbatch({**GOOD, "command": "python train.py --epochs 3"})
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    for directive in [
        "--account=bbka-delta-gpu",
        "--partition=gpuA40x4",
        "--nodes=1",
        "--cpus-per-task=16",
        "--mem=60G",
        "--gpus-per-node=1",
        "--time=02:00:00",
    ]:
        assert f"#SBATCH {directive}" in lines
    assert lines[-1] == "srun python train.py --epochs 3"
    cpu = render_sbatch(dict(partition="cpu", account="bbka-delta-cpu", cpus=4, mem_gb=7.5))
    assert "--gpus-per-node" not in cpu and "#SBATCH --mem=7500M" in cpu
    with pytest.raises(UsageError):
        render_sbatch({**GOOD, "gpus_per_node": 5})


def test_partition_lookup_suggests_the_right_case():
    with pytest.raises(UsageError) as info:
        partition("GPUA40X4")
    assert "'gpuA40x4'" in info.value.hint
