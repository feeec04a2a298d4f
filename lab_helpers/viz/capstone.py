"""Lab 07's figures: the capstone's stages on the two machines' rooflines, and two designs' SUs a month.

The rooflines are lab 01's (``viz.roofline``'s traces), drawn from the rates the capstone used: the
learner's own lab 01 numbers, or the references. Each stage is placed at its arithmetic intensity,
at the rate it reaches once its kernel launches are paid: a point far under its roof is a stage
that spends its time launching kernels, not computing or moving bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..capstone.rates import MachineRates
from ..capstone.sizing import seconds_per_item, stages
from ..gpu.roofline import Roof
from .roofline import _roof_traces

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["designs_figure", "stages_roofline_figure"]

COLOURS = {"a40": "#2ca02c", "vcpu": "#1f77b4"}
PARTS = (("control", "Jetstream2: control plane", "#9467bd"), ("workers", "Jetstream2: workers", "#1f77b4"),
         ("delta", "Delta: the daily A40 job", "#2ca02c"))  # fmt: skip


def stages_roofline_figure(machines: dict[str, MachineRates], title: str = "The capstone's stages on two rooflines"):
    """Each machine's roof (its inference rate and bandwidth) and each stage where it lands on it."""
    import plotly.graph_objects as go

    fig = go.Figure()
    x_range = (0.5, 2000.0)
    for key, m in machines.items():
        roof = Roof(m.label, m.bandwidth_gbs.value, {"fp16" if key == "a40" else "fp32": m.flops_per_s / 1e12})
        fig.add_traces(_roof_traces(go, roof, "solid", COLOURS.get(key, "#7f7f7f"), x_range))
        for stage in stages():
            seconds = seconds_per_item(stage.flops, stage.bytes_on(m), stage.launches, m)
            fig.add_trace(
                go.Scatter(
                    x=[stage.intensity(m)],
                    y=[stage.flops / seconds / 1e12],
                    mode="markers+text",
                    marker=dict(
                        size=12,
                        color=COLOURS.get(key, "#7f7f7f"),
                        symbol="circle" if stage.name == "transcribe" else "diamond",
                    ),
                    text=[f"{stage.name} ({stage.model})"],
                    textposition="top center",
                    name=f"{stage.name} on {key}: {seconds * 1e3:.3g} ms per {stage.item}",
                    hovertemplate=f"{stage.name} on {m.label}<br>%{{x:.3g}} FLOP/byte, %{{y:.3g}} TFLOP/s<br>"
                    f"{seconds * 1e3:.3g} ms per {stage.item}<extra></extra>",
                )  # fmt: skip
            )
    fig.update_layout(
        title=title, xaxis=dict(type="log", title="arithmetic intensity (FLOP per byte moved)"),
        yaxis=dict(type="log", title="TFLOP/s reached (launches paid)"), template="plotly_white", height=620,
        legend=dict(font=dict(size=10), orientation="h", y=-0.22),
    )  # fmt: skip
    return fig


def designs_figure(
    designs: dict[str, dict],
    title: str = "Two designs: SUs a month<br><sup>Jetstream2 and Delta are separate allocations</sup>",
) -> go.Figure:
    """Stacked bars, one per design: the control plane's, the workers' and the Delta job's SUs a month."""
    import plotly.graph_objects as go

    from ..capstone.designs import su_per_month
    from ..capstone.rates import capstone
    from ..resources.cost import su_per_hour

    if not designs:
        raise ValueError("designs_figure needs at least one design: a dict of name -> design.")
    hours = float(capstone()["scenario"]["hours_per_month"])
    names = list(designs)
    fig = go.Figure()
    for part, label, colour in PARTS:
        values = []
        for design in designs.values():
            if part == "delta":
                values.append(su_per_month(design)["delta"])
            else:
                values.append(sum(su_per_hour(str(f)) * int(n) * hours for f, n in design[part].items()))
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=label,
                marker_color=colour,
                hovertemplate="%{x}: %{y:,.0f} SU a month<extra>" + label + "</extra>",
            )  # fmt: skip
        )
    for name, design in designs.items():
        su = su_per_month(design)
        fig.add_annotation(x=name, y=su["js2"] + su["delta"], yshift=12, showarrow=False,
                           text=f"JS2 {su['js2']:,.0f} + Delta {su['delta']:,.0f} SU")  # fmt: skip
    fig.update_layout(
        title=title, barmode="stack", yaxis=dict(title="SUs a month"),
        template="plotly_white", height=460,
    )  # fmt: skip
    return fig
