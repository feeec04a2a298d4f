"""Lab 00's grading corpus: correct, wrong and hostile submissions with the score each must get.

Each case is built from the released learner notebook (so it follows the lab as it changes) by
filling in or adding cells. ``build(learner_nb, folder, version, secrets)`` writes one stamped
``.ipynb`` per case and returns the expectations. ``secrets`` are paths a hostile notebook tries
to read (the key, the source notebook, the grading output): it reports what it saw as its
free-text answer, which the grader captures. The hostile cells themselves are shared by every
lab's corpus (``tests/corpus/hostile.py``).

Auto-graded maximum: 5 points (00.a40-count 1 + hidden 1, 00.storage-for 2 + hidden 1);
00.why-separate (2 points) is graded by hand.
"""

from __future__ import annotations

import copy
from pathlib import Path

from corpus.hostile import (
    HUGE_OUTPUT,
    KILL_KERNEL,
    LOOP,
    LOOP_IGNORES_INTERRUPT,
    MEMORY_BOMB,
    MONKEYPATCH,
    OS_EXIT,
    REDEFINED_CHECK,
    SYS_EXIT,
    Expect,
    fake_pass_lines,
    network_call,
    read_secrets,
)
from corpus.hostile import answer as _answer
from corpus.hostile import cell as _cell
from corpus.hostile import insert_after as _insert_after
from corpus.hostile import stamp as _stamp_lab

A40 = "fc289867"
STORAGE = "c8196b99"
WHY = "c7f49e1d"
SETUP = "320b8b7d"

RIGHT_STORAGE = """storage_for = {
    "cluster logs": "object",
    "video uploads": "object",
    "terraform state": "object",
    "VM boot disk": "block",
    "model weights": "block",
}"""


def _right(nb, why="Compute is disposable; data outlives it in volumes and buckets."):
    _answer(nb, A40, "a40_count = 100 * 4")
    _answer(nb, STORAGE, RIGHT_STORAGE)
    _answer(nb, WHY, f"why_separate = {why!r}")


def _stamp(nb, learner, version, lab="00"):
    _stamp_lab(nb, learner, version, lab)


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
    _answer(
        nb,
        STORAGE,
        RIGHT_STORAGE.replace('"cluster logs": "object"', '"cluster logs": "block"').replace(
            '"VM boot disk": "block"', '"VM boot disk": "object"'
        ),
    )

    case("untouched", Expect(0))

    nb = case("hidden-fails", Expect(4))  # a float passes the public part, not the hidden "an int"
    _answer(nb, A40, "a40_count = 400.0")
    # the project's page spellings, other case, outer spaces: harmless variants pass both parts
    _answer(
        nb,
        STORAGE,
        RIGHT_STORAGE.replace('"object"', '"Object "')
        .replace('"terraform state"', '" Terraform TFSTATE"')
        .replace('"VM boot disk"', '"VM boot + file system"'),
    )

    nb = case("number-as-text", Expect(3))  # "400" is text: neither part passes
    _answer(nb, A40, 'a40_count = "400"')
    _answer(nb, STORAGE, RIGHT_STORAGE)

    nb = case("infinite-loop", Expect(5, limit="time limit per cell"))
    _right(nb)
    _insert_after(nb, A40, LOOP, "hostile1")

    nb = case("loop-ignores-interrupt", Expect(2, limit="time limit per notebook", slow=False))
    _right(nb)
    _insert_after(nb, A40, LOOP_IGNORES_INTERRUPT, "hostile1")

    nb = case("memory-bomb", Expect(5, limit="memory limit"))
    _right(nb)
    _insert_after(nb, A40, MEMORY_BOMB, "hostile1")

    nb = case("sys-exit", Expect(5))
    _right(nb)
    _insert_after(nb, A40, SYS_EXIT, "hostile1")

    nb = case("os-exit", Expect(2, problem="the kernel died"))
    _right(nb)
    _insert_after(nb, A40, OS_EXIT, "hostile1")

    nb = case("kill-kernel", Expect(5, problem="the kernel died"))
    _right(nb)
    _insert_after(nb, STORAGE, KILL_KERNEL, "hostile1")

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
    _insert_after(nb, SETUP, REDEFINED_CHECK, "hostile1")

    nb = case("monkeypatch", Expect(0))
    _answer(nb, A40, "a40_count = 1")
    _answer(nb, STORAGE, "storage_for = {}")
    _insert_after(nb, SETUP, MONKEYPATCH, "hostile1")

    nb = case("fake-pass-lines", Expect(0))
    _insert_after(nb, A40, fake_pass_lines(["00.a40-count", "00.storage-for"]), "hostile1")

    probe = read_secrets(secrets, "why_separate", "'nothing readable'")
    nb = case("read-hidden", Expect(5, manual_answer="nothing readable"))
    _right(nb)
    _answer(nb, WHY, probe)

    nb = case("huge-output", Expect(5, limit="output limit"))
    _right(nb)
    _insert_after(nb, A40, HUGE_OUTPUT, "hostile1")

    nb = case("network-call", Expect(5, manual_answer="Network is unreachable"))
    _right(nb)
    _answer(nb, WHY, network_call("why_separate", "f'network: {exc}'"))

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
