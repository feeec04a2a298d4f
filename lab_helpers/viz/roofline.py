"""The roofline, drawn: the device's roofs (datasheet, or measured on a CPU), the A40's roofs always,
and the learner's measured points; and lab 01's explorer, which measures a choice and redraws it.

The model itself (roofs, predictions, the measured roof) is :mod:`lab_helpers.gpu.roofline`.
plotly and ipywidgets are imported inside the functions that draw.
"""

from __future__ import annotations

from types import ModuleType

from ..gpu.bench import Result
from ..gpu.explorer import CHOICES, largest_log2_n, measure_choice
from ..gpu.roofline import STREAM_KERNELS, Roof, attainable_tflops, beyond_cache, measured_roof
from ..gpu.specs import a40

__all__ = ["roofline_explorer", "roofline_figure"]

_PRECISION_NAMES = {"fp32": "FP32", "tf32": "TF32 tensor", "fp16": "FP16 tensor", "bf16": "BF16 tensor", "fp64": "FP64"}


def _num(value: float) -> str:
    """Three significant figures, without an exponent for the thousands of GB/s a GPU reaches."""
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def _roof_traces(go, roof: Roof, dash: str, colour: str, x_range: tuple[float, float]) -> list:
    import math

    lo, hi = x_range
    xs = [10 ** (math.log10(lo) + i * (math.log10(hi) - math.log10(lo)) / 120) for i in range(121)]
    traces = []
    for precision, peak in roof.peaks_tflops.items():
        ys = [attainable_tflops(x, roof.bandwidth_gbps, peak) for x in xs]
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line=dict(dash=dash, color=colour, width=2 if precision == "fp32" else 1),
                name=f"{roof.label}: {_PRECISION_NAMES.get(precision, precision)} {_num(peak)} TFLOP/s, {_num(roof.bandwidth_gbps)} GB/s",
                hovertemplate="%{x:.3g} FLOP/byte -> %{y:.3g} TFLOP/s<extra>"
                + ("the best measured so far" if "(measured)" in roof.label else "datasheet")
                + "</extra>",
            )
        )
    return traces


# GEMMs sit at the right edge: their labels go left, beside their own marker.
_TEXT_SIDE = {
    ("triad", "naive"): "bottom right",
    ("triad", "single-pass"): "bottom right",
    ("gemm", "fp32"): "middle left",  # below the FP32 roof it sits under on an A40
    ("gemm", "tf32"): "middle left",
    ("gemm", "fp64"): "bottom left",
    ("gemm", "fp16"): "top left",
    ("gemm", "bf16"): "bottom left",  # at fp16's intensity and near its rate: one label above, one below
}


def _size(r) -> str:
    if r.kernel == "gemm":
        return f"{r.n}x{r.n}"
    return f"n = 2^{r.n.bit_length() - 1}" if r.n & (r.n - 1) == 0 else f"n = {r.n:,}"


def _point_label(r) -> str:
    return f"{r.kernel} {r.variant}".strip()


# One colour per kernel, the same in the suite's roofline and the explorer's: plotly's default colours
# follow a trace's position, which changes with what is drawn before it. (The roofs are blue and green.)
_KERNEL_COLOURS = {
    "copy": "#8c6d31",
    "scale": "#17becf",
    "add": "#2ca02c",
    "triad naive": "#8c564b",
    "triad single-pass": "#ff7f0e",
    "dot": "#9467bd",
    "gemm fp32": "#e377c2",
    "gemm tf32": "#bcbd22",
    "gemm fp64": "#7f7f7f",
    "gemm fp16": "#393b79",
    "gemm bf16": "#637939",
}


def _point_colour(r) -> str:
    return _KERNEL_COLOURS.get(_point_label(r), "#636363")


def _hover(r, cache_bytes: int | None) -> str:
    where = ""
    if cache_bytes and r.kernel in STREAM_KERNELS and r.working_set_bytes and not beyond_cache(r, cache_bytes):
        where = (
            f"<br>{r.working_set_bytes / 2**10:,.0f} KiB fits in the {cache_bytes / 2**20:.0f} MiB cache:"
            "<br>cache bandwidth, so it may sit above the DRAM roof"
        )
    return (
        f"{_point_label(r)}, {_size(r)}, {r.dtype}<br>%{{x:.3g}} FLOP/byte<br>%{{y:.3g}} TFLOP/s{where}<extra></extra>"
    )


