"""The gradebook of one lab in ``OUT``: ``gradebook.json`` is the record, the rest is derived.

- ``grades.csv``: one row per submission (submission, learner, score, max_score, one column per
  check, flags);
- ``lms.csv``: a Canvas-style import (Student, ID, SIS Login ID, Section, one points column,
  with the "Points Possible" row);
- ``feedback/*.html``, ``summary.html``, ``manual-grading.csv``.

Regrading replaces rows of ``gradebook.json`` and rewrites every derived file, so the gradebook
is updated in place and never disagrees with the feedback.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from .feedback import write_feedback
from .grades import SubmissionGrade
from .key import LabKey
from .manual import merge_sheet, write_sheet
from .summary import write_summary

RECORD = "gradebook.json"


@dataclass
class Gradebook:
    lab: str
    title: str
    version: str
    columns: list[str]
    max_points: dict[str, float]
    grades: list[SubmissionGrade] = field(default_factory=list)

    @classmethod
    def for_key(cls, key: LabKey, title: str) -> Gradebook:
        return cls(key.lab, title, key.version, key.columns(), {c: key.points_of(c) for c in key.columns()})

    @property
    def max_score(self) -> float:
        return round(sum(self.max_points.values()), 4)

    def upsert(self, grade: SubmissionGrade) -> None:
        for i, old in enumerate(self.grades):
            if old.submission == grade.submission:
                self.grades[i] = grade
                return
        self.grades.append(grade)

    def find(self, submission: str) -> SubmissionGrade:
        for g in self.grades:
            if g.submission == submission or Path(g.submission).resolve() == Path(submission).resolve():
                return g
        raise UsageError(
            f"{submission} is not in this gradebook.", hint="Pass the path exactly as it was first graded."
        )

    def flag_duplicates(self) -> None:
        by_learner: dict[str, list[SubmissionGrade]] = {}
        for g in self.grades:
            g.flags = [f for f in g.flags if not f.startswith("learner submitted")]
            by_learner.setdefault(g.learner, []).append(g)
        for grades in by_learner.values():
            if len(grades) > 1:
                names = ", ".join(g.submission for g in grades)
                for g in grades:
                    g.flags.append(f"learner submitted {len(grades)} notebooks: {names}")

    # --- persistence -------------------------------------------------------------------------

    def save(self, out: Path) -> None:
        data = {
            "lab": self.lab,
            "title": self.title,
            "version": self.version,
            "columns": self.columns,
            "max_points": self.max_points,
            "grades": [g.to_dict() for g in self.grades],
        }
        _atomic_write(out / RECORD, json.dumps(data, indent=1, sort_keys=True, default=str))

    @classmethod
    def load(cls, out: Path) -> Gradebook:
        path = Path(out) / RECORD
        if not path.exists():
            raise UsageError(
                f"no gradebook in {out}.",
                hint="Grade the submissions first: lab grade --lab NN --key KEY --out DIR ...",
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        grades = [SubmissionGrade.from_dict(g) for g in data.pop("grades")]
        return cls(**data, grades=grades)

    # --- derived files -----------------------------------------------------------------------

    def write_all(self, out: Path) -> dict[str, Path]:
        out.mkdir(parents=True, exist_ok=True)
        self.flag_duplicates()
        self.save(out)
        paths = {"grades": self.write_grades(out / "grades.csv"), "lms": self.write_lms(out / "lms.csv")}
        for g in self.grades:
            write_feedback(g, out / "feedback")
        paths["feedback"] = out / "feedback"
        paths["summary"] = write_summary(self, out / "summary.html")
        paths["manual"] = write_sheet(self, out / "manual-grading.csv")
        return paths

    def write_grades(self, path: Path) -> Path:
        header = ["submission", "learner", "score", "max_score", *self.columns, "flags"]
        rows = []
        for g in self.grades:
            row = {
                "submission": g.submission,
                "learner": g.learner,
                "score": f"{g.score:g}",
                "max_score": f"{self.max_score:g}",
                "flags": " | ".join(g.flags + g.limits_hit + g.problems),
            }
            for col in self.columns:
                line = g.line_for(col)
                row[col] = "" if line is None or line.status == "to be graded" else f"{line.earned:g}"
            rows.append(row)
        return _write_csv(path, header, rows)

    def write_lms(self, path: Path) -> Path:
        column = f"Lab {self.lab}: {self.title}"
        header = ["Student", "ID", "SIS Login ID", "Section", column]
        rows = [
            {
                "Student": "    Points Possible",
                "ID": "",
                "SIS Login ID": "",
                "Section": "",
                column: f"{self.max_score:g}",
            }
        ]
        best: dict[str, SubmissionGrade] = {}
        for g in self.grades:  # one row per learner: their best submission; duplicates are flagged in grades.csv
            if g.learner not in best or g.score > best[g.learner].score:
                best[g.learner] = g
        for learner, g in sorted(best.items()):
            rows.append(
                {"Student": learner, "ID": learner, "SIS Login ID": learner, "Section": "", column: f"{g.score:g}"}
            )
        return _write_csv(path, header, rows)


def merge_manual(sheet: Path | str, out: Path | str) -> tuple[int, int]:
    """Merge the points of ``sheet`` into the gradebook in ``out``; (rows merged, rows still blank)."""
    out = Path(out)
    gradebook = Gradebook.load(out)
    merged, blank = merge_sheet(gradebook, sheet)
    gradebook.write_all(out)
    return merged, blank


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def read_grades_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
