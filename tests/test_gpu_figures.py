"""Lab 01's figures from fixed results: the measured roof bounds every DRAM-sized point, repeats don't pile up."""

from __future__ import annotations

from figure_cases import MiB, cpu_report, gemm_result, stream_result, widget_points

from lab_helpers.gpu.explorer import repeats_for
from lab_helpers.gpu.roofline import attainable_tflops, measured_roof
from lab_helpers.viz.gpu import sweep_figure
from lab_helpers.viz.roofline import roofline_figure


def test_measured_roof_comes_from_the_best_point_so_far():
    report, points = cpu_report(), widget_points()
    roof = measured_roof(report, points)
    assert roof.peaks_tflops["fp32"] == max(
        r.flops / r.seconds / 1e12 for r in report.results + points if r.kernel == "gemm" and r.variant == "fp32"
    )
    cache = report.device.cache_bytes
    for r in report.headline() + points:
        if not r.intensity or (r.working_set_bytes and r.working_set_bytes <= cache):
            continue
        achieved = r.flops / r.seconds / 1e12
        peak = roof.peaks_tflops[r.variant if r.kernel == "gemm" else "fp32"]
        assert achieved <= attainable_tflops(r.intensity, roof.bandwidth_gbps, peak) * (1 + 1e-9), r


def test_a_faster_widget_gemm_raises_the_roof_in_the_figure():
    report = cpu_report()
    before = roofline_figure(report)
    after = roofline_figure(report, points=[gemm_result(2048, "fp32", 0.9)])

    def top(fig):
        return max(max(t.y) for t in fig.data if t.name.startswith("this CPU (measured") and "FP32" in t.name)

    assert top(before) < 0.9 <= top(after) + 1e-12


def test_widget_points_get_their_own_legend_entries_and_one_label():
    fig = roofline_figure(cpu_report(), points=widget_points())
    names = [t.name for t in fig.data]
    assert len(names) == len(set(names)), "a name in the legend twice"
    assert "yours, earlier" in names
    latest = [n for n in names if n.startswith("yours, latest")]
    assert latest == ["yours, latest: triad single-pass, n = 2^14, float64 (in cache)"]
    assert [a.text for a in fig.layout.annotations] == ["your latest"]


def test_a_kernel_keeps_its_colour_whatever_else_the_figure_draws():
    """The suite's roofline and the explorer's (with the learner's points before the suite's) agree."""

    def colours(fig):
        return {t.name: t.marker.color for t in fig.data if t.name.startswith("measured: ")}

    alone, explorer = (
        colours(roofline_figure(cpu_report())),
        colours(roofline_figure(cpu_report(), points=widget_points())),
    )
    assert alone == explorer and len(alone) >= 6
    assert len(set(alone.values())) == len(alone), "two kernels share a colour"


def test_the_y_axis_follows_the_data():
    fig = roofline_figure(cpu_report())
    low, high = fig.layout.yaxis.range
    assert -4.5 < low < -3.5 and 2.2 < high < 2.7  # a CPU point at ~1e-4 TFLOP/s, the A40's FP16 peak at 150


def test_tiny_sizes_are_timed_more_often():
    assert repeats_for(14) == 100 and repeats_for(20) == 4 and repeats_for(22) == 3 and repeats_for(26) == 3


def test_sweep_marks_one_cores_l2_and_the_shared_cache():
    texts = [a.text for a in sweep_figure(cpu_report(), l2_bytes=MiB).layout.annotations]
    assert texts == ["one core's L2: 1 MiB", "shared last-level cache (L3): 32 MiB"]
    assert stream_result("add", "", 2**20, 10.0).working_set_bytes == 24 * MiB
