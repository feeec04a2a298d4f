"""Lab 06's figure: where the seconds of one push go, from ``git push`` to the first new answer.

One bar per hand-off, laid end to end on a time axis (a Gantt chart of the loop): each bar starts
when the hand-off before it was seen and ends when this one was, coloured by who did the work (git,
the workflow runner, the registry, the promotion step, the GitOps controller, the cluster, the app).
A hand-off never seen is drawn as a grey marker at the end, so a stuck loop shows where it stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..deploy.pipeline import Followed

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["handoff_figure"]

WHO: dict[str, tuple[str, str]] = {
    "push": ("git", "#7f7f7f"),
    "build": ("workflow runner", "#1f77b4"),
    "tag": ("registry", "#17becf"),
    "promote": ("promotion step", "#9467bd"),
    "sync": ("GitOps controller", "#ff7f0e"),
    "rollout": ("cluster", "#2ca02c"),
    "answer": ("the app", "#d62728"),
}


def handoff_figure(*followed: Followed, title: str = "") -> go.Figure:
    """A Gantt chart of one or more followed pushes (one row per push, newest at the top)."""
    import plotly.graph_objects as go

    if not followed:
        raise ValueError("handoff_figure needs at least one followed push (the result of pipeline.follow).")
    fig = go.Figure()
    shown: set[str] = set()
    longest = max((h.at_s or 0.0) for f in followed for h in f.handoffs) or 1.0
    for f in followed:
        row = f"{f.sha[:7]} ({f.tag})"
        start = 0.0
        for h in f.handoffs:
            who, colour = WHO.get(h.name, (h.name, "#444444"))
            if h.at_s is None:
                fig.add_trace(
                    go.Scatter(
                        x=[longest],
                        y=[row],
                        mode="markers+text",
                        marker={"color": "#b0b0b0", "size": 14, "symbol": "x"},
                        text=[f"{h.name}: not seen"],
                        textposition="middle right",
                        name="not seen",
                        showlegend="not seen" not in shown,
                        hovertext=h.what,
                    )
                )
                shown.add("not seen")
                break
            width = max(h.at_s - start, 0.0)
            fig.add_trace(
                go.Bar(
                    x=[width if width > 0 else longest / 400],
                    base=[start],
                    y=[row],
                    orientation="h",
                    marker_color=colour,
                    name=who,
                    legendgroup=who,
                    showlegend=who not in shown,
                    text=[f"{h.name} {width:.1f} s" if width >= longest * 0.12 else ""],  # a short step: hover
                    textposition="inside",
                    insidetextanchor="middle",
                    hovertemplate=f"{h.name}: {h.what}<br>from %{{base:.1f}} s, took {width:.2f} s<extra>{who}</extra>",
                )
            )
            shown.add(who)
            start = h.at_s
    total = followed[-1].total_s
    fig.update_layout(
        title=title
        or (f"From git push to the new version answering: {total:.1f} s" if total else "One push, followed"),
        barmode="overlay",
        xaxis_title="seconds after the push began",
        yaxis_title="commit (image tag)",
        height=260 + 60 * len(followed),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 110, "b": 10},
    )
    return fig
