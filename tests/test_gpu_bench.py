import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from lab_helpers.gpu import bench
from lab_helpers.gpu.device import describe
from lab_helpers.gpu.kernels import make_arrays
from lab_helpers.gpu.roofline import Roof, attainable_tflops, bound_by, predict_seconds
from lab_helpers.gpu.specs import a40, spec
from lab_helpers.gpu.timing import time_cpu
from lab_helpers.viz.roofline import roofline_figure


@pytest.fixture(scope="module")
def report():
    return bench.run_suite(np, n=1_000_000, quick=True)


def test_cpu_description_says_no_device():
    device = describe(np)
    assert device.kind == "cpu" and device.xp == "numpy" and device.spec is None
    assert "no device; host copies only" in device.notes
    assert device.cache_bytes > 0 and device.available_bytes > 0


def test_stream_result_rate_is_bytes_over_seconds():
    r = bench.measure_stream(np, "triad", 200_000, variant="naive", repeat=2)
    assert r.bytes == 5 * 8 * 200_000
    assert r.gbps == pytest.approx(r.bytes / r.seconds / 1e9, rel=1e-3)
    assert "5 streams" in r.note
    assert r.intensity == pytest.approx(2 / 40)


def test_suite_on_the_cpu(report):
    kinds = {(r.kernel, r.variant) for r in report.headline()}
    for needed in [
        ("copy", ""),
        ("scale", ""),
        ("add", ""),
        ("triad", "naive"),
        ("triad", "single-pass"),
        ("dot", ""),
        ("gemm", "fp32"),
        ("gemm", "fp64"),
        ("launch", "numpy-call"),
    ]:
        assert needed in kinds
    copy = report.find("copy")
    assert copy.fraction_of_peak == 1.0 and "copy" in copy.peak_source
    triad = report.find("triad", "single-pass")
    assert triad.fraction_of_peak == pytest.approx(triad.gbps / copy.gbps, rel=1e-3)
    assert all(r.fraction_of_peak is None for r in report.results if r.kernel == "gemm")
    assert {s["kernel"] for s in report.skipped} == {"h2d", "d2h"}
    assert all(s["reason"] == "no device; host copies only" for s in report.skipped)
    sweep = report.sweep()
    assert len(sweep) >= 3 and sweep[0].n * 8 == 16 * 1024
    assert sweep[-1].n == 1_000_000


def test_report_renders_as_text_and_json(report):
    text = report.table()
    assert "triad" in text and "single-pass" in text and "no device" in text
    data = report.to_dict()
    assert set(data) >= {"device", "results"} and data["device"]["kind"] == "cpu"


