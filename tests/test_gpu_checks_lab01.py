import pytest

from lab_helpers.checks import evaluate, get_spec


def judge(name, answer, **context):
    return evaluate(get_spec(name), answer, context)


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))


def test_triad_intensity():
    assert judge("01.triad-intensity", 2 / 24, itemsize=8).passed
    assert judge("01.triad-intensity", 2 / 12, itemsize=4).passed
    assert judge("01.triad-intensity", 2 / 16, itemsize=8).status == "failed"
    assert judge("01.triad-intensity", None).status == "not done"


def test_ridge_point():
    assert judge("01.ridge-point", 53.7).passed
    assert judge("01.ridge-point", 5.37).status == "failed"


def test_triad_prediction_on_an_a40():
    n = 50_000_000  # 1.2 GB of float64 traffic at 696 GB/s = 1.724 ms
    assert judge("01.triad-a40-ms", 1.724, n=n, itemsize=8).passed
    assert judge("01.triad-a40-ms", 2.87, n=n, itemsize=8).status == "failed"  # counted with 5 streams


def test_naive_bytes_explains_the_single_pass_mistake():
    assert judge("01.naive-bytes", 40, itemsize=8).passed
    assert judge("01.naive-bytes", 20, itemsize=4).passed
    wrong = judge("01.naive-bytes", 24, itemsize=8)
    assert wrong.status == "failed" and "temporary" in wrong.message


def test_measured_bandwidth_is_judged_against_the_same_run():
    ctx = dict(n=16_000_000, itemsize=8, seconds=0.0192)  # 384 MB in 19.2 ms = 20 GB/s
    assert judge("01.measured-bandwidth", 20.0, **ctx).passed
    assert judge("01.measured-bandwidth", 20.5, **ctx).passed  # within the stated 3 %
    result = judge("01.measured-bandwidth", 22.0, **ctx)
    assert result.status == "failed" and "3%" in result.message


def test_bound():
    assert judge("01.bound", "compute", n=8192).passed
    assert judge("01.bound", "memory-bound", n=8192).status == "failed"
    assert judge("01.bound", "fast", n=8192).status == "failed"
