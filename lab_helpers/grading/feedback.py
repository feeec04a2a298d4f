"""Feedback a learner may read: check names, points and messages.

Built only from ``CheckLine.message`` (public judges' messages and hidden parts' descriptions),
never from hidden judges' code, messages or expected values, and never from instructor flags.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

from .judge import SubmissionGrade

_STATUS_COLOUR = {"passed": "#1a7f37", "graded": "#1a7f37", "partial": "#9a6700", "failed": "#cf222e",
                  "not done": "#57606a", "to be graded": "#0969da"}


def feedback_text(grade: SubmissionGrade) -> str:
    lines = [f"Lab {grade.lab} - {grade.learner}: {grade.score:g} of {grade.max_score:g} points"]
    for line in grade.lines:
        lines.append(f"  {line.column:<28} {line.earned:g}/{line.points:g}  {line.status:<12} {line.message}")
    for title, items in (("Limits reached", grade.limits_hit), ("Problems", grade.problems),
                         ("Before running, the grader", grade.notes)):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines)


def feedback_html(grade: SubmissionGrade) -> str:
    e = html.escape
    rows = []
    for line in grade.lines:
        colour = _STATUS_COLOUR.get(line.status, "#57606a")
        rows.append(f"<tr><td><code>{e(line.column)}</code></td><td>{e(line.question)}</td>"
                    f"<td style='text-align:right'>{line.earned:g} / {line.points:g}</td>"
                    f"<td style='color:{colour};font-weight:600'>{e(line.status)}</td><td>{e(line.message)}</td></tr>")
    sections = []
    for title, items in (("Limits reached", grade.limits_hit), ("Problems while running", grade.problems),
                         ("Before running, the grader", grade.notes)):
        if items:
            sections.append(f"<h3>{e(title)}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
    pending = [line for line in grade.lines if line.status == "to be graded"]
    pending_note = (f"<p>{len(pending)} answer(s) are still to be graded by an instructor; the score may rise.</p>"
                    if pending else "")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Lab {e(grade.lab)} feedback</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}"
        "td,th{border-bottom:1px solid #d0d7de;padding:4px 8px;vertical-align:top}table{border-collapse:collapse}"
        "</style></head><body>"
        f"<h2>Lab {e(grade.lab)}: {grade.score:g} of {grade.max_score:g} points</h2>"
        f"<p>Learner: <b>{e(grade.learner)}</b></p>{pending_note}"
        "<table><tr><th>Check</th><th>Question</th><th>Points</th><th>Status</th><th>Message</th></tr>"
        + "".join(rows) + "</table>" + "".join(sections) + "</body></html>"
    )


def feedback_name(submission: str) -> str:
    """A file name per submission; the hash keeps two ``lab00.ipynb`` from different folders apart."""
    stem = Path(submission).name.removesuffix(".ipynb")
    tag = hashlib.sha1(submission.encode("utf-8")).hexdigest()[:6]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) + f"-{tag}.html"


def write_feedback(grade: SubmissionGrade, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / feedback_name(grade.submission)
    path.write_text(feedback_html(grade), encoding="utf-8")
    return path
