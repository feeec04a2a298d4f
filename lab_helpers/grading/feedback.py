"""Each learner's feedback page, one file per submission (the page itself: ``grades.feedback_html``)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .grades import SubmissionGrade, feedback_html


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
