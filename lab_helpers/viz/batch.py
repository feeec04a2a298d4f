"""Lab 02's pictures: one gpuA40x4 node, the whole machine as squares, waits by what a job asks for,
a queue's timeline, and Amdahl's curves."""

from __future__ import annotations

from ..batch.amdahl import speedup
from ..batch.delta import a40_node, node_types
from ..batch.queue import Placement, mean_waits

__all__ = ["machine_figure", "node_figure", "scaling_figure", "timeline_figure", "wall_time_figure"]

_COLOURS = {
    "cpu": "#9e9e9e",
    "gpuA40x4": "#76b900",
    "gpuA100x4": "#1f77b4",
    "gpuA100x8": "#17becf",
    "gpuH200x8": "#9467bd",
    "gpuMI100x8": "#d62728",
}


def node_figure(node_type: str = "gpuA40x4"):
    """One node: the CPU's NUMA domains with their cores, memory, each GPU on its PCIe link, the network card."""
    import plotly.graph_objects as go

    from ..gpu.specs import spec

    node = node_types()[node_type]
    facts = a40_node()
    gpu = spec(node.gpu_spec_key) if node.gpu_spec_key else None
    domains = int(facts.get("numa_domains", 4))
    gpu_numa = {int(k): int(v) for k, v in facts.get("gpu_numa", {}).items()}
    gpu_cores = {int(k): str(v) for k, v in facts.get("gpu_cores", {}).items()}
    per_domain = node.cores // domains
    fig = go.Figure()

    def box(x0, y0, x1, y1, colour, text, hover):
        fig.add_shape(
            type="rect",
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            fillcolor=colour,
            opacity=0.85,
            line=dict(color="#333"),
            layer="below",
        )
        fig.add_trace(
            go.Scatter(
                x=[(x0 + x1) / 2],
                y=[(y0 + y1) / 2],
                mode="text",
                text=[text],
                hovertext=[hover],
                hoverinfo="text",
                showlegend=False,
                textfont=dict(size=11),
            )
        )

    def link(x0, y0, x1, y1, text=""):
        fig.add_shape(type="line", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color="#555", width=3), layer="below")
        if text:
            fig.add_annotation(
                x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=text, showarrow=False, font=dict(size=9), bgcolor="white"
            )

    fig.add_shape(type="rect", x0=0, y0=0, x1=14, y1=8.4, line=dict(color="#333", dash="dot"))
    # The CPU: one socket, drawn as its NUMA domains left to right 3, 2, 1, 0 so each sits above its GPU.
    order = sorted(range(domains), reverse=True)
    width = 2.9
    for slot, domain in enumerate(order):
        x0 = 0.4 + slot * 3.1
        first = domain * per_domain
        box(
            x0,
            5.0,
            x0 + width,
            6.6,
            "#c8c8c8",
            f"NUMA {domain}<br>cores {first}-{first + per_domain - 1}",
            f"{node.cpus}: NUMA domain {domain}, {per_domain} cores",
        )
    fig.add_annotation(
        x=6.4,
        y=6.95,
        text=f"CPU: {node.cpus}, {node.cores} cores in {domains} NUMA domains",
        showarrow=False,
        font=dict(size=11),
    )
    box(0.4, 7.2, 12.6, 8.1, "#e3e3e3", f"{node.memory_gb:g} GB DDR4", facts["memory"])
    link(11.9, 7.2, 11.9, 6.6)
    for k in range(node.gpus):
        slot = order.index(gpu_numa.get(k, domains - 1 - k)) if gpu_numa else k
        x0 = 0.4 + slot * 3.1
        hover = (
            f"{gpu.name}: {gpu.memory_gb:g} GB, {gpu.bandwidth_gbps:g} GB/s, {gpu.fp32_tflops:g} TFLOP/s FP32, "
            f"{gpu.power_w:g} W; close to cores {gpu_cores.get(k, '?')}"
            if gpu
            else node.gpu_model
        )
        box(
            x0,
            0.8,
            x0 + width,
            2.8,
            _COLOURS.get(node_type, "#76b900"),
            f"GPU {k}<br>{node.gpu_model.replace('NVIDIA ', '')}",
            hover,
        )
        link(x0 + width / 2, 2.8, x0 + width / 2, 5.0, "PCIe 4 x16" if k == 0 else "")
    box(12.75, 0.8, 13.8, 2.8, "#f2c57c", "NIC", facts["network"])
    link(13.3, 2.8, 12.6, 5.8, "")
    fig.add_annotation(
        x=7, y=0.35, text=f"GPU to GPU: {facts.get('gpu_to_gpu', 'PCIe')}", showarrow=False, font=dict(size=10)
    )
    fig.update_layout(
        title=f"One {node_type} node: {node.gpus} GPUs, {node.cores} cores, {node.memory_gb:g} GB ({facts['gpu_link']})",
        xaxis=dict(visible=False, range=[-0.2, 14.2]),
        yaxis=dict(visible=False, range=[-0.2, 8.6], scaleanchor="x"),
        height=440,
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=50, b=10),
    )
    return fig


