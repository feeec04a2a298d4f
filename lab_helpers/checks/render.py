"""How a check result looks: one text line for logs and terminals, a small HTML card in JupyterLab."""

from __future__ import annotations

import html

_MARK = {"passed": "✔", "partial": "◐", "failed": "✘", "not done": "…", "to be graded": "✎"}
_COLOUR = {"passed": "#1a7f37", "partial": "#9a6700", "failed": "#cf222e", "not done": "#57606a", "to be graded": "#0969da"}


def _points(result) -> str:
    return f"{result.earned:g}/{result.points:g}"


def _label(result) -> str:
    """Never "passed" alone while a hidden or manual part is still to be judged."""
    if result.pending and result.status in ("passed", "partial", "failed"):
        return f"public part {result.status}"
    return result.status


def as_text(result) -> str:
    line = f"{_MARK.get(result.status, '?')} {result.name} {_label(result)} ({_points(result)} points)"
    if result.message:
        line += f": {result.message}"
    if result.pending:
        line += f" [still to be judged: {'; '.join(result.pending)}]"
    return line


def as_html(result) -> str:
    colour = _COLOUR.get(result.status, "#57606a")
    pending = ""
    if result.pending:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in result.pending)
        pending = f"<div style='margin-top:4px'>Still to be judged:<ul style='margin:2px 0'>{items}</ul></div>"
    return (
        f"<div class='lab-check' style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
        f"<b style='color:{colour}'>{_MARK.get(result.status, '?')} {html.escape(result.name)}: {html.escape(_label(result))}</b>"
        f" <span style='color:#57606a'>({_points(result)} points)</span>"
        f"<div>{html.escape(result.message)}</div>{pending}</div>"
    )
