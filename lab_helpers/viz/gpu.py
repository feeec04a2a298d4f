"""Lab 01's pictures besides the roofline: the device beside the datasheet, and the cache-to-DRAM step."""

from __future__ import annotations

import math

from ..gpu.device import DeviceInfo, per_core_l2_bytes
from ..gpu.specs import a40

__all__ = ["side_by_side_text", "sweep_figure"]


def side_by_side(device: DeviceInfo) -> list[tuple[str, str, str]]:
    """(property, this device, the A40's datasheet) rows: the device query next to the datasheet."""
    ref = a40()
    gib = 1024**3
    if device.is_gpu:
        mine = [
            ("name", device.name),
            ("SMs / cores", f"{device.sms} SMs"),
            ("memory", f"{device.memory_bytes / gib:.1f} GiB"),
            ("L2 cache", f"{device.cache_bytes / 2**20:.0f} MiB"),
            ("memory bus", f"{device.bus_width_bits}-bit"),
            ("compute capability", device.compute_capability),
            (
                "peak bandwidth",
                f"{device.spec.bandwidth_gbps:g} GB/s (datasheet)" if device.spec else "no datasheet row",
            ),
            ("FP32 peak", f"{device.spec.fp32_tflops:g} TFLOP/s (datasheet)" if device.spec else "no datasheet row"),
        ]
    else:
        mine = [
            ("name", f"CPU: {device.name}"),
            ("SMs / cores", f"{device.cores} cores"),
            ("memory", f"{device.memory_bytes / gib:.1f} GiB"),
            ("L2 cache", f"last level {device.cache_bytes / 2**20:.0f} MiB"),
            ("memory bus", "-"),
            ("compute capability", "-"),
            ("peak bandwidth", "measured below"),
            ("FP32 peak", "measured below"),
        ]
    theirs = [
        ref.name,
        f"{ref.sms} SMs",
        f"{ref.memory_gb:g} GB {ref.memory_type}",
        f"{ref.l2_mb:g} MB",
        f"{ref.bus_width_bits}-bit",
        ref.compute_capability,
        f"{ref.bandwidth_gbps:g} GB/s",
        f"{ref.fp32_tflops:g} TFLOP/s",
    ]
    return [(label, value, other) for (label, value), other in zip(mine, theirs, strict=True)]


def side_by_side_text(device: DeviceInfo) -> str:
    rows = [("", "this machine", "A40 datasheet")] + side_by_side(device)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows)


def sweep_figure(report, l2_bytes: int | None = None):
    """Bandwidth against working-set size, with the caches marked: the steps down to DRAM.

    On a CPU the first big drop comes when the arrays outgrow one core's L2 (often 0.5-2 MiB);
    the shared last-level cache (L3) holds the next step, then DRAM. ``l2_bytes`` defaults to
    this machine's per-core L2 when the report is of a CPU. A GPU's L2 is its last level.
    """
    import plotly.graph_objects as go

    points = sorted(report.sweep(), key=lambda r: r.working_set_bytes)
    fig = go.Figure(
        go.Scatter(
            x=[r.working_set_bytes / 2**20 for r in points],
            y=[r.gbps for r in points],
            mode="lines+markers",
            name=f"{points[0].kernel if points else 'add'}: measured",
            hovertemplate="%{x:.3g} MiB -> %{y:.1f} GB/s<extra></extra>",
        )
    )
    marks = []
    if report.device.is_gpu:
        marks.append((report.device.cache_bytes / 2**20, "L2"))
    else:
        l2 = l2_bytes if l2_bytes is not None else per_core_l2_bytes()
        if l2 and l2 < report.device.cache_bytes:
            marks.append((l2 / 2**20, "one core's L2"))
        marks.append((report.device.cache_bytes / 2**20, "shared last-level cache (L3)"))
    for size, where in marks:
        # On a log axis an annotation's x is the exponent, so the line is drawn and labelled by hand.
        fig.add_vline(x=size, line=dict(dash="dash", color="#d62728"))
        text = f"{where}: {size * 1024:.0f} KiB" if size < 1 else f"{where}: {size:.0f} MiB"
        fig.add_annotation(
            x=math.log10(size),
            y=1.0,
            yref="paper",
            text=text,
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font=dict(color="#d62728"),
        )
    if report.device.is_gpu and report.device.spec:
        fig.add_hline(
            y=report.device.spec.bandwidth_gbps, line=dict(dash="dot"), annotation_text="datasheet DRAM bandwidth"
        )
    fig.update_layout(
        title="From cache to DRAM: bandwidth against the size of the data",
        xaxis=dict(type="log", title="working set (MiB, all arrays of a = b + c)"),
        yaxis=dict(title="GB/s"),
        height=440,
        margin=dict(t=90),
    )
    return fig