def roofline_figure(report=None, points: list | None = None, title: str = "Roofline"):
    """A plotly figure: the device's roofs, the A40's roofs, and measured points.

    ``report`` is a ``BenchReport``; ``points`` extra ``Result`` objects (the widget's, oldest
    first): the latest is marked and labelled, earlier ones share one legend entry, and the
    suite's points are drawn on top so a repeat of the same kernel never hides them.
    """
    import math

    import plotly.graph_objects as go

    fig = go.Figure()
    x_range = (1e-2, 1e4)
    points = [r for r in (points or []) if r.intensity]
    reference = Roof.from_spec(a40())
    roofs: list[tuple[Roof, str, str]] = [(reference, "dash", "#76b900")]
    cache = report.device.cache_bytes if report is not None else None
    if report is not None:
        spec = report.device.spec
        if report.device.is_gpu and spec is not None and spec.key != "A40":
            roofs.insert(0, (Roof.from_spec(spec), "solid", "#1f77b4"))
        elif not report.device.is_gpu and (own := measured_roof(report, points)) is not None:
            roofs.insert(0, (own, "solid", "#1f77b4"))
    for roof, dash, colour in roofs:
        for trace in _roof_traces(go, roof, dash, colour, x_range):
            fig.add_trace(trace)
    ys = [t for trace in fig.data for t in trace.y]

    def achieved(r) -> float:
        return r.flops / r.seconds / 1e12

    if len(points) > 1:
        earlier = points[:-1]
        fig.add_trace(
            go.Scatter(
                x=[r.intensity for r in earlier],
                y=[achieved(r) for r in earlier],
                mode="markers",
                name="yours, earlier",
                marker=dict(size=14, symbol="circle-open", color="#555", line=dict(width=2)),
                hovertemplate=[_hover(r, cache) for r in earlier],
            )
        )
    if points:
        latest = points[-1]
        in_cache = (
            cache and latest.kernel in STREAM_KERNELS and latest.working_set_bytes and not beyond_cache(latest, cache)
        )
        size = _size(latest)
        fig.add_trace(
            go.Scatter(
                x=[latest.intensity],
                y=[achieved(latest)],
                mode="markers",
                name=f"yours, latest: {_point_label(latest)}, {size}, {latest.dtype}"
                + (" (in cache)" if in_cache else ""),
                marker=dict(size=18, symbol="star-open", color="#d62728", line=dict(width=2)),
                hovertemplate=_hover(latest, cache),
            )
        )
        fig.add_annotation(
            x=math.log10(latest.intensity),
            y=math.log10(achieved(latest)),
            text="your latest",
            showarrow=True,
            arrowhead=2,
            ax=-45,
            ay=-45,
            font=dict(color="#d62728"),
            bgcolor="rgba(255,255,255,0.8)",
        )
    results = [r for r in (report.headline() if report is not None else []) if r.intensity]
    for r in results:
        label = _point_label(r)
        labelled = r.kernel in ("triad", "gemm")  # the rest crowd the memory-bound corner: see the legend
        fig.add_trace(
            go.Scatter(
                x=[r.intensity],
                y=[achieved(r)],
                mode="markers+text" if labelled else "markers",
                text=[label],
                textposition=_TEXT_SIDE.get((r.kernel, r.variant), "top center"),
                marker=dict(size=10, symbol="diamond" if r.kernel == "gemm" else "circle", color=_point_colour(r)),
                textfont=dict(color=_point_colour(r)),
                name=f"measured: {label}",
                hovertemplate=_hover(r, cache),
            )
        )
    ys += [achieved(r) for r in results + points]
    positive = [y for y in ys if y and y > 0]
    y_range = [math.log10(min(positive)) - 0.2, math.log10(max(positive)) + 0.3] if positive else [-4, 3.5]
    fig.update_layout(
        title=title,
        xaxis=dict(type="log", title="arithmetic intensity (FLOP per byte moved)", range=[-2, 4]),
        yaxis=dict(type="log", title="performance (TFLOP/s)", range=y_range),
        legend=dict(font=dict(size=10)),
        height=540,
    )
    return fig


def roofline_explorer(xp: ModuleType, report=None, *, log2_n: int = 22, max_log2_n: int | None = None):
    """An ipywidgets box: dropdowns and a slider, a Measure button, the latest numbers and the figure.

    The figure area is written only when the button is pressed, so running the notebook
    non-interactively (papermill, grading) never waits on widget output.
    """
    import ipywidgets as w
    from IPython.display import display

    max_log2_n = max_log2_n or largest_log2_n(xp)
    log2_n = min(log2_n, max_log2_n)
    kernel = w.Dropdown(options=list(CHOICES), value="triad (single pass)", description="kernel")
    size = w.IntSlider(value=log2_n, min=12, max=max_log2_n, description="log2(n)", continuous_update=False)
    dtype = w.ToggleButtons(options=["float64", "float32"], value="float64", description="dtype")
    button = w.Button(description="Measure", button_style="primary")
    status = w.Label(value="Choose a kernel, a size and a dtype, then press Measure.")
    out = w.Output()
    points: list[Result] = []

    def measure(_=None) -> None:
        status.value = "measuring..."
        result = measure_choice(xp, kernel.value, size.value, dtype.value)
        points.append(result)
        rate = f"{result.gbps:.1f} GB/s" if result.gbps is not None else f"{result.tflops:.3f} TFLOP/s"
        status.value = f"{kernel.value}, n = {result.n:,}, {result.dtype}: {result.seconds * 1e3:.3f} ms, {rate}"
        out.clear_output(wait=True)
        with out:
            display(roofline_figure(report, points=points, title="Roofline with your measurements"))

    button.on_click(measure)
    return w.VBox([w.HBox([kernel, dtype]), w.HBox([size, button]), status, out])
