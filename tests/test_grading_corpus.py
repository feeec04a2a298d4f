"""Lab 00's corpus of correct, wrong and hostile submissions, graded in one batch with two workers.

Each submission must get its expected score, the feedback must name the limit it hit, the key
must stay unreadable from the kernel, and the batch must finish.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

import pytest

from lab_helpers.grading.isolation import Limits, namespaces_available

CORPUS = Path(__file__).parent / "corpus" / "00"
LIMITS = Limits(cell_s=10, notebook_s=40, memory_mb=512, output_kb=256)

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


def _cases_module():
    spec = importlib.util.spec_from_file_location("corpus00_cases", CORPUS / "cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat

    from lab_helpers.grading.batch import grade
    from lab_helpers.grading.release import release
    from lab_helpers.paths import labs_dir

    root = tmp_path_factory.mktemp("grading")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the release's own warnings are tested in test_grading_release
        (rel,) = release(["00"], root / "release")
    learner = nbformat.read(rel.learner_path, as_version=4)
    out = root / "out"
    submissions = root / "submissions"
    secrets = [
        str(rel.key_dir),
        str(root / "release" / "key"),
        str(labs_dir() / "00-start-here.ipynb"),
        str(out),
        str(submissions),
    ]
    expectations = _cases_module().build(learner, submissions, rel.version, secrets)
    started = time.monotonic()
    gradebook = grade("00", root / "release" / "key", out, [str(submissions)], jobs=2, limits=LIMITS, progress=False)
    seconds = time.monotonic() - started
    return {"gradebook": gradebook, "out": out, "expect": expectations, "seconds": seconds, "root": root}


def _grade_of(graded, name):
    return next(g for g in graded["gradebook"].grades if Path(g.submission).stem == name)


def _feedback(graded, name) -> str:
    from lab_helpers.grading.feedback import feedback_name

    g = _grade_of(graded, name)
    return (graded["out"] / "feedback" / feedback_name(g.submission)).read_text(encoding="utf-8")


def test_the_batch_finishes_with_a_row_per_submission(graded):
    rows = _rows(graded["out"] / "grades.csv")
    assert len(rows) == len(graded["expect"])
    assert {Path(r["submission"]).stem for r in rows} == set(graded["expect"])
    assert graded["seconds"] < 240, f"corpus took {graded['seconds']:.0f} s"


@pytest.mark.parametrize(
    "name",
    [
        "correct",
        "correct-again",
        "twice-first",
        "partly-wrong",
        "untouched",
        "hidden-fails",
        "infinite-loop",
        "loop-ignores-interrupt",
        "memory-bomb",
        "sys-exit",
        "os-exit",
        "kill-kernel",
        "deleted-cells",
        "duplicated-reordered",
        "redefined-check",
        "monkeypatch",
        "fake-pass-lines",
        "read-hidden",
        "huge-output",
        "network-call",
        "corrupt",
    ],
)
def test_each_submission_gets_its_expected_score(graded, name):
    expect = graded["expect"][name]
    g = _grade_of(graded, name)
    assert g.score == pytest.approx(expect.score), (name, g.lines, g.limits_hit, g.problems, g.notes)
    assert g.learner == expect.learner
    assert g.max_score == 7
    html = _feedback(graded, name)
    for phrase in (expect.limit, expect.problem, expect.note):
        if phrase:
            assert phrase in html, f"{name}: feedback does not mention {phrase!r}"
    if not expect.problem:
        assert g.problems == [], (name, g.problems)  # ran to the end (the released notebook never crashes)
    for flag in expect.flags:
        assert any(flag in f for f in g.flags), (name, g.flags)
    if expect.manual_answer is not None:
        answer = g.answers["00.why-separate"]["answer"]
        assert expect.manual_answer in answer, (name, answer)


def test_limits_are_enforced_not_just_reported(graded):
    loop = _grade_of(graded, "loop-ignores-interrupt")
    assert loop.seconds < LIMITS.notebook_s + 15  # killed at the notebook limit, not left running
    bomb = _grade_of(graded, "memory-bomb")
    assert any("MemoryError" == e for e in _cell_errors(graded, "memory-bomb")), "the memory limit never bit"
    huge = graded["out"] / "logs"
    executed = next(p for p in huge.glob("huge-output-*/executed.ipynb"))
    assert executed.stat().st_size < LIMITS.output_kb * 1024 * 3  # outputs were cut, not stored
    assert bomb.score == 5


def _cell_errors(graded, name):
    folder = next((graded["out"] / "logs").glob(f"{name}-*"))
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    return [e.get("ename") for e in events if e.get("event") == "cell-error"]


def test_feedback_never_shows_hidden_code_or_expected_values(graded):
    key_source = (graded["root"] / "release" / "key" / "00-start-here" / "hidden.py").read_text()
    assert "@hidden_check" in key_source
    for name in graded["expect"]:
        html = _feedback(graded, name)
        assert "hidden_check" not in html and "def _" not in html
        assert "answer == expected" not in html and "isinstance(answer, int)" not in html
        assert "LEAKED" not in html


def test_manual_sheet_lists_free_text_and_merge_updates_grades(graded, tmp_path):
    import shutil

    from lab_helpers.grading.gradebook import merge_manual

    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    sheet = out / "manual-grading.csv"
    rows = _rows(sheet)
    correct = next(r for r in rows if Path(r["submission"]).stem == "correct")
    assert correct["check"] == "00.why-separate" and "disposable" in correct["answer"] and correct["points"] == ""
    correct["points"], correct["comment"] = "1.5", "Good; say who reads the upload."
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    merged, blank = merge_manual(sheet, out)
    assert merged == 1 and blank == len(rows) - 1
    grades = {Path(r["submission"]).stem: r for r in _rows(out / "grades.csv")}
    assert grades["correct"]["00.why-separate"] == "1.5"
    assert float(grades["correct"]["score"]) == 6.5
    lms = _table(out / "lms.csv")
    assert lms[0][:2] == ["Student", "ID"] and lms[1][-1] == "7"
    assert ["correct", "6.5"] == [lms[i][0] for i in range(len(lms)) if lms[i][0] == "correct"] + [
        next(r[-1] for r in lms if r[0] == "correct")
    ]


def test_merge_rejects_points_above_the_maximum(graded, tmp_path):
    import shutil

    from lab_helpers.errors import UsageError
    from lab_helpers.grading.gradebook import merge_manual

    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    sheet = out / "manual-grading.csv"
    rows = _rows(sheet)
    rows[0]["points"] = "9"
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = (out / "grades.csv").read_text()
    with pytest.raises(UsageError, match="from 0 to 2"):
        merge_manual(sheet, out)
    assert (out / "grades.csv").read_text() == before


def test_class_summary_has_a_figure_per_check(graded):
    from lab_helpers.grading.summary import check_stats
    from lab_helpers.viz.grading import summary_figure

    gb = graded["gradebook"]
    fig = summary_figure(gb)
    assert [t.name.split(" ")[0] for t in fig.data][:-1] == gb.columns
    a40 = next(s for s in check_stats(gb) if s.column == "00.a40-count")
    expected_full = sum(1 for g in gb.grades if g.line_for("00.a40-count").earned >= 1)
    assert a40.full_marks == expected_full and 0 < expected_full < len(gb.grades)
    assert "plotly" in (graded["out"] / "summary.html").read_text()


def test_regrade_one_submission_replaces_its_row(graded, tmp_path):
    import shutil

    import nbformat

    from lab_helpers.grading.batch import grade

    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    target = next(g.submission for g in graded["gradebook"].grades if Path(g.submission).stem == "untouched")
    original = Path(target).read_bytes()
    nb = nbformat.read(target, as_version=4)
    fixed = tmp_path / "untouched.ipynb"
    next(c for c in nb.cells if c.get("id") == "fc289867").source = "a40_count = 400"
    nbformat.write(nb, fixed)
    shutil.copyfile(fixed, target)  # the learner's file, corrected, at the path first graded
    try:
        book = grade("00", graded["root"] / "release" / "key", out, [target], limits=LIMITS, progress=False)
    finally:
        Path(target).write_bytes(original)
    rows = _rows(out / "grades.csv")
    assert len(rows) == len(graded["expect"])
    row = next(r for r in rows if r["submission"] == target)
    assert row["score"] == "2" and row["00.a40-count"] == "1"
    others = {r["submission"]: r["score"] for r in rows if r["submission"] != target}
    before = {r["submission"]: r["score"] for r in _rows(graded["out"] / "grades.csv") if r["submission"] != target}
    assert others == before
    assert len(book.grades) == len(graded["expect"])


def test_only_check_rejudges_captured_answers_without_running(graded, tmp_path):
    import shutil

    from lab_helpers.grading.batch import regrade_check

    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    key = tmp_path / "key"
    shutil.copytree(graded["root"] / "release" / "key", key)
    hidden = key / "00-start-here" / "hidden.py"
    # the instructor relaxes the hidden part: a whole number written as a float now counts too
    strict = (
        "return isinstance(answer, int) and not isinstance(answer, bool) and answer == node_type.nodes * node_type.gpus"
    )
    assert strict in hidden.read_text()
    hidden.write_text(
        hidden.read_text().replace(
            strict, "return isinstance(answer, (int, float)) and answer == node_type.nodes * node_type.gpus"
        )
    )
    started = time.monotonic()
    book = regrade_check("00", key, out, "00.a40-count")
    assert time.monotonic() - started < 10  # nothing re-executed
    scores = {Path(g.submission).stem: g.score for g in book.grades}
    assert scores["hidden-fails"] == 5  # was 4
    assert scores["correct"] == 5 and scores["partly-wrong"] == 1.2
    rows = {Path(r["submission"]).stem: r for r in _rows(out / "grades.csv")}
    assert rows["hidden-fails"]["00.a40-count:hidden"] == "1"
    assert list(rows["correct"])[4:9] == book.columns


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _table(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))
