"""One plotly figure per check: where the room stands on it.

The x axis is how many times a learner has tried the check ("not started", 1, 2, ... "5+"); the
bars, stacked by each learner's latest status, count learners, and hovering a bar names them. A
tall red bar far to the right is where the room is stuck.

Figures are plain plotly JSON (dicts), built without ``plotly.graph_objects``: the dashboard
rebuilds every figure on each refresh and the validating objects cost milliseconds each. A test
loads each into ``go.Figure`` so the dicts stay valid plotly.
"""

from __future__ import annotations

__all__ = ["ATTEMPT_BINS", "CATEGORIES", "check_figure"]

ATTEMPT_BINS = ("not started", "1", "2", "3", "4", "5+")
# (category, colour): the order the bars stack in, bottom up
CATEGORIES = (
    ("passed", "#2ca02c"),
    ("to be graded", "#1f77b4"),
    ("failing", "#d62728"),
    ("no answer yet", "#999999"),
    ("not started", "#dddddd"),
)
NAMES_SHOWN = 12


def attempt_bin(attempts: int) -> str:
    if attempts <= 0:
        return ATTEMPT_BINS[0]
    return str(attempts) if attempts < 5 else "5+"


def _names(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def check_figure(name: str, cells: dict[tuple[str, str], list[str]]) -> dict:
    """The figure of check ``name`` from ``{(category, attempt bin): [learner ids]}``."""
    data = []
    for category, colour in CATEGORIES:
        ys = [len(cells.get((category, b), [])) for b in ATTEMPT_BINS]
        if not any(ys) and category != "passed":
            continue
        data.append(
            {
                "type": "bar",
                "name": category,
                "x": list(ATTEMPT_BINS),
                "y": ys,
                "marker": {"color": colour},
                "hovertext": [_names(cells.get((category, b), [])) for b in ATTEMPT_BINS],
                "hovertemplate": "%{y} " + category + " after %{x} attempt(s): %{hovertext}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "title": {"text": name, "font": {"size": 14}},
            "barmode": "stack",
            "height": 230,
            "margin": {"l": 40, "r": 10, "t": 36, "b": 40},
            "xaxis": {"title": {"text": "attempts"}, "type": "category", "categoryarray": list(ATTEMPT_BINS)},
            "yaxis": {"title": {"text": "learners"}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.35},
            "showlegend": False,
        },
    }
