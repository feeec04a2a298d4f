import pytest

from lab_helpers.checks import evaluate, get_spec

JOB = dict(
    partition="gpuA40x4", account="bbka-delta-gpu", nodes=1, gpus_per_node=1, cpus=32, mem_gb=40, walltime="06:00:00"
)


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


WORKLOAD_30H = dict(gpu_model="A40", gpus=4, hours=30, interruptible=False)
WORKLOAD_12H = dict(gpu_model="A40", gpus=4, mem_gb=100, hours=12, interruptible=False)


def test_partition_is_derived_from_delta_data_not_from_the_call():
    assert judge("02.partition", "gpuA40x4", workload=WORKLOAD_30H).passed
    # harmless variants pass, and the feedback says how Slurm spells it
    variant = judge("02.partition", "  GPUA40x4 ", workload=WORKLOAD_30H)
    assert variant.passed and "case-sensitive" in variant.message
    # an expected value smuggled into the call is ignored: the judge reads data/delta.yaml
    assert not judge("02.partition", "cpu", workload=WORKLOAD_30H, expected="cpu").passed
    assert "stops jobs after 01:00:00" in judge("02.partition", "gpuA40x4-interactive", workload=WORKLOAD_30H).message
    assert "preemptible" in judge("02.partition", "gpuA40x4-preempt", workload=WORKLOAD_30H).message
    assert "A40" in judge("02.partition", "gpuMI100x8", workload=WORKLOAD_30H).message
    assert "not a Delta partition" in judge("02.partition", "gpu", workload=WORKLOAD_30H).message
    # an interruptible run may take the preemptible partition
    assert judge("02.partition", "gpuA40x4-preempt", workload=dict(WORKLOAD_30H, interruptible=True)).passed
    assert "text" in judge("02.partition", 4, workload=WORKLOAD_30H).message


def test_job():
    good = dict(
        partition="gpuA40x4",
        account="bbka-delta-gpu",
        nodes=1,
        gpus_per_node=4,
        cpus=32,
        mem_gb=120,
        walltime="14:00:00",
    )
    assert judge("02.job", good, workload=WORKLOAD_12H).passed
    short = judge("02.job", {**good, "walltime": "08:00:00"}, workload=WORKLOAD_12H)
    assert short.status == "partial" and "wall time" in short.message
    dearer = judge(
        "02.job", {**good, "partition": "gpuA40x4-interactive", "walltime": "01:00:00"}, workload=WORKLOAD_12H
    )
    assert dearer.status == "partial" and "gpuA40x4-interactive" in dearer.message
    rejected = judge("02.job", {**good, "gpus_per_node": 8}, workload=WORKLOAD_12H)
    assert rejected.status == "failed" and "4 GPUs" in rejected.message
    assert "dict" in judge("02.job", "gpuA40x4", workload=WORKLOAD_12H).message


def test_a_malformed_job_gets_a_sentence_not_a_traceback():
    good = dict(
        partition="gpuA40x4",
        account="bbka-delta-gpu",
        nodes=1,
        gpus_per_node=4,
        cpus=32,
        mem_gb=120,
        walltime="14:00:00",
    )
    no_account = {k: v for k, v in good.items() if k != "account"}
    result = judge("02.job", no_account, workload=WORKLOAD_12H)
    assert result.status == "failed"
    assert "__init__" not in result.message and "missing" not in result.message
    assert "has no 'account'" in result.message and "account=" in result.message
    as_text = judge("02.job", {**good, "gpus_per_node": "4"}, workload=WORKLOAD_12H)
    assert as_text.status == "failed" and "gpus_per_node" in as_text.message and "text" in as_text.message
    stub = dict(
        partition=...,
        account="bbka-delta-gpu",
        nodes=...,
        gpus_per_node=...,
        cpus=...,
        mem_gb=...,
        walltime=...,
        command="python finetune.py",
    )
    untouched = judge("02.job", stub, workload=WORKLOAD_12H)
    assert (
        untouched.status == "failed" and "Not filled in yet" in untouched.message and "partition" in untouched.message
    )


def test_numbers_given_as_text_do_not_pass():
    as_text = judge("02.su-cost", "6", job=JOB)
    assert as_text.status == "failed" and "text" in as_text.message and "number" in as_text.message
    assert judge("02.amdahl", "3.08", p=0.9, workers=4).status == "failed"


def test_amdahl():
    # p = 0.9 on 4 GPUs: 1 / (0.1 + 0.225) = 3.0769
    assert judge("02.amdahl", 3.08, p=0.9, workers=4).passed
    ideal = judge("02.amdahl", 4, p=0.9, workers=4)
    assert ideal.status == "failed" and "ideal" in ideal.message


def test_backfill_replays_the_released_queue():
    assert judge("02.backfill", "J3").passed
    assert judge("02.backfill", " j3 ").passed
    # an expected value in the call is not what the judge uses
    assert judge("02.backfill", "J5", expected="J5").status == "failed"
    assert "not a job of this queue" in judge("02.backfill", "J9").message
    assert "text" in judge("02.backfill", 3).message


def test_lab02_words_and_the_wait_figure():
    import nbformat

    from lab_helpers.catalog import all_labs

    nb = nbformat.read(next(x for x in all_labs() if x.number == "02").path, as_version=4)
    assert not any("seed" in c.source.lower() for c in nb.cells)
    assert any("wall_time_figure()" in c.source for c in nb.cells if c.cell_type == "code")
    assert not any("go.Heatmap" in c.source for c in nb.cells)
