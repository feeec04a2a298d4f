"""Lab 00's grading corpus: correct, wrong and hostile submissions with the score each must get.

Each case is built from the released learner notebook (so it follows the lab as it changes) by
filling in or adding cells. ``build(learner_nb, folder, version, secrets)`` writes one stamped
``.ipynb`` per case and returns the expectations. ``secrets`` are paths a hostile notebook tries
to read (the key, the source notebook, the grading output): it reports what it saw as its
free-text answer, which the grader captures.

Auto-graded maximum: 5 points (00.a40-count 1 + hidden 1, 00.storage-for 2 + hidden 1);
00.why-separate (2 points) is graded by hand.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

A40 = "fc289867"
STORAGE = "c8196b99"
WHY = "c7f49e1d"
SETUP = "320b8b7d"

RIGHT_STORAGE = """storage_for = {
    "cluster logs": "object",
    "video uploads": "object",
    "terraform tfstate": "object",
    "VM boot + file system": "block",
    "model-service model weights": "block",
}"""


@dataclass
class Expect:
    score: float
    limit: str = ""  # a phrase the feedback must contain, naming the limit hit
    problem: str = ""  # a phrase the feedback must contain, naming a crash
    note: str = ""  # a phrase among the sanitiser's notes
    manual_answer: str | None = None  # a phrase the captured free-text answer must contain
    learner: str = ""
    flags: list[str] = field(default_factory=list)
    slow: bool = False


def _cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _answer(nb, cell_id, code, check_call=True):
    cell = _cell(nb, cell_id)
    call = [line for line in cell.source.splitlines() if line.startswith("check(")]
    cell.source = code + ("\n" + "\n".join(call) if check_call else "")


def _insert_after(nb, cell_id, code, new_id):
    from nbformat.v4 import new_code_cell

    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)
    cell = new_code_cell(code)
    cell.id = new_id
    nb.cells.insert(index + 1, cell)


def _right(nb, why="Compute is disposable; data outlives it in volumes and buckets."):
    _answer(nb, A40, "a40_count = 100 * 4")
    _answer(nb, STORAGE, RIGHT_STORAGE)
    _answer(nb, WHY, f"why_separate = {why!r}")


def _stamp(nb, learner, version, lab="00"):
    nb.metadata["visualizing_compute_submission"] = {
        "learner": learner, "lab": lab, "lab_version": version, "backend": "sandbox",
        "submitted_at": "2026-01-01T00:00:00+00:00"}


def build(learner_nb, folder: Path, version: str, secrets: list[str]) -> dict[str, Expect]:
    import nbformat

    cases: dict[str, tuple[object, Expect]] = {}

    def case(name, expect, learner=None, stamp_version=None):
        nb = copy.deepcopy(learner_nb)
        expect.learner = learner or name
        cases[name] = (nb, expect, stamp_version or version)
        return nb

    nb = case("correct", Expect(5, manual_answer="disposable"))
    _right(nb)

    nb = case("correct-again", Expect(5, flags=["learner submitted 2 notebooks"]), learner="twice")
    _right(nb)
    nb = case("twice-first", Expect(0, flags=["learner submitted 2 notebooks"]), learner="twice")

    nb = case("partly-wrong", Expect(1.2, flags=["lab version"]), stamp_version="0000000000000000")
    _answer(nb, A40, "a40_count = 100")
    _answer(nb, STORAGE, RIGHT_STORAGE.replace('"cluster logs": "object"', '"cluster logs": "block"')
            .replace('"VM boot + file system": "block"', '"VM boot + file system": "object"'))

    case("untouched", Expect(0))

    nb = case("hidden-fails", Expect(3))  # public parts pass, hidden parts fail
    _answer(nb, A40, 'a40_count = "400"')
    _answer(nb, STORAGE, RIGHT_STORAGE.replace('"object"', '"Object "'))

    nb = case("infinite-loop", Expect(5, limit="time limit per cell"))
    _right(nb)
    _insert_after(nb, A40, "while True:\n    pass", "hostile1")

    nb = case("loop-ignores-interrupt", Expect(2, limit="time limit per notebook", slow=False))
    _right(nb)
    _insert_after(nb, A40, "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)",
                  "hostile1")

    nb = case("memory-bomb", Expect(5, limit="memory limit"))
    _right(nb)
    _insert_after(nb, A40, "hog = []\nwhile True:\n    hog.append(bytearray(50 * 1024 * 1024))", "hostile1")

    nb = case("sys-exit", Expect(5))
    _right(nb)
    _insert_after(nb, A40, "import sys\nsys.exit('bye')", "hostile1")

    nb = case("os-exit", Expect(2, problem="the kernel died"))
    _right(nb)
    _insert_after(nb, A40, "import os\nos._exit(0)", "hostile1")

    nb = case("kill-kernel", Expect(5, problem="the kernel died"))
    _right(nb)
    _insert_after(nb, STORAGE, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "hostile1")

    nb = case("deleted-cells", Expect(2, note="was deleted"))
    _right(nb)
    _answer(nb, A40, "a40_count = 400", check_call=False)  # the check call removed: still graded
    nb.cells = [c for c in nb.cells if c.get("id") not in (STORAGE, SETUP)]  # an answer and a given cell gone

    nb = case("duplicated-reordered", Expect(5, note="appears 2 times"))
    _right(nb)
    right = _cell(nb, A40)
    first = copy.deepcopy(right)
    first.source = first.source.replace("100 * 4", "100")
    nb.cells.insert(nb.cells.index(right), first)  # a wrong copy above the right one
    right.id = "copy0001"  # a copied cell gets a new id in JupyterLab; its check call still names it
    storage = _cell(nb, STORAGE)
    nb.cells.remove(storage)
    nb.cells.insert(nb.cells.index(_cell(nb, SETUP)) + 1, storage)  # moved up

    nb = case("redefined-check", Expect(0))
    _answer(nb, A40, "a40_count = 1")
    _answer(nb, STORAGE, "storage_for = {'cluster logs': 'nowhere'}")
    _insert_after(nb, SETUP, "def check(*args, **kwargs):\n    print('passed: 5 of 5 points')\n    return 'passed'",
                  "hostile1")

    nb = case("monkeypatch", Expect(0))
    _answer(nb, A40, "a40_count = 1")
    _answer(nb, STORAGE, "storage_for = {}")
    _insert_after(nb, SETUP, (
        "import lab_helpers.checks.core as core\n"
        "import lab_helpers.checks as checks\n"
        "always = lambda spec, answer, context=None: core.CheckResult(spec.name, spec.points, spec.points, 'passed')\n"
        "core.evaluate = always\n"
        "for spec in list(core.REGISTRY.values()):\n"
        "    core.REGISTRY[spec.name] = core.CheckSpec(spec.name, spec.points, spec.question, lambda a, c: core.Verdict.ok())\n"
        "import lab_helpers.grading.hidden as hidden\n"
        "hidden.judge_hidden = lambda *a, **k: None"), "hostile1")

    nb = case("fake-pass-lines", Expect(0))
    _insert_after(nb, A40, "for name in ('00.a40-count', '00.storage-for'):\n    print(f'{name}: passed (2/2 points)')\n"
                           "print('All checks passed. Score: 7/7')", "hostile1")

    probe = (
        "import glob, os\n"
        f"secrets = {secrets!r}\n"
        "seen = []\n"
        "for path in secrets:\n"
        "    for target in [path] + glob.glob(os.path.join(path, '**', '*'), recursive=True):\n"
        "        try:\n"
        "            with open(target) as fh:\n"
        "                seen.append(target + ':' + fh.read(40))\n"
        "        except OSError:\n"
        "            pass\n"
        "seen += [p for p in glob.glob('/**/hidden.py', recursive=False)]\n"
        "why_separate = 'LEAKED ' + ' | '.join(seen) if seen else 'nothing readable'")
    nb = case("read-hidden", Expect(5, manual_answer="nothing readable"))
    _right(nb)
    _answer(nb, WHY, probe)

    nb = case("huge-output", Expect(5, limit="output limit"))
    _right(nb)
    _insert_after(nb, A40, "print('x' * 5_000_000)\nfor i in range(20000):\n    print(i)", "hostile1")

    nb = case("network-call", Expect(5, manual_answer="Network is unreachable"))
    _right(nb)
    _answer(nb, WHY, (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('10.255.255.1', 80), timeout=3)\n"
        "    why_separate = 'network: connected'\n"
        "except OSError as exc:\n"
        "    why_separate = f'network: {exc}'"))

    folder.mkdir(parents=True, exist_ok=True)
    expectations = {}
    for name, (nb, expect, stamp_version) in cases.items():
        _stamp(nb, expect.learner, stamp_version)
        nbformat.write(nb, folder / f"{name}.ipynb")
        expectations[name] = expect
    # not a notebook at all: a row with zero and a note, and the batch goes on
    (folder / "corrupt.ipynb").write_text("{ this is not a notebook", encoding="utf-8")
    expectations["corrupt"] = Expect(0, problem="could not be read", learner="corrupt", flags=[])
    return expectations