def machine_figure(columns: int = 25):
    """Every node of Delta as one square, grouped by node type."""
    import plotly.graph_objects as go

    fig = go.Figure()
    row = 0
    for name, node in node_types().items():
        xs = [k % columns for k in range(node.nodes)]
        ys = [-(row + k // columns) for k in range(node.nodes)]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker=dict(symbol="square", size=13, color=_COLOURS.get(name, "#444")),
                name=f"{name}: {node.nodes} node{'s' if node.nodes > 1 else ''} x "
                f"{node.gpus or node.cores} {'GPUs' if node.gpus else 'cores'}",
                hovertext=f"{name}: {node.cores} cores, {node.memory_gb:g} GB"
                + (f", {node.gpus}x {node.gpu_model}" if node.gpus else ""),
                hoverinfo="text",
            )
        )
        row += -(-node.nodes // columns) + 1
    total_gpus = sum(n.nodes * n.gpus for n in node_types().values())
    fig.update_layout(
        title=f"Delta: {sum(n.nodes for n in node_types().values())} nodes, {total_gpus} GPUs (one square = one node)",
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x"),
        height=560,
        plot_bgcolor="white",
    )
    return fig


def wall_time_figure(
    sizes=(1, 2, 4, 8, 16),
    walltimes=(0.5, 1, 4, 12, 24),
    *,
    total_nodes: int = 16,
    seeds=(1, 2, 3, 4, 5),
    arrivals=tuple(range(1, 23, 2)),
    needs_hours: float = 1.0,
):
    """Mean wait against requested wall time, one line per node count: wider and longer asks wait longer."""
    import plotly.graph_objects as go

    waits = mean_waits(
        sizes, walltimes, total_nodes=total_nodes, seeds=seeds, arrivals=arrivals, needs_hours=needs_hours
    )
    palette = ["#2ca02c", "#1f77b4", "#9467bd", "#ff7f0e", "#d62728", "#8c564b", "#7f7f7f"]
    fig = go.Figure()
    for i, (nodes, row) in enumerate(zip(sizes, waits, strict=True)):
        label = f"{nodes} node{'s' if nodes > 1 else ''}" + (" (the whole partition)" if nodes == total_nodes else "")
        fig.add_trace(
            go.Scatter(
                x=list(walltimes),
                y=row,
                mode="lines+markers",
                name=label,
                line=dict(color=palette[i % len(palette)], width=2),
                hovertemplate=f"{label}, %{{x:g}} h asked: waits %{{y:.1f}} h on average<extra></extra>",
            )
        )
    runs = len(seeds) * len(arrivals)
    fig.update_layout(
        title=f"How long a {needs_hours:g}-hour job waits on a busy {total_nodes}-node partition<br><sup>mean of {runs} "
        f"arrivals ({len(arrivals)} times of day in {len(seeds)} job streams), by what the job asks for</sup>",
        xaxis=dict(
            title=f"requested wall time (hours; the job needs {needs_hours:g})",
            type="log",
            tickvals=list(walltimes),
            ticktext=[f"{w:g}" for w in walltimes],
        ),
        yaxis=dict(title="mean wait (hours)", rangemode="tozero"),
        height=440,
        legend=dict(title="nodes asked for"),
        margin=dict(t=80),
    )
    return fig


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
    fig.add_trace(
        go.Scatter(
            x=counts,
            y=counts,
            mode="lines",
            name="ideal (p = 1)",
            line=dict(dash="dot", color="grey"),
            hovertemplate="%{x} workers: %{y:.0f}x<extra>ideal</extra>",
        )
    )
    for label, p in fractions.items():
        fig.add_trace(
            go.Scatter(
                x=counts,
                y=[speedup(p, n) for n in counts],
                mode="lines",
                line=dict(width=2.5),
                name=label if label.startswith("p =") else f"{label} (p = {p:.4f})",
                hovertemplate="%{x} workers: %{y:.2f}x<extra>" + label + "</extra>",
            )
        )
    marks = [
        (4, "one node: 4 GPUs", "left", 1.0, "top"),
        (400, "400 GPUs: all 100 gpuA40x4 nodes", "right", 0.0, "bottom"),
    ]
    for n, text, side, y, yanchor in marks:
        if n > top:
            continue
        fig.add_vline(x=n, line=dict(dash="dash", color="#999"))
        fig.add_annotation(
            x=math.log10(n),
            y=y,
            yref="paper",
            text=text,
            showarrow=False,
            xanchor=side,
            yanchor=yanchor,
            xshift=4 if side == "left" else -4,
            font=dict(size=12, color="#555"),
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.update_layout(
        title="Amdahl's law: the serial part caps the speedup at 1 / (1 - p)",
        xaxis=dict(type="log", title="GPUs"),
        yaxis=dict(type="log", title="speedup"),
        height=450,
    )
    return fig


def timeline_figure(schedule: list[Placement], total_nodes: int, title: str = "The queue"):
    """Each job as a bar from start to end (hatched: backfilled), with its wait drawn before it."""
    import plotly.graph_objects as go

    order = sorted(schedule, key=lambda p: (p.job.submit, p.job.name))
    names = [p.job.name for p in order]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=[p.wait for p in order],
            base=[p.job.submit for p in order],
            orientation="h",
            name="waiting",
            marker=dict(color="rgba(150,150,150,0.35)"),
            hovertemplate="%{y}: waited %{x:.2f} h<extra></extra>",
        )
    )
    for backfilled, colour, label in (
        (False, "#1f77b4", "running (in order)"),
        (True, "#ff7f0e", "running (backfilled)"),
    ):
        group = [p for p in order if p.backfilled == backfilled]
        fig.add_trace(
            go.Bar(
                y=[p.job.name for p in group],
                x=[p.end - p.start for p in group],
                base=[p.start for p in group],
                orientation="h",
                name=label,
                marker=dict(color=colour),
                text=[f"{p.job.nodes} node{'s' if p.job.nodes > 1 else ''}" for p in group],
                textposition="inside",
                customdata=[[p.job.nodes, p.job.walltime] for p in group],
                hovertemplate="%{y}: %{customdata[0]} nodes, asked %{customdata[1]} h, ran %{x:.2f} h<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="overlay",
        title=f"{title} ({total_nodes} nodes)",
        xaxis_title="hours",
        yaxis=dict(autorange="reversed"),
        height=max(300, 22 * len(order) + 120),
    )
    return fig
