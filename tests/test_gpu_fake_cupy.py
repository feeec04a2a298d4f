"""The GPU branches of the suite, run against a stand-in for CuPy built on NumPy.

This catches mistakes in code that only runs on a GPU (wrong attribute names, records missing,
peaks from the wrong row) on machines without one. It is no substitute for test_gpu_device.py,
which runs the real thing where a GPU is present.
"""

import sys
import types

import numpy as np
import pytest

from lab_helpers.gpu import bench
from lab_helpers.gpu.device import describe, is_cupy


class _DeviceArray(np.ndarray):
    def set(self, host):
        self[...] = host

    def get(self, out=None):
        out = np.empty_like(self) if out is None else out
        out[...] = self
        return out


class _ElementwiseKernel:
    def __init__(self, in_params, out_params, operation, name):
        assert operation == "a = b + s * c"

    def __call__(self, b, c, s, a):
        np.add(b, s * c, out=a)


class _Device:
    def __init__(self, device_id=0):
        self.id = device_id

    attributes = {"ClockRate": 1740000, "MemoryClockRate": 7251000}

    def synchronize(self):
        pass


def _benchmark(fn, args=(), n_repeat=10, n_warmup=1):
    import time

    for _ in range(n_warmup):
        fn()
    times = []
    for _ in range(n_repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return types.SimpleNamespace(gpu_times=np.array([times]), cpu_times=np.array(times))


@pytest.fixture
def fake_cupy(monkeypatch):
    cupy = types.ModuleType("cupy")
    for name in dir(np):
        if not name.startswith("__"):
            setattr(cupy, name, getattr(np, name))
    cupy.empty = lambda *a, **k: np.empty(*a, **k).view(_DeviceArray)
    cupy.ElementwiseKernel = _ElementwiseKernel
    props = {
        "name": b"NVIDIA A40",
        "totalGlobalMem": 48 << 30,
        "multiProcessorCount": 84,
        "l2CacheSize": 6 << 20,
        "memoryBusWidth": 384,
        "major": 8,
        "minor": 6,
    }
    cupy.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceProperties=lambda i: props, memGetInfo=lambda: (40 << 30, 48 << 30)),
        Device=_Device,
    )
    cupy.__version__ = "0-stand-in"
    cupy.get_default_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    cupyx = types.ModuleType("cupyx")
    cupyx.empty_pinned = lambda shape, dtype: np.empty(shape, dtype)
    cupyx.profiler = types.SimpleNamespace(benchmark=_benchmark)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setitem(sys.modules, "cupyx.profiler", cupyx.profiler)
    from lab_helpers.gpu import kernels

    kernels._triad_elementwise_kernel.cache_clear()
    yield cupy
    kernels._triad_elementwise_kernel.cache_clear()


def test_gpu_description_reads_properties_and_matches_the_row(fake_cupy):
    assert is_cupy(fake_cupy)
    device = describe(fake_cupy)
    assert device.kind == "gpu" and device.sms == 84 and device.bus_width_bits == 384
    assert device.compute_capability == "8.6" and device.clock_mhz == 1740
    assert device.spec is not None and device.spec.key == "A40"
    assert device.available_bytes == 40 << 30


def test_gpu_suite_records_copies_gemms_and_datasheet_fractions(fake_cupy):
    report = bench.run_suite(fake_cupy, n=200_000, quick=True, gemm_n=64)
    kinds = {(r.kernel, r.variant) for r in report.results}
    assert {("h2d", "pageable"), ("h2d", "pinned"), ("d2h", "pageable"), ("d2h", "pinned")} <= kinds
    assert ("gemm", "fp32") in kinds and ("gemm", "fp16") in kinds and ("launch", "empty-kernel") in kinds
    # TF32 runs in a fresh process (where this stand-in does not exist) and BF16 needs a bfloat16 type:
    # both are reported as skipped with a reason, never faked.
    skipped = {s.get("variant"): s["reason"] for s in report.skipped}
    assert "tf32" in skipped and "bf16" in skipped and "bfloat16" in skipped["bf16"]
    triad = report.find("triad", "single-pass")
    assert triad.peak == 696 and triad.fraction_of_peak == pytest.approx(triad.gbps / 696, abs=5e-5)  # kept to 4 places
    fp16 = report.find("gemm", "fp16")
    assert fp16.peak == 149.7 and "dense" in fp16.peak_source
    h2d = report.find("h2d", "pinned")
    assert h2d.peak == 31.5 and h2d.bytes == min(200_000, 2**25) * 8
    assert "datasheet row: NVIDIA A40" in report.table()


def test_roofline_shows_the_device_roofs_beside_the_a40(fake_cupy, monkeypatch):
    from lab_helpers.viz.roofline import roofline_figure

    props = fake_cupy.cuda.runtime.getDeviceProperties(0)
    monkeypatch.setitem(props, "name", b"NVIDIA H200")
    report = bench.run_suite(fake_cupy, n=100_000, quick=True, sweep=False, gemm_n=32)
    assert report.device.spec.key == "H200"
    names = [t.name for t in roofline_figure(report).data]
    assert any(n.startswith("NVIDIA H200 SXM (datasheet): FP32 67") for n in names)
    assert any(n.startswith("NVIDIA A40 (datasheet)") for n in names)


def test_an_unknown_gpu_is_measured_without_a_peak(fake_cupy, monkeypatch):
    props = fake_cupy.cuda.runtime.getDeviceProperties(0)
    monkeypatch.setitem(props, "name", b"NVIDIA GeForce RTX 4090")
    report = bench.run_suite(fake_cupy, n=100_000, quick=True, sweep=False, gemm_n=32)
    assert report.device.spec is None
    assert "no datasheet row for 'NVIDIA GeForce RTX 4090'" in str(report.device)
    assert report.find("triad", "single-pass").gbps > 0
    assert all(r.fraction_of_peak is None for r in report.results)
