"""The roofline: attainable performance = min(peak compute, bandwidth x arithmetic intensity).

``predict_seconds`` is the same model read backwards: a kernel takes at least as long as its
bytes need at the memory bandwidth and as long as its FLOPs need at the peak; whichever is
longer bounds it. The figure shows the device's roofs (datasheet), the A40's roofs always,
and the learner's measured points. plotly is imported inside ``roofline_figure`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .specs import GpuSpec, a40

_PRECISION_NAMES = {"fp32": "FP32", "tf32": "TF32 tensor", "fp16": "FP16 tensor", "bf16": "BF16 tensor", "fp64": "FP64"}


@dataclass(frozen=True)
class Roof:
    label: str
    bandwidth_gbps: float
    peaks_tflops: dict[str, float]  # precision -> TFLOP/s

    @classmethod
    def from_spec(cls, spec: GpuSpec, precisions: tuple[str, ...] = ("fp32", "tf32", "fp16")) -> "Roof":
        peaks = {p: v for p in precisions if (v := spec.peak_tflops(p))}
        return cls(f"{spec.name} (datasheet)", spec.bandwidth_gbps, peaks)

    def ridge(self, precision: str = "fp32") -> float:
        """The intensity (FLOP/byte) where this roof turns from memory-bound to compute-bound."""
        return self.peaks_tflops[precision] * 1e12 / (self.bandwidth_gbps * 1e9)


def attainable_tflops(intensity: float, bandwidth_gbps: float, peak_tflops: float) -> float:
    """The roofline: what a kernel of ``intensity`` FLOP/byte can reach."""
    return min(peak_tflops, bandwidth_gbps * 1e9 * intensity / 1e12)


def predict_seconds(nbytes: float, nflops: float, spec: GpuSpec | None = None, precision: str = "fp32") -> float:
    """The roofline's lower bound on a kernel's time on ``spec`` (default: the A40)."""
    spec = spec or a40()
    peak = spec.peak_tflops(precision) or spec.fp32_tflops
    return max(nbytes / (spec.bandwidth_gbps * 1e9), nflops / (peak * 1e12))


def bound_by(nbytes: float, nflops: float, spec: GpuSpec | None = None, precision: str = "fp32") -> str:
    """'memory' or 'compute': which roof limits the kernel on ``spec``."""
    spec = spec or a40()
    peak = spec.peak_tflops(precision) or spec.fp32_tflops
    return "memory" if nbytes / (spec.bandwidth_gbps * 1e9) >= nflops / (peak * 1e12) else "compute"


def _roof_traces(go, roof: Roof, dash: str, colour: str, x_range: tuple[float, float]) -> list:
    import math

    lo, hi = x_range
    xs = [10 ** (math.log10(lo) + i * (math.log10(hi) - math.log10(lo)) / 120) for i in range(121)]
    traces = []
    for precision, peak in roof.peaks_tflops.items():
        ys = [attainable_tflops(x, roof.bandwidth_gbps, peak) for x in xs]
        traces.append(go.Scatter(
            x=xs, y=ys, mode="lines", line=dict(dash=dash, color=colour, width=2 if precision == "fp32" else 1),
            name=f"{roof.label}: {_PRECISION_NAMES.get(precision, precision)} {peak:g} TFLOP/s, {roof.bandwidth_gbps:g} GB/s",
            hovertemplate="%{x:.3g} FLOP/byte -> %{y:.3g} TFLOP/s<extra></extra>",
        ))
    return traces


def measured_roof(report) -> Roof | None:
    """The CPU's own roofs from a report: its copy bandwidth and its best GEMM."""
    copy = report.find("copy")
    gemms = [r for r in report.results if r.kernel == "gemm" and r.tflops]
    if copy is None or not gemms:
        return None
    peaks = {}
    for r in gemms:
        peaks[r.variant] = max(peaks.get(r.variant, 0.0), r.tflops)
    return Roof(f"{report.device.name} (measured)", copy.gbps, peaks)


def roofline_figure(report=None, points: list | None = None, title: str = "Roofline"):
    """A plotly figure: the device's roofs, the A40's roofs, and measured points.

    ``report`` is a ``BenchReport``; ``points`` extra ``Result`` objects (the widget's latest).
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    x_range = (1e-2, 1e4)
    reference = Roof.from_spec(a40())
    roofs: list[tuple[Roof, str, str]] = [(reference, "dash", "#76b900")]
    if report is not None:
        spec = report.device.spec
        if report.device.is_gpu and spec is not None and spec.key != "A40":
            roofs.insert(0, (Roof.from_spec(spec), "solid", "#1f77b4"))
        elif not report.device.is_gpu and (own := measured_roof(report)) is not None:
            roofs.insert(0, (own, "solid", "#1f77b4"))
    for roof, dash, colour in roofs:
        for trace in _roof_traces(go, roof, dash, colour, x_range):
            fig.add_trace(trace)
    results = [r for r in (report.headline() if report is not None else []) if r.intensity] + list(points or [])
    for r in results:
        if not r.intensity:
            continue
        achieved = r.flops / r.seconds / 1e12
        label = f"{r.kernel} {r.variant}".strip()
        labelled = r.kernel in ("triad", "gemm")  # the rest crowd the memory-bound corner: see the legend
        fig.add_trace(go.Scatter(
            x=[r.intensity], y=[achieved], mode="markers+text" if labelled else "markers", text=[label],
            textposition="bottom right" if r.variant in ("naive", "fp64", "fp16") else "top center",
            marker=dict(size=11, symbol="diamond" if r.kernel == "gemm" else "circle"), name=f"measured: {label}",
            hovertemplate=f"{label}<br>%{{x:.3g}} FLOP/byte<br>%{{y:.3g}} TFLOP/s<extra></extra>",
        ))
    fig.update_layout(
        title=title, xaxis=dict(type="log", title="arithmetic intensity (FLOP per byte moved)", range=[-2, 4]),
        yaxis=dict(type="log", title="performance (TFLOP/s)", range=[-4, 3.5]), legend=dict(font=dict(size=10)),
        height=520,
    )
    return fig
