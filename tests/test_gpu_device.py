"""GPU paths: these run only where the driver probe finds a GPU (and CuPy is installed)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from lab_helpers.gpu.probe import probe

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not probe().available, reason="no NVIDIA GPU on this machine"),
]


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


def test_device_properties_come_from_cupy(cp):
    from lab_helpers.gpu.device import array_module, describe

    assert array_module() is cp
    device = describe()
    assert device.kind == "gpu" and device.sms > 0 and device.memory_bytes > 0 and device.cache_bytes > 0
    assert device.bus_width_bits > 0 and "." in device.compute_capability
    assert device.name == probe().names[0]


def test_kernels_on_the_gpu_match_numpy(cp):
    from lab_helpers.gpu import kernels as K

    a, b, c = K.make_arrays(cp, 100_003)
    b[:] = cp.arange(100_003, dtype=cp.float64)
    K.triad_single_pass(cp, a, b, c, 3.0)
    np.testing.assert_allclose(cp.asnumpy(a), cp.asnumpy(b) + 3.0 * cp.asnumpy(c))
    np.testing.assert_allclose(cp.asnumpy(K.triad_naive(cp, b, c, 3.0)), cp.asnumpy(a))
    assert float(K.dot(cp, b, c)) == pytest.approx(float(np.dot(cp.asnumpy(b), cp.asnumpy(c))))


def test_gpu_timing_uses_cuda_events(cp):
    from lab_helpers.gpu.timing import time_call

    x = cp.ones(1 << 22)
    timing = time_call(cp, lambda: x * 2, repeat=10)
    assert timing.method == "cuda-events" and 0 < timing.best_s <= timing.median_s


def test_suite_on_the_gpu_has_copies_gemms_and_peaks(cp):
    from lab_helpers.gpu.bench import run_suite

    report = run_suite(cp, n=1 << 24, quick=True)
    kinds = {(r.kernel, r.variant) for r in report.results}
    assert {("h2d", "pinned"), ("h2d", "pageable"), ("d2h", "pinned"), ("d2h", "pageable")} <= kinds
    assert ("gemm", "fp32") in kinds and ("gemm", "fp16") in kinds
    assert ("gemm", "tf32") in kinds or any(s.get("variant") == "tf32" for s in report.skipped)
    if report.device.spec is not None:
        triad = report.find("triad", "single-pass")
        assert 0 < triad.fraction_of_peak < 1.2


def test_cli_json_on_the_gpu(tmp_path):
    env = dict(os.environ, LAB_STATE_DIR=str(tmp_path), LAB_BENCH_ELEMENTS="4000000")
    done = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "bench", "gpu", "--json", "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    import json

    assert json.loads(done.stdout)["device"]["kind"] == "gpu"
