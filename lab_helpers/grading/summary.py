"""The class summary: how each check went across the class, as a table and a figure (drawn in viz.grading)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from ..viz.grading import summary_figure


@dataclass(frozen=True)
class CheckStats:
    column: str
    points: float
    mean: float
    full_marks: int
    graded: int  # submissions with a score for this column (manual ones only once merged)


def check_stats(gradebook) -> list[CheckStats]:
    stats = []
    for col in gradebook.columns:
        earned = [line.earned for g in gradebook.grades if (line := g.line_for(col)) and line.status != "to be graded"]
        points = gradebook.max_points[col]
        stats.append(
            CheckStats(
                col,
                points,
                round(sum(earned) / len(earned), 3) if earned else 0.0,
                sum(1 for e in earned if e >= points),
                len(earned),
            )
        )
    return stats


def write_summary(gradebook, path: Path) -> Path:
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(s.column)}</code></td><td>{s.points:g}</td><td>{s.mean:g}</td>"
        f"<td>{s.full_marks} / {s.graded}</td></tr>"
        for s in check_stats(gradebook)
    )
    flagged = [g for g in gradebook.grades if g.flags or g.limits_hit or g.problems]
    flag_rows = "".join(
        f"<li><b>{e(g.submission)}</b> ({e(g.learner)}): {e('; '.join(g.flags + g.limits_hit + g.problems))}</li>"
        for g in flagged
    )
    figure = summary_figure(gradebook).to_html(full_html=False, include_plotlyjs=True)
    text = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Lab {e(gradebook.lab)} class summary</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em}td,th{padding:4px 10px;border-bottom:1px solid #ddd}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h2>Lab {e(gradebook.lab)}: {e(gradebook.title)} (version {e(gradebook.version)})</h2>"
        f"<p>{len(gradebook.grades)} submissions, maximum {gradebook.max_score:g} points.</p>"
        "<table><tr><th>Check</th><th>Points</th><th>Mean earned</th><th>Full marks</th></tr>"
        + rows
        + "</table>"
        + figure
        + (f"<h3>Flagged ({len(flagged)})</h3><ul>{flag_rows}</ul>" if flagged else "")
        + "</body></html>"
    )
    path.write_text(text, encoding="utf-8")
    return path
