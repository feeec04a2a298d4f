"""The instructor's class summary, drawn: the points of each check across the class."""

from __future__ import annotations


def summary_figure(gradebook):
    """Box plot per check of the points earned, every submission shown as a dot."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for col in gradebook.columns:
        earned = [line.earned for g in gradebook.grades if (line := g.line_for(col)) and line.status != "to be graded"]
        fig.add_trace(
            go.Box(
                y=earned,
                name=f"{col} (/{gradebook.max_points[col]:g})",
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                hovertemplate="%{y:g} points<extra>" + col + "</extra>",
            )
        )
    totals = [g.score for g in gradebook.grades]
    fig.add_trace(
        go.Box(
            y=totals,
            name=f"total (/{gradebook.max_score:g})",
            boxpoints="all",
            jitter=0.4,
            pointpos=0,
            marker_color="#333",
        )
    )
    fig.update_layout(
        title=f"Lab {gradebook.lab}: points per check ({len(gradebook.grades)} submissions)",
        yaxis_title="points earned",
        showlegend=False,
        template="plotly_white",
    )
    return fig
