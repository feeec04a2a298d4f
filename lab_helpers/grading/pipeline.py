"""Grading as an ordered list of named steps, run for each submission, then for the class.

Per submission (the order matters):

1. ``read``      parse the file; an unreadable notebook still gets a row (zero) and a note;
2. ``stamp``     who handed it in and for which lab version: a mismatch is flagged, not fatal;
3. ``sanitise``  outputs cleared, the instructor's kernel, given cells restored by id; this comes
                 before execution so that nothing the learner changed outside answer cells runs;
4. ``execute``   in its own namespaces under limits; answers captured as JSON as each check cell ends;
5. ``judge``     in this process with the grader's own judges, so nothing the kernel did counts but
                 the captured answers. Runs even when earlier steps failed, so the row exists.

For the class: duplicates flagged, then grades.csv, lms.csv, feedback, summary, manual sheet.
A step that raises is recorded and the batch goes on.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .execute import Execution, execute
from .grades import SubmissionGrade
from .hidden import HiddenCheck, load_hidden
from .isolation import Isolation, Limits, choose_isolation, masked_paths
from .judge import answers_of, judge_all
from .key import LabKey, load_key
from .submit import read_stamp

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

    from .sanitise import Sanitised


@dataclass
class Settings:
    key: LabKey
    hidden: list[HiddenCheck]
    limits: Limits
    isolation: Isolation
    backend: str
    mask: list[Path]
    logs: Path
    log: Log


@dataclass
class Work:
    submission: str
    grade: SubmissionGrade
    nb: NotebookNode | None = None
    sanitised: Sanitised | None = None
    execution: Execution | None = None
    answers: dict = field(default_factory=dict)


class Log:
    """The batch's log file, one line per event; safe from several worker threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
            self._fh.flush()


def _read(work: Work, s: Settings) -> None:
    import nbformat

    try:
        work.nb = nbformat.read(work.submission, as_version=4)
    except Exception as exc:
        work.grade.problems.append(f"the notebook could not be read ({type(exc).__name__}); nothing ran")


def _stamp(work: Work, s: Settings) -> None:
    if work.nb is None:
        return
    stamp = read_stamp(work.nb)
    if stamp is None:
        work.grade.flags.append("not stamped by `lab submit`; learner taken from the file name")
        return
    work.grade.learner = stamp.learner
    if stamp.lab != s.key.lab:
        work.grade.flags.append(f"stamped for lab {stamp.lab}, graded as lab {s.key.lab}")
    if stamp.lab_version != s.key.version:
        work.grade.flags.append(f"lab version {stamp.lab_version} differs from the key's {s.key.version}")


def _sanitise(work: Work, s: Settings) -> None:
    from .sanitise import sanitise

    if work.nb is None:
        return
    work.sanitised = sanitise(work.nb, s.key, {"BACKEND": s.backend})
    work.grade.notes.extend(work.sanitised.notes)


def _execute(work: Work, s: Settings) -> None:
    if work.sanitised is None:
        return
    from .feedback import feedback_name

    keep = s.logs / feedback_name(work.submission).removesuffix(".html")
    work.execution = execute(
        work.sanitised.nb,
        learner=work.grade.learner,
        limits=s.limits,
        isolation=s.isolation,
        captures=[c.__dict__ for c in s.key.captures],
        mask=s.mask,
        backend=s.backend,
        keep_dir=keep,
        state_source=s.key.hidden_source() if any(h.is_state for h in s.hidden) else "",
    )
    record_execution(work, s)


def record_execution(work: Work, s: Settings) -> None:
    """What the run earned, onto the grade (shared with the Kubernetes path, whose runs come back as data)."""
    if work.execution is None:
        return
    work.grade.limits_hit.extend(work.execution.limits_hit)
    work.grade.problems.extend(work.execution.problems)
    work.grade.seconds = round(work.execution.seconds, 2)
    work.answers = answers_of(work.execution)
    if work.execution.identity is not None:
        from .jail import describe_identity, privileges_left

        left = privileges_left(work.execution.identity)
        state = "unprivileged" if not left else "PRIVILEGED (" + ", ".join(left) + ")"
        s.log(f"kernel of {work.submission}: {state}: {describe_identity(work.execution.identity)}")


