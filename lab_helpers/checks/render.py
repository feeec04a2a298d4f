"""How a check result looks: one text line for logs and terminals, a small HTML card in JupyterLab.

Plain words for a newcomer: what this answer got right now, and, once answered, one line saying
that the instructor's grading checks more. Nothing about hidden parts shows before an answer.
"""

from __future__ import annotations

import html

_MARK = {"passed": "✔", "partial": "◐", "failed": "✘", "not done": "…", "to be graded": "✎"}
_COLOUR = {
    "passed": "#1a7f37",
    "partial": "#9a6700",
    "failed": "#cf222e",
    "not done": "#57606a",
    "to be graded": "#0969da",
}
_LABEL = {
    "passed": "passed",
    "partial": "partly right",
    "failed": "not right yet",
    "not done": "not done yet",
    "to be graded": "recorded",
}


def _points(result) -> str:
    if result.status == "to be graded":
        return f"{result.points:g} points, given by your instructor"
    return f"{result.earned:g}/{result.points:g} points"


def _label(result) -> str:
    return _LABEL.get(result.status, result.status)


def more_line(result) -> str:
    """The one plain line about the instructor's grading ("" before an answer, or when nothing more is judged)."""
    if result.status == "not done" or result.status == "to be graded" or not result.pending:
        return ""
    return "The instructor's grading checks more: " + "; ".join(result.pending) + "."


def as_text(result) -> str:
    line = f"{_MARK.get(result.status, '?')} {result.name} {_label(result)} ({_points(result)})"
    if result.message:
        line += f": {result.message}"
    more = more_line(result)
    if more:
        line += f"\n  {more}"
    return line


def as_html(result) -> str:
    colour = _COLOUR.get(result.status, "#57606a")
    more = more_line(result)
    more_html = f"<div style='color:#57606a;margin-top:2px'>{html.escape(more)}</div>" if more else ""
    return (
        f"<div class='lab-check' style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
        f"<b style='color:{colour}'>{_MARK.get(result.status, '?')} {html.escape(result.name)}: {html.escape(_label(result))}</b>"
        f" <span style='color:#57606a'>({html.escape(_points(result))})</span>"
        f"<div>{html.escape(result.message)}</div>{more_html}</div>"
    )
