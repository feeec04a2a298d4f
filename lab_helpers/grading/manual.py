"""Free-text answers: a sheet an instructor fills in, and its points set on a gradebook's lines.

``manual-grading.csv`` has one row per (submission, manual check): submission, learner, check,
answer, max_points, points (blank), comment. Rows already in the sheet are kept as the
instructor left them when the batch is graded again; new submissions add rows. The rubric of each
check (what earns each point) is not in the sheet: it stays in the key's ``rubric.md``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from .key import LabKey

SHEET_COLUMNS = ["submission", "learner", "check", "answer", "max_points", "points", "comment"]


def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("submission", "check", "points") if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(
                f"{path} lacks the columns {', '.join(missing)}.",
                hint=f"Use the sheet `lab grade` wrote; its columns are {', '.join(SHEET_COLUMNS)}.",
            )
        return list(reader)


def rubric_notes(key: LabKey) -> list[str]:
    """One line per hand-graded check of ``key`` that has a rubric, saying where the rubric is."""
    path = key.rubric_file()
    if path is None:
        return []
    return [f"rubric for {name}: {path}" for name in key.rubrics()]


def write_sheet(gradebook, path: Path) -> Path:
    kept = {(r["submission"], r["check"]): r for r in _read(path)} if path.exists() else {}
    rows = []
    for g in gradebook.grades:
        for line in g.lines:
            if not line.manual:
                continue
            old = kept.get((g.submission, line.column))
            answer = (g.answers.get(line.check) or {}).get("answer")
            rows.append(
                {
                    "submission": g.submission,
                    "learner": g.learner,
                    "check": line.column,
                    "answer": "" if answer is None else str(answer),
                    "max_points": f"{line.points:g}",
                    "points": old.get("points", "") if old else "",
                    "comment": old.get("comment", "") if old else "",
                }
            )
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def merge_sheet(gradebook, sheet: Path | str) -> tuple[int, int]:
    """Set the points of ``sheet`` on ``gradebook``'s lines, in memory; (rows merged, rows still blank).

    Every row is checked before the caller saves anything, so a wrong cell changes nothing on disk.
    """
    merged = blank = 0
    for number, row in enumerate(_read(Path(sheet)), start=2):
        raw = (row.get("points") or "").strip()
        if not raw:
            blank += 1
            continue
        grade = gradebook.find(row["submission"])
        line = grade.line_for(row["check"])
        if line is None or not line.manual:
            raise UsageError(
                f"{sheet} line {number}: {row['check']!r} is not a manually graded check.",
                hint="Leave the check column as the grader wrote it.",
            )
        try:
            points = float(raw)
        except ValueError:
            points = math.nan
        if not (0 <= points <= line.points):
            raise UsageError(
                f"{sheet} line {number}: points {raw!r} for {row['check']} must be a number from 0 to {line.points:g}.",
                hint="Fix the cell and merge again; nothing was changed.",
            )
        line.earned = points
        line.status = "graded"
        line.message = (row.get("comment") or "").strip() or "Graded by an instructor."
        merged += 1
    return merged, blank