def _judge(work: Work, s: Settings) -> None:
    work.grade.lines, notes = judge_all(s.key, work.answers, s.hidden)
    work.grade.instructor_notes.extend(notes)
    work.grade.flags.extend(n for n in notes if "was changed in the notebook" in n)
    work.grade.answers = work.answers


STEPS: tuple[tuple[str, Callable[[Work, Settings], None]], ...] = (
    ("read", _read),
    ("stamp", _stamp),
    ("sanitise", _sanitise),
    ("execute", _execute),
    ("judge", _judge),
)


def grade_one(submission: str, s: Settings) -> SubmissionGrade:
    learner = Path(submission).name.removesuffix(".ipynb").removesuffix(".submission")
    work = Work(submission, SubmissionGrade(submission, learner, s.key.lab))
    for name, step in STEPS:
        try:
            step(work, s)
        except Exception as exc:  # the grader's own failure on one submission never stops the batch
            work.grade.problems.append(f"the grader failed in step {name!r}: {type(exc).__name__}: {exc}")
            s.log(f"ERROR {submission}: step {name}: {type(exc).__name__}: {exc}")
            if name == "judge":
                work.grade.lines = []
    s.log(f"graded {submission}: {work.grade}")
    return work.grade


def collect(paths: list[str]) -> list[str]:
    """Submission files from files and folders, as given (folders searched for *.ipynb)."""
    found: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            found.append(raw)
        else:
            raise UsageError(f"no submission at {raw}.", hint="Pass .ipynb files or folders that hold them.")
    if not found:
        raise UsageError("no submissions found.", hint="Pass .ipynb files or folders that hold them.")
    return found


def make_settings(
    lab: str,
    key_dir: Path | str,
    out: Path,
    *,
    limits: Limits,
    allow_network: bool,
    backend: str,
    submissions: list[str],
) -> Settings:
    import lab_helpers

    from ..paths import labs_dir

    key = load_key(key_dir, lab)
    log = Log(out / "grading.log")
    isolation = choose_isolation(allow_network)
    keep = [
        Path(sys.prefix),
        Path(lab_helpers.__file__).parent,
        Path(sys.executable).parent,
        Path(tempfile.gettempdir()),
    ]
    if key.folder is None:  # load_key always sets it
        raise UsageError("this key has no folder.", hint="Load it with load_key(KEY_DIR, lab).")
    hide = [Path(key_dir), key.folder, out, labs_dir(), *{Path(p).resolve().parent for p in submissions}]
    settings = Settings(
        key,
        load_hidden(key.hidden_source()),
        limits,
        isolation,
        backend,
        masked_paths(hide, keep) if isolation.namespaces else [],
        out / "logs",
        log,
    )
    log(f"lab {key.lab} version {key.version}; {isolation.describe()}; limits: {limits.describe()}")
    if not isolation.namespaces:
        log(
            "WARNING: grading without isolation (--allow-network): submissions can reach the network and this machine's files"
        )
    return settings


def grade_batch(submissions: list[str], s: Settings, *, jobs: int = 1, progress: bool = True) -> list[SubmissionGrade]:
    """Grade each submission (``jobs`` at a time) with a progress bar and ETA on stderr."""
    from tqdm import tqdm

    grades: dict[str, SubmissionGrade] = {}
    with (
        tqdm(
            total=len(submissions),
            unit="notebook",
            file=sys.stderr,
            disable=not progress,
            desc=f"grading lab {s.key.lab}",
        ) as bar,
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
    ):
        futures = {pool.submit(grade_one, sub, s): sub for sub in submissions}
        for future in as_completed(futures):
            grades[futures[future]] = future.result()
            bar.update(1)
    return [grades[sub] for sub in submissions]
