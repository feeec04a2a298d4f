"""A submission's grade: one line per check, and how a learner reads it (text, or an HTML page).

What a learner reads is built only from ``CheckLine.message`` (public judges' messages and hidden
parts' descriptions), never from hidden judges' code, messages or expected values, and never from
instructor flags.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field


@dataclass
class CheckLine:
    column: str
    check: str
    points: float
    earned: float
    status: str  # passed | partial | failed | not done | to be graded | graded
    message: str  # safe to show the learner
    hidden: bool = False
    manual: bool = False
    question: str = ""


@dataclass
class SubmissionGrade:
    """One submission's grade; renders as the learner's feedback (HTML) or a text line."""

    submission: str
    learner: str
    lab: str
    lines: list[CheckLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs made before execution
    limits_hit: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # for the instructor: stamp mismatch, duplicates
    answers: dict = field(default_factory=dict)  # captured answers, for re-judging one check later
    instructor_notes: list[str] = field(default_factory=list)  # hidden judges' messages: never shown to learners
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(line.earned for line in self.lines), 4)

    @property
    def max_score(self) -> float:
        return round(sum(line.points for line in self.lines), 4)

    def line_for(self, column: str) -> CheckLine | None:
        return next((line for line in self.lines if line.column == column), None)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionGrade:
        data = dict(data)
        data["lines"] = [CheckLine(**line) for line in data.get("lines", [])]
        return cls(**data)

    def __str__(self) -> str:
        extra = "; ".join(self.limits_hit + self.problems + self.flags)
        return f"{self.submission}: {self.learner} {self.score:g}/{self.max_score:g}" + (
            f"  ({extra})" if extra else ""
        )

    def _repr_html_(self) -> str:
        return feedback_html(self)


_STATUS_COLOUR = {
    "passed": "#1a7f37",
    "graded": "#1a7f37",
    "partial": "#9a6700",
    "failed": "#cf222e",
    "not done": "#57606a",
    "to be graded": "#0969da",
}


def feedback_text(grade: SubmissionGrade) -> str:
    lines = [f"Lab {grade.lab} - {grade.learner}: {grade.score:g} of {grade.max_score:g} points"]
    for line in grade.lines:
        lines.append(f"  {line.column:<28} {line.earned:g}/{line.points:g}  {line.status:<12} {line.message}")
    for title, items in (
        ("Limits reached", grade.limits_hit),
        ("Problems", grade.problems),
        ("Before running, the grader", grade.notes),
    ):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines)


def feedback_html(grade: SubmissionGrade) -> str:
    e = html.escape
    rows = []
    for line in grade.lines:
        colour = _STATUS_COLOUR.get(line.status, "#57606a")
        rows.append(
            f"<tr><td><code>{e(line.column)}</code></td><td>{e(line.question)}</td>"
            f"<td style='text-align:right'>{line.earned:g} / {line.points:g}</td>"
            f"<td style='color:{colour};font-weight:600'>{e(line.status)}</td><td>{e(line.message)}</td></tr>"
        )
    sections = []
    for title, items in (
        ("Limits reached", grade.limits_hit),
        ("Problems while running", grade.problems),
        ("Before running, the grader", grade.notes),
    ):
        if items:
            sections.append(f"<h3>{e(title)}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
    pending = [line for line in grade.lines if line.status == "to be graded"]
    pending_note = (
        f"<p>{len(pending)} answer(s) are still to be graded by an instructor; the score may rise.</p>"
        if pending
        else ""
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Lab {e(grade.lab)} feedback</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}"
        "td,th{border-bottom:1px solid #d0d7de;padding:4px 8px;vertical-align:top}table{border-collapse:collapse}"
        "</style></head><body>"
        f"<h2>Lab {e(grade.lab)}: {grade.score:g} of {grade.max_score:g} points</h2>"
        f"<p>Learner: <b>{e(grade.learner)}</b></p>{pending_note}"
        "<table><tr><th>Check</th><th>Question</th><th>Points</th><th>Status</th><th>Message</th></tr>"
        + "".join(rows)
        + "</table>"
        + "".join(sections)
        + "</body></html>"
    )
