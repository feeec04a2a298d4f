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
    """Speedup against workers (log axes) for each labelled parallel fraction, with the ideal line.

    Dashed lines mark one node (4 GPUs) and all 100 gpuA40x4 nodes (400 GPUs), labelled beside
    the line. On a log axis an annotation's x is the exponent, so labels are placed by hand.
    """
    import math

    import plotly.graph_objects as go

    top = max(1, int(max_workers))
    steps = 80
    counts = sorted({round(top ** (k / steps)) for k in range(steps + 1)} | {n for n in (1, 4, top)})
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=counts, y=counts, mode="lines", name="ideal (p = 1)", line=dict(dash="dot", color="grey"),
                             hovertemplate="%{x} workers: %{y:.0f}x<extra>ideal</extra>"))
    for label, p in fractions.items():
        fig.add_trace(go.Scatter(
            x=counts, y=[speedup(p, n) for n in counts], mode="lines", line=dict(width=2.5),
            name=label if label.startswith("p =") else f"{label} (p = {p:.4f})",
            hovertemplate="%{x} workers: %{y:.2f}x<extra>" + label + "</extra>",
        ))
    marks = [(4, "one node: 4 GPUs", "left", 1.0, "top"), (400, "400 GPUs: all 100 gpuA40x4 nodes", "right", 0.0, "bottom")]
    for n, text, side, y, yanchor in marks:
        if n > top:
            continue
        fig.add_vline(x=n, line=dict(dash="dash", color="#999"))
        fig.add_annotation(x=math.log10(n), y=y, yref="paper", text=text, showarrow=False, xanchor=side, yanchor=yanchor,
                           xshift=4 if side == "left" else -4, font=dict(size=12, color="#555"), bgcolor="rgba(255,255,255,0.8)")
    fig.update_layout(title="Amdahl's law: the serial part caps the speedup at 1 / (1 - p)",
                      xaxis=dict(type="log", title="GPUs"), yaxis=dict(type="log", title="speedup"), height=450)
    return fig
