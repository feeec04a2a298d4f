"""Lab 04's figures: block I/O per access pattern, and object latency against object size."""

from __future__ import annotations

__all__ = ["block_io_figure", "object_latency_figure"]


def block_io_figure(result):
    """IOPS per pattern (4 KiB) and MiB/s (all), side by side; the title says how the cache was bypassed.

    The legend names the operation only: its colour stands for 4 KiB and 1 MiB bars alike.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    small = [r for r in result.rows if r["block_bytes"] == 4096]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("4 KiB requests: IOPS", "throughput (MiB/s), 4 KiB and 1 MiB requests")
    )
    colours = {"read": "#1f77b4", "write": "#ff7f0e"}
    for op in ("read", "write"):
        mine = [r for r in small if r["op"] == op]
        fig.add_trace(
            go.Bar(
                x=[r["order"] for r in mine],
                y=[r["iops"] for r in mine],
                name=op,
                legendgroup=op,
                marker_color=colours[op],
                customdata=[[r["p50_us"], r["p99_us"]] for r in mine],
                hovertemplate="%{x} " + op + ": %{y:.0f} IOPS<br>p50 %{customdata[0]:.0f} us, "
                "p99 %{customdata[1]:.0f} us<extra></extra>",
            ),
            row=1,
            col=1,
        )
        every = [r for r in result.rows if r["op"] == op]
        labels = [
            f"{r['order']} {r['block_bytes'] // 1024 if r['block_bytes'] < 1 << 20 else r['block_bytes'] >> 20}"
            f"{' KiB' if r['block_bytes'] < 1 << 20 else ' MiB'}"
            for r in every
        ]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[r["mib_s"] for r in every],
                name=op,
                legendgroup=op,
                marker_color=colours[op],
                opacity=0.6,
                showlegend=False,
                hovertemplate="%{x} " + op + ": %{y:.1f} MiB/s<extra></extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(title_text="IOPS", row=1, col=1)
    fig.update_yaxes(title_text="MiB/s", type="log", row=1, col=2)
    fig.update_layout(
        barmode="group", height=420, title=f"Block volume, {result.size_mib} MiB region - page cache: {result.cache}"
    )
    return fig


def object_latency_figure(result, block=None):
    """Median request time against object size (log-log), PUT and GET; a 4 KiB random block read for scale."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for op, colour in (("PUT", "#ff7f0e"), ("GET", "#1f77b4")):
        mine = sorted((r for r in result.rows if r["op"] == op), key=lambda r: r["size_bytes"])
        fig.add_trace(
            go.Scatter(
                x=[r["size_bytes"] / 1024 for r in mine],
                y=[r["median_ms"] for r in mine],
                mode="lines+markers",
                name=f"object {op}",
                marker_color=colour,
                hovertemplate="%{x:.0f} KiB: %{y:.2f} ms<extra>" + op + "</extra>",
            )
        )
    if block is not None and block.rows:  # a volume the backend could not reach has no line to draw
        import math

        p50_ms = block.row("random read")["p50_us"] / 1e3
        fig.add_hline(y=p50_ms, line_dash="dot", line_color="#2ca02c")
        # On a log axis an annotation's y is the exponent: the label is placed by hand, just above its line.
        fig.add_annotation(
            x=1,
            xref="x domain",
            y=math.log10(p50_ms),
            text=f"volume: one random 4 KiB read, {p50_ms:.3f} ms",
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font=dict(color="#2ca02c"),
        )
    fig.update_layout(
        title="Object store: time per request against object size",
        height=420,
        xaxis=dict(title="object size (KiB)", type="log"),
        yaxis=dict(title="median time (ms)", type="log"),
    )
    return fig
