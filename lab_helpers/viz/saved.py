"""Saved notebooks keep their figures interactive.

When plotly's JupyterLab extension draws a figure it adds a PNG of it to the output, and a
notebook re-opened later shows that picture instead of the figure until the pointer enters
it. The course's JupyterLab runs ``interactive_figures`` before every save (a Jupyter server
``pre_save_hook``): it drops the PNG where the output also carries the figure itself
(``application/vnd.plotly.v1+json``), so a re-opened notebook draws live figures at once.
Outputs with only a picture are left alone.
"""

from __future__ import annotations

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def strip_figure_pictures(notebook: dict) -> int:
    """Remove the PNG beside each plotly figure in ``notebook`` (nbformat JSON); returns how many."""
    removed = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if PLOTLY_MIME in data and "image/png" in data:
                del data["image/png"]
                removed += 1
    return removed


def interactive_figures(model: dict, **_: object) -> None:
    """Jupyter server pre-save hook: a notebook is saved without the pictures of its plotly figures."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_figure_pictures(model["content"])
