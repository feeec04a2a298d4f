"""Notebook outputs as a static page can show them, with nothing fetched from the network.

- A plotly figure (``application/vnd.plotly.v1+json``) becomes plotly's own HTML for it, drawn by the
  ``plotly.min.js`` the site ships (no CDN, no require.js).
- A widget (``application/vnd.jupyter.widget-view+json``) has no live kernel on a web page, and the
  widgets' JavaScript would come from a CDN: it becomes a note naming its controls and the values they
  had when the lab ran, followed by what its output areas showed (from the widget state the run saved
  in the notebook's metadata), figures included.
"""

from __future__ import annotations

import html
import json
from typing import Any

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

Output = dict[str, Any]


class FigureCounter:
    """Gives every figure of a page its own element id, stable from build to build."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def next_id(self) -> str:
        self.count += 1
        return f"{self.prefix}-figure-{self.count}"


def figure_html(figure: dict, div_id: str) -> str:
    """Plotly's own HTML for ``figure``, expecting ``Plotly`` to be loaded by the page."""
    import plotly.io as pio

    return pio.to_html(
        figure, include_plotlyjs=False, full_html=False, div_id=div_id, validate=False, config={"responsive": True}
    )


def _display(html_text: str) -> Output:
    return {"output_type": "display_data", "data": {"text/html": html_text}, "metadata": {}}


def static_figure(output: Output, counter: FigureCounter) -> Output:
    """A plotly output as HTML drawn by the page's plotly.js; other mime types of the output are dropped."""
    figure = output["data"][PLOTLY_MIME]
    converted = dict(output)
    converted["data"] = {"text/html": figure_html(figure, counter.next_id())}
    converted["metadata"] = {}
    return converted


def _model_id(reference: Any) -> str | None:
    if isinstance(reference, str) and reference.startswith("IPY_MODEL_"):
        return reference[len("IPY_MODEL_") :]
    return None


def _control_line(state: dict) -> str | None:
    """'View: everything (one of everything, physical, ...)' for a control; None for containers."""
    name = state.get("_model_name", "")
    description = state.get("description") or name.removesuffix("Model")
    labels = state.get("_options_labels")
    if labels:
        index = state.get("index")
        chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else "none"
        return f"{description}: {chosen} (one of {', '.join(labels)})"
    if "value" in state and name not in ("OutputModel",):
        return f"{description}: {state['value']}"
    return None


def _walk(model_id: str, states: dict, counter: FigureCounter, controls: list[str], shown: list[Output]) -> None:
    model = states.get(model_id)
    if model is None:
        return
    state = model.get("state", {})
    name = model.get("model_name", state.get("_model_name", ""))
    if name == "OutputModel":
        for output in state.get("outputs", []):
            shown.extend(static_outputs(output, states, counter))
        return
    if state.get("_anywidget_id", "").endswith("FigureWidget"):
        data = state.get("_widget_data") or []
        layout = state.get("_widget_layout") or {}
        layout = json.loads(layout) if isinstance(layout, str) else layout
        if data:
            shown.append(_display(figure_html({"data": data, "layout": layout}, counter.next_id())))
        else:
            controls.append("a figure that the controls redraw (its traces live in the kernel, not in the saved page)")
        return
    line = _control_line(state)
    if line:
        controls.append(line)
    for child in state.get("children", []):
        child_id = _model_id(child)
        if child_id:
            _walk(child_id, states, counter, controls, shown)


def static_widget(output: Output, states: dict, counter: FigureCounter) -> list[Output]:
    """A widget view as a note on its controls, then what its output areas and figures showed."""
    model_id = output["data"][WIDGET_VIEW_MIME].get("model_id", "")
    controls: list[str] = []
    shown: list[Output] = []
    _walk(model_id, states, counter, controls, shown)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in controls)
    note = (
        '<div class="lab-widget-static admonition note"><p class="admonition-title">Interactive in JupyterLab</p>'
        "<p>These controls respond when you run the lab yourself; this page shows what they showed when it ran:</p>"
        f"<ul>{items}</ul></div>"
        if items
        else ""
    )
    return ([_display(note)] if note else []) + shown


def static_outputs(output: Output, states: dict, counter: FigureCounter) -> list[Output]:
    """One notebook output as the outputs a static page shows in its place."""
    data = output.get("data", {})
    if WIDGET_VIEW_MIME in data:
        return static_widget(output, states, counter)
    if PLOTLY_MIME in data:
        return [static_figure(output, counter)]
    return [output]


def widget_states(metadata: dict) -> dict:
    """The saved widget models of a notebook, by model id (empty when it saved none)."""
    return metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
