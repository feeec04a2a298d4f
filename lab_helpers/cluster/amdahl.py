"""Amdahl's law: what a serial part does to the speedup of N workers (GPUs, nodes)."""

from __future__ import annotations

from ..errors import UsageError


def speedup(parallel_fraction: float, workers: int) -> float:
    """1 / ((1 - p) + p / N): the part that cannot be split bounds the speedup by 1 / (1 - p)."""
    p = float(parallel_fraction)
    if not 0.0 <= p <= 1.0:
        raise UsageError(f"the parallel fraction must lie between 0 and 1, not {p}.", hint="p = parallel time / total time on one worker.")
    if int(workers) < 1:
        raise UsageError(f"workers must be at least 1, not {workers}.", hint="Count GPUs (or nodes).")
    return 1.0 / ((1.0 - p) + p / int(workers))


def parallel_fraction(serial_s: float, parallel_s: float) -> float:
    """p from measured times on one worker: the share of the time that could be split."""
    total = float(serial_s) + float(parallel_s)
    if total <= 0:
        raise UsageError("both times are zero.", hint="Pass measured seconds for the serial and the parallel part.")
    return float(parallel_s) / total


def efficiency(parallel_fraction: float, workers: int) -> float:
    return speedup(parallel_fraction, workers) / int(workers)


def scaling_figure(fractions: dict[str, float], max_workers: int = 400):
    """Speedup against workers (log axes) for each labelled parallel fraction, with the ideal line."""
    import plotly.graph_objects as go

    counts = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, max_workers} | {n for n in (400,) if n <= max_workers})
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=counts, y=counts, mode="lines", name="ideal (p = 1)", line=dict(dash="dot", color="grey")))
    for label, p in fractions.items():
        fig.add_trace(go.Scatter(
            x=counts, y=[speedup(p, n) for n in counts], mode="lines+markers", name=f"{label} (p = {p:.4f})",
            hovertemplate="%{x} workers: %{y:.2f}x<extra></extra>",
        ))
    for n, text in ((4, "one node: 4 GPUs"), (400, "all 100 gpuA40x4 nodes")):
        if n <= max_workers:
            fig.add_vline(x=n, line=dict(dash="dash", color="#aaa"), annotation_text=text)
    fig.update_layout(title="Amdahl's law", xaxis=dict(type="log", title="GPUs"), yaxis=dict(type="log", title="speedup"), height=450)
    return fig
