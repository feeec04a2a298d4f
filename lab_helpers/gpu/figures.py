"""Lab 01's other pictures: the device beside the datasheet, and the cache-to-DRAM step."""

from __future__ import annotations

import math

from .device import DeviceInfo
from .specs import a40


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
            ("peak bandwidth", f"{device.spec.bandwidth_gbps:g} GB/s (datasheet)" if device.spec else "no datasheet row"),
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
        ref.name, f"{ref.sms} SMs", f"{ref.memory_gb:g} GB {ref.memory_type}", f"{ref.l2_mb:g} MB", f"{ref.bus_width_bits}-bit",
        ref.compute_capability, f"{ref.bandwidth_gbps:g} GB/s", f"{ref.fp32_tflops:g} TFLOP/s",
    ]
    return [(label, value, other) for (label, value), other in zip(mine, theirs)]


def side_by_side_text(device: DeviceInfo) -> str:
    rows = [("", "this machine", "A40 datasheet")] + side_by_side(device)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows)


def sweep_figure(report):
    """Bandwidth against working-set size, with the last-level cache marked: the step to DRAM."""
    import plotly.graph_objects as go

    points = sorted(report.sweep(), key=lambda r: r.working_set_bytes)
    fig = go.Figure(go.Scatter(
        x=[r.working_set_bytes / 2**20 for r in points], y=[r.gbps for r in points], mode="lines+markers",
        name=f"{points[0].kernel if points else 'add'}: measured",
        hovertemplate="%{x:.3g} MiB -> %{y:.1f} GB/s<extra></extra>",
    ))
    cache = report.device.cache_bytes / 2**20
    where = "L2" if report.device.is_gpu else "last-level cache"
    # On a log axis an annotation's x is the exponent, so the cache line is drawn and labelled by hand.
    fig.add_vline(x=cache, line=dict(dash="dash", color="#d62728"))
    fig.add_annotation(x=math.log10(cache), y=1.0, yref="paper", text=f"{where}: {cache:.0f} MiB", showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(color="#d62728"))
    if report.device.is_gpu and report.device.spec:
        fig.add_hline(y=report.device.spec.bandwidth_gbps, line=dict(dash="dot"), annotation_text="datasheet DRAM bandwidth")
    fig.update_layout(
        title="From cache to DRAM: bandwidth against the size of the data",
        xaxis=dict(type="log", title="working set (MiB, all arrays of a = b + c)"), yaxis=dict(title="GB/s"), height=420,
    )
    return fig
