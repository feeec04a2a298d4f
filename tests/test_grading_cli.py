"""`lab grade` end to end from the command line: release, submit, grade, merge, re-judge."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat

from lab_helpers.cli import main
from lab_helpers.grading.isolation import namespaces_available


def test_grade_needs_lab_and_key(tmp_path, capsys):
    assert main(["grade", "--out", str(tmp_path), str(tmp_path)]) == 2
    assert "--lab and --key are needed" in capsys.readouterr().err


def test_release_submit_grade_merge_rejudge(tmp_path, monkeypatch, capsys):
    rel = tmp_path / "rel"
    assert main(["release", "00", "--out", str(rel)]) == 0
    nb = nbformat.read(rel / "learner" / "00-start-here.ipynb", as_version=4)
    cells = {c.get("id"): c for c in nb.cells}
    cells["fc289867"].source = "a40_count = 4 * 100\ncheck('00.a40-count', a40_count)"
    cells["c7f49e1d"].source = "why_separate = 'Data outlives the VM.'\ncheck('00.why-separate', why_separate)"
    mine = tmp_path / "mine.ipynb"
    nbformat.write(nb, mine)
    monkeypatch.setenv("LAB_LEARNER", "dee")
    subs = tmp_path / "subs"
    assert main(["submit", "00", "--notebook", str(mine), "--out", str(subs)]) == 0
    out = tmp_path / "out"
    isolation = [] if namespaces_available()[0] else ["--allow-network"]
    capsys.readouterr()
    code = main(
        [
            "grade",
            "--lab",
            "00",
            "--key",
            str(rel / "key"),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--quiet",
            "--cell-timeout",
            "30",
            "--notebook-timeout",
            "90",
            "--memory-mb",
            "512",
            *isolation,
            str(subs),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "dee" in printed and "2/7" in printed and "1 graded" in printed
    for name in ("grades.csv", "lms.csv", "summary.html", "manual-grading.csv", "grading.log", "gradebook.json"):
        assert (out / name).exists(), name
    assert len(list((out / "feedback").glob("*.html"))) == 1

    sheet = out / "manual-grading.csv"
    rows = _rows(sheet)
    assert [(r["learner"], r["answer"]) for r in rows] == [("dee", "Data outlives the VM.")]
    rows[0]["points"] = "2"
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["grade", "--merge-manual", str(sheet), "--out", str(out)]) == 0
    (row,) = _rows(out / "grades.csv")
    assert row["score"] == "4" and row["00.why-separate"] == "2" and row["learner"] == "dee"

    assert (
        main(["grade", "--lab", "00", "--key", str(rel / "key"), "--out", str(out), "--only-check", "00.a40-count"])
        == 0
    )
    (row,) = _rows(out / "grades.csv")
    assert row["score"] == "4"  # re-judging kept the merged manual points
    assert (
        main(["grade", "--lab", "00", "--key", str(rel / "key"), "--out", str(out), "--only-check", "00.why-separate"])
        == 2
    )
    assert "graded by hand" in capsys.readouterr().err
    assert Path(row["submission"]).name == "00-start-here.submission.ipynb"


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _table(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))