def test_headline_size_is_far_beyond_the_cache_and_env_overrides(monkeypatch):
    device = describe(np)
    monkeypatch.delenv("LAB_BENCH_ELEMENTS", raising=False)
    n = bench.headline_elements(device)
    assert n * 8 >= min(4 * device.cache_bytes, 256 * 2**20, device.available_bytes // 20) * 0.9
    assert n * 8 * 5 <= device.available_bytes
    mib = 2**20
    # an EPYC's 32 MiB L3: four times it; a Xeon reporting 480 MiB: capped at 256 MiB, three arrays past it
    assert bench.headline_elements(replace(device, cache_bytes=32 * mib, available_bytes=20 << 30)) * 8 == 128_000_000
    huge = bench.headline_elements(replace(device, cache_bytes=480 * mib, available_bytes=20 << 30)) * 8
    assert 480 * mib < 3 * huge and huge <= 256 * mib
    # little memory left (a grader's limit): a quarter of it over five arrays
    assert bench.headline_elements(replace(device, cache_bytes=32 * mib, available_bytes=800 * mib)) * 8 <= 40 * mib
    monkeypatch.setenv("LAB_BENCH_ELEMENTS", "5000")
    assert bench.headline_elements(device) == 5000


def test_sweep_sizes_double_and_can_be_thinned():
    device = describe(np)
    sizes = bench.sweep_elements(device, 2**20)
    assert sizes[0] == 2048 and sizes[-1] == 2**20
    assert all(b == 2 * a for a, b in zip(sizes, sizes[1:], strict=False))
    assert len(bench.sweep_elements(device, 2**20, points=4)) == 4


def test_time_cpu_takes_the_best_of_n():
    calls = []
    timing = time_cpu(lambda: calls.append(1), repeat=3, min_time_s=0)
    assert timing.best_s <= timing.median_s and timing.method == "perf_counter"
    assert len(calls) >= 3


def test_roofline_prediction_math():
    # The triad over 10^8 float64 elements on an A40: 2.4 GB at 696 GB/s (memory-bound).
    n = 10**8
    assert predict_seconds(24 * n, 2 * n) == pytest.approx(24 * n / 696e9)
    # An 8192^3 FP32 GEMM is compute-bound: 2 n^3 / 37.4 TFLOP/s.
    g = 8192
    assert predict_seconds(3 * g * g * 4, 2 * g**3) == pytest.approx(2 * g**3 / 37.4e12)
    assert bound_by(3 * g * g * 2, 2 * g**3, precision="fp16") == "compute"
    assert bound_by(24 * n, 2 * n) == "memory"
    assert predict_seconds(24 * n, 2 * n, spec("H200")) == pytest.approx(24 * n / 4800e9)


def test_attainable_and_ridge():
    assert attainable_tflops(1.0, 696, 37.4) == pytest.approx(0.696)
    assert attainable_tflops(1000, 696, 37.4) == 37.4
    roof = Roof.from_spec(a40())
    assert roof.ridge("fp32") == pytest.approx(a40().ridge_point)
    assert math.isclose(attainable_tflops(roof.ridge(), 696, 37.4), 37.4)


def test_roofline_figure_always_shows_the_a40_and_the_points(report):
    # the measured roof comes from streams beyond the last-level cache: a 4 MiB cache makes this
    # test's 8 MB arrays count as DRAM on any machine (some Xeons report a 480 MiB L3)
    report = replace(report, device=replace(report.device, cache_bytes=4 * 2**20))
    fig = roofline_figure(report)
    names = [t.name for t in fig.data]
    assert any(n.startswith("NVIDIA A40 (datasheet): FP32") for n in names)
    assert any("(measured)" in n for n in names)
    assert "measured: triad single-pass" in names
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    alone = roofline_figure()
    assert all("A40" in t.name for t in alone.data)


@pytest.mark.slow  # a speed target: a busy machine misses it; `lab bench gpu` prints the numbers
def test_cpu_single_pass_triad_reaches_three_quarters_of_copy_and_beats_naive():
    # The sandbox's target: single-pass triad >= 75 % of the same run's copy bandwidth (best of N),
    # the naive triad visibly slower. Other work on the machine adds noise, so take the best of three tries.
    n = 8_000_000  # 64 MB per array: beyond a 32 MB last-level cache
    ratios, naive_slower = [], []
    for _ in range(3):
        arrays = make_arrays(np, n)
        copy = bench.measure_stream(np, "copy", n, repeat=5, arrays=arrays)
        single = bench.measure_stream(np, "triad", n, variant="single-pass", repeat=5, arrays=arrays)
        naive = bench.measure_stream(np, "triad", n, variant="naive", repeat=5, arrays=arrays)
        ratios.append(single.gbps / copy.gbps)
        naive_slower.append(naive.seconds > 1.15 * single.seconds)
        if ratios[-1] >= 0.75 and naive_slower[-1]:
            break
    assert max(ratios) >= 0.75, ratios
    assert any(naive_slower)


def test_widget_measures_each_choice_and_caps_the_size():
    from lab_helpers.gpu.explorer import CHOICES, largest_log2_n, measure_choice
    from lab_helpers.viz.roofline import roofline_explorer

    for choice in CHOICES:
        result = measure_choice(np, choice, 14, "float32")
        assert result.seconds > 0 and (result.gbps or result.tflops)
    assert measure_choice(np, "gemm", 14, "float64").n == 128
    assert 14 <= largest_log2_n(np) <= 26
    box = roofline_explorer(np)
    slider = box.children[1].children[0]
    assert slider.max == largest_log2_n(np)


def test_usable_memory_honours_the_address_space_limit():
    """A grader runs the kernel under RLIMIT_AS: the benchmark must size its arrays inside it."""
    script = (
        "import resource, numpy as np\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))\n"
        "from lab_helpers.gpu.device import describe\n"
        "from lab_helpers.gpu import bench\n"
        "d = describe(np)\n"
        "n = bench.headline_elements(d)\n"
        "a = [np.ones(n) for _ in range(5)]\n"
        "print(d.available_bytes, n)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "LAB_BENCH_ELEMENTS"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    available, n = map(int, done.stdout.split())
    assert 0 < available < 1536 << 20 and n * 8 * 5 <= available
