"""Grade one lab's corpus in one batch and compare each submission with what it must get."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import sys
import time
import warnings
from pathlib import Path

from corpus.hostile import CASES

CORPUS = Path(__file__).parent


def load_cases(lab: str):
    spec = importlib.util.spec_from_file_location(f"corpus{lab}_cases", CORPUS / lab / "cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def processes_of(learner_prefix: str) -> list[int]:
    """Processes still running for a submission of this corpus (their LAB_LEARNER starts with the prefix)."""
    found = []
    wanted = f"LAB_LEARNER={learner_prefix}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(part.startswith(wanted) for part in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def grade_corpus(lab: str, root: Path, limits, *, only=CASES, jobs: int = 2, boot_s: str = "0.5") -> dict:
    """Release ``lab``, write its cases under ``root``, grade them; what the tests look at."""
    import nbformat

    from lab_helpers.catalog import find_lab
    from lab_helpers.grading.batch import grade
    from lab_helpers.grading.release import release

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the release's own warnings are tested in test_grading_release
        (rel,) = release([lab], root / "release")
    learner = nbformat.read(rel.learner_path, as_version=4)
    out, submissions = root / "out", root / "submissions"
    secret_paths = [
        str(rel.key_dir),
        str(root / "release" / "key"),
        str(find_lab(lab).path),
        str(out),
        str(submissions),
    ]
    prefix = f"c{lab}{secrets.token_hex(3)}-"
    expect = load_cases(lab).build(learner, submissions, rel.version, secret_paths, prefix=prefix, only=only)
    saved = os.environ.get("LAB_SANDBOX_BOOT_S")
    os.environ["LAB_SANDBOX_BOOT_S"] = boot_s  # servers boot fast in graded runs of the sandbox
    try:
        started = time.monotonic()
        book = grade(lab, root / "release" / "key", out, [str(submissions)], jobs=jobs, limits=limits, progress=False)
        seconds = time.monotonic() - started
    finally:
        if saved is None:
            os.environ.pop("LAB_SANDBOX_BOOT_S", None)
        else:
            os.environ["LAB_SANDBOX_BOOT_S"] = saved
    return {
        "gradebook": book,
        "out": out,
        "expect": expect,
        "seconds": seconds,
        "root": root,
        "prefix": prefix,
        "left_running": processes_of(prefix),
        "key": root / "release" / "key",
    }


def grade_of(graded: dict, name: str):
    return next(g for g in graded["gradebook"].grades if Path(g.submission).stem == name)


def feedback(graded: dict, name: str) -> str:
    from lab_helpers.grading.feedback import feedback_name

    g = grade_of(graded, name)
    return (graded["out"] / "feedback" / feedback_name(g.submission)).read_text(encoding="utf-8")


def events(graded: dict, name: str) -> list[dict]:
    folder = next((graded["out"] / "logs").glob(f"{name}-*"))
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def assert_expected(graded: dict, name: str, max_score: float) -> None:
    """The submission's score, the limit or crash its feedback names, and nothing leaked."""
    expect = graded["expect"][name]
    g = grade_of(graded, name)
    detail = (
        name,
        [(line.column, line.earned, line.status) for line in g.lines],
        g.limits_hit,
        g.problems,
        g.notes,
        g.instructor_notes,
    )
    assert g.score == expect.score, detail
    assert g.max_score == max_score
    assert g.learner == expect.learner
    html = feedback(graded, name)
    for phrase in (expect.limit, expect.problem, expect.note):
        if phrase:
            assert phrase in html, f"{name}: feedback does not mention {phrase!r}"
    if not expect.problem:
        assert g.problems == [], detail
    assert "LEAKED" not in json.dumps(g.answers) and "LEAKED" not in html
    assert "state_check" not in html and "hidden_check" not in html and "def _" not in html
