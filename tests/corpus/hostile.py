"""What every lab's grading corpus shares: notebook edits, the hostile cells, and a generic builder.

A lab's ``cases.py`` describes its exercises once (a ``LabCorpus``: how to answer every cell
right, how to answer wrong, where to put a hostile cell, and the score each case must get);
``standard_cases`` then writes the correct, partly wrong and untouched submissions and the
hostile set: an infinite loop, one that ignores the interrupt, a memory bomb, ``sys.exit()``,
``os._exit()``, killing its own kernel, deleted and duplicated check cells, a redefined
``check``, monkeypatched ``lab_helpers``, fake pass lines, reading the hidden checks, a huge
output and a network call; and the escapes: lifting every mount with ``umount2(MNT_DETACH)``,
reading the key through ``/proc`` of other processes, and writing into the key, the grading output
and the other submissions. Each submission is built from the released learner notebook, so the
corpus follows the lab as it changes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


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


# --- editing a released notebook ----------------------------------------------------------------

_CHECK_LINE = re.compile(r"(lab_helpers\.)?check\(")


def is_check_line(line: str) -> bool:
    return bool(_CHECK_LINE.match(line))


def cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def answer(nb, cell_id, code, check_call=True):
    """Replace an answer cell's body by ``code``, keeping its ``check(...)`` line(s)."""
    target = cell(nb, cell_id)
    calls = [line for line in target.source.splitlines() if is_check_line(line)]
    target.source = code + ("\n" + "\n".join(calls) if check_call else "")


def fill(nb, cell_id, stub, code):
    """Replace the learner's stub line ``stub`` (e.g. ``x = None  # your answer here``) by ``code``."""
    target = cell(nb, cell_id)
    lines = target.source.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(stub))
    lines[index : index + 1] = code.splitlines()
    target.source = "\n".join(lines)


def before_check(nb, cell_id, code):
    """Put ``code`` in an answer cell just before its first ``check(...)`` line (its answer is captured there)."""
    target = cell(nb, cell_id)
    lines = target.source.splitlines()
    index = next(i for i, line in enumerate(lines) if is_check_line(line))
    lines[index:index] = code.splitlines()
    target.source = "\n".join(lines)


def insert_after(nb, cell_id, code, new_id):
    from nbformat.v4 import new_code_cell

    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)
    added = new_code_cell(code)
    added.id = new_id
    nb.cells.insert(index + 1, added)


def stamp(nb, learner, version, lab):
    nb.metadata["visualizing_compute_submission"] = {
        "learner": learner,
        "lab": lab,
        "lab_version": version,
        "backend": "sandbox",
        "submitted_at": "2026-01-01T00:00:00+00:00",
    }


# --- the hostile cells ----------------------------------------------------------------------------

LOOP = "while True:\n    pass"
LOOP_IGNORES_INTERRUPT = (
    "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)"
)
MEMORY_BOMB = "hog = []\nwhile True:\n    hog.append(bytearray(50 * 1024 * 1024))"
SYS_EXIT = "import sys\nsys.exit('bye')"
OS_EXIT = "import os\nos._exit(0)"
KILL_KERNEL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
REDEFINED_CHECK = "def check(*args, **kwargs):\n    print('passed: all points')\n    return 'passed'"
MONKEYPATCH = (
    "import lab_helpers.checks.core as core\n"
    "import lab_helpers.checks.registry as registry\n"
    "import lab_helpers.checks as checks\n"
    "always = lambda spec, answer, context=None: core.CheckResult(spec.name, spec.points, spec.points, 'passed')\n"
    "core.evaluate = always\n"
    "for spec in list(registry.REGISTRY.values()):\n"
    "    registry.REGISTRY[spec.name] = registry.CheckSpec(spec.name, spec.points, spec.question,\n"
    "                                                      lambda a, c: registry.Verdict.ok())\n"
    "import lab_helpers.grading.hidden as hidden\n"
    "hidden.judge_hidden = lambda *a, **k: None"
)
HUGE_OUTPUT = "print('x' * 5_000_000)\nfor i in range(20000):\n    print(i)"


def fake_pass_lines(checks: list[str]) -> str:
    return (
        f"for name in {checks!r}:\n    print(f'{{name}}: passed (full points)')\n"
        "print('All checks passed. Score: 100%')"
    )


def read_secrets(secrets: list[str], target: str, clean: str) -> str:
    """Try every secret path; ``target`` becomes ``clean`` (an expression) when nothing was readable."""
    return (
        "import glob, os\n"
        f"secrets = {secrets!r}\n"
        "seen = []\n"
        "for path in secrets:\n"
        "    for found in [path] + glob.glob(os.path.join(path, '**', '*'), recursive=True):\n"
        "        try:\n"
        "            with open(found) as fh:\n"
        "                seen.append(found + ':' + fh.read(40))\n"
        "        except OSError:\n"
        "            pass\n"
        "seen += [p for p in glob.glob('/**/hidden.py', recursive=False)]\n"
        f"{target} = 'LEAKED ' + ' | '.join(seen) if seen else {clean}"
    )


def network_call(target: str, unreachable: str) -> str:
    """Connect outside; ``target`` becomes ``unreachable`` (an expression, may use ``exc``) when it fails."""
    return (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('10.255.255.1', 80), timeout=3)\n"
        f"    {target} = 'network: connected'\n"
        "except OSError as exc:\n"
        f"    {target} = {unreachable}"
    )


# the escapes: each tries every route it knows to the secret paths; ``target`` becomes ``clean`` only
# when nothing was read, listed or written. What it writes is "ESC" "APED" (joined at run time, so
# the notebook's source never holds it) into files named ``escaped-*``: the tests look for both.
_REACH = (
    "import ctypes, glob, os\n"
    "secrets = {secrets!r}\n"
    "seen = []\n"
    "def reach(prefix=''):\n"
    "    for path in secrets:\n"
    "        base = prefix + path\n"
    "        try:\n"
    "            seen.append('listed ' + base + ': ' + ','.join(os.listdir(base))[:80])\n"
    "        except OSError:\n"
    "            pass\n"
    "        for found in [base] + glob.glob(os.path.join(base, '**', '*'), recursive=True)[:200]:\n"
    "            try:\n"
    "                with open(found, 'rb') as fh:\n"
    "                    seen.append('read ' + found + ': ' + repr(fh.read(40)))\n"
    "            except OSError:\n"
    "                pass\n"
    "        for folder in [base] + [d for d in glob.glob(os.path.join(base, '**'), recursive=True) if os.path.isdir(d)][:50]:\n"
    "            try:\n"
    "                with open(os.path.join(folder, 'escaped-' + str(os.getpid())), 'w') as fh:\n"
    "                    fh.write('ESC' + 'APED')\n"
    "                seen.append('wrote into ' + folder)\n"
    "            except OSError:\n"
    "                pass\n"
)


def lift_mounts(secrets: list[str], target: str, clean: str) -> str:
    """Detach every mount the kernel can see (as the kernel's uid), then try the secret paths."""
    return (
        _REACH.format(secrets=secrets) + "libc = ctypes.CDLL(None, use_errno=True)\n"
        "lifted = []\n"
        "for attempt in range(3):\n"
        "    points = [line.split()[4] for line in open('/proc/self/mountinfo')]\n"
        "    for point in sorted(set(points), key=len, reverse=True):\n"
        "        if libc.umount2(point.encode(), 2) == 0:\n"
        "            lifted.append(point)\n"
        "for point in ['/tmp', '/proc', '/']:\n"
        "    libc.mount(b'none', point.encode(), b'tmpfs', 0, None)\n"
        "if lifted:\n"
        "    seen.append('unmounted ' + ','.join(lifted)[:200])\n"
        "reach()\n"
        "reach('/proc/self/root')\n"
        f"{target} = 'LEAKED ' + ' | '.join(seen)[:2000] if seen else {clean}"
    )


def proc_peek(secrets: list[str], target: str, clean: str) -> str:
    """Through ``/proc`` of every other process: its root, its cwd, its environment and command line."""
    return (
        _REACH.format(secrets=secrets) + "me = os.getuid()\n"
        "pids = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]\n"
        "for pid in sorted(set(pids + ['1', '2'])):\n"
        "    reach(f'/proc/{pid}/root')\n"
        "    reach(f'/proc/{pid}/cwd/..')\n"
        "    try:\n"
        "        owner = int(open(f'/proc/{pid}/status').read().split('Uid:')[1].split()[0])\n"
        "    except (OSError, IndexError, ValueError):\n"
        "        owner = None\n"
        "    for part in ('environ', 'cmdline'):\n"
        "        try:\n"
        "            text = open(f'/proc/{pid}/{part}', 'rb').read()\n"
        "        except OSError:\n"
        "            continue\n"
        "        if owner != me or any(s.encode() in text for s in secrets if len(s) > 8):\n"
        "            seen.append(f'read /proc/{pid}/{part} of uid {owner}: ' + repr(text[:60]))\n"
        f"{target} = 'LEAKED ' + ' | '.join(seen)[:2000] if seen else {clean}"
    )


def write_out(secrets: list[str], target: str, clean: str) -> str:
    """Write into the key, the grading output and the other submissions, directly and through /proc/1/root."""
    return (
        _REACH.format(secrets=secrets) + "for path in secrets:\n"
        "    for name in ('gradebook.json', 'grading.log', 'hidden.py', 'key.json'):\n"
        "        try:\n"
        "            with open(os.path.join(path, name), 'a') as fh:\n"
        "                fh.write('ESC' + 'APED')\n"
        "            seen.append('appended to ' + os.path.join(path, name))\n"
        "        except OSError:\n"
        "            pass\n"
        "reach()\n"
        "reach('/proc/1/root')\n"
        f"{target} = 'LEAKED ' + ' | '.join(seen)[:2000] if seen else {clean}"
    )


ESCAPES = {"lift-mounts": lift_mounts, "proc-peek": proc_peek, "write-out": write_out}


# --- one lab's corpus -----------------------------------------------------------------------------

STANDARD_LIMITS = {
    "infinite-loop": "time limit per cell",
    "loop-ignores-interrupt": "time limit per notebook",
    "memory-bomb": "memory limit",
    "huge-output": "output limit",
}
STANDARD_PROBLEMS = {"os-exit": "the kernel died", "kill-kernel": "the kernel died"}
STANDARD_NOTES = {"deleted-cells": "was deleted", "duplicated-reordered": "appears 2 times"}


@dataclass
class LabCorpus:
    """What the generic builder needs to know about a lab; every score is the auto-graded total."""

    lab: str
    checks: list[str]  # the lab's check names, for the fake pass lines
    right: Callable[[object], None]  # answers every exercise right
    partly_wrong: Callable[[object], None]  # answers some exercises wrong
    wrong: Callable[[object], None]  # answers wrong (an exercise carrying state checks may stay undone)
    first: str  # the first answer cell: loops, exits and the fake check go after it
    late: str  # a later answer cell: the kernel is killed after it
    slot: tuple[str, str, str]  # (answer cell, variable, right value as an expression): a string answer
    deleted: tuple[str, ...]  # cells the deleted-cells case removes (answer cells come back "not done")
    scores: dict[str, float]  # case name -> expected score, for every case below
    # case name -> phrase the feedback must contain (a limit), naming a crash, among the sanitiser's notes
    limits: dict[str, str] = field(default_factory=lambda: dict(STANDARD_LIMITS))
    problems: dict[str, str] = field(default_factory=lambda: dict(STANDARD_PROBLEMS))
    notes: dict[str, str] = field(default_factory=lambda: dict(STANDARD_NOTES))


CASES = (
    "correct",
    "partly-wrong",
    "untouched",
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
    *ESCAPES,
)
TRIO = ("correct", "partly-wrong", "untouched")


def standard_cases(spec: LabCorpus, learner_nb, secrets: list[str], only: tuple[str, ...] = CASES) -> dict:
    """name -> (notebook, Expect) for the cases in ``only``."""
    cases: dict[str, tuple[object, Expect]] = {}
    slot_cell, slot_var, slot_right = spec.slot

    def make(name: str, fill_right: bool = True):
        nb = copy.deepcopy(learner_nb)
        if fill_right:
            spec.right(nb)
        score = spec.scores[name] if name in spec.scores or name not in ESCAPES else spec.scores["read-hidden"]
        expect = Expect(
            score, limit=spec.limits.get(name, ""), problem=spec.problems.get(name, ""), note=spec.notes.get(name, "")
        )
        cases[name] = (nb, expect)
        return nb

    builders: dict[str, Callable[[], None]] = {
        "correct": lambda: make("correct"),
        "partly-wrong": lambda: spec.partly_wrong(make("partly-wrong", fill_right=False)),
        "untouched": lambda: make("untouched", fill_right=False),
        "infinite-loop": lambda: insert_after(make("infinite-loop"), spec.first, LOOP, "hostile1"),
        "loop-ignores-interrupt": lambda: insert_after(
            make("loop-ignores-interrupt"), spec.first, LOOP_IGNORES_INTERRUPT, "hostile1"
        ),
        "memory-bomb": lambda: insert_after(make("memory-bomb"), spec.first, MEMORY_BOMB, "hostile1"),
        "sys-exit": lambda: insert_after(make("sys-exit"), spec.first, SYS_EXIT, "hostile1"),
        "os-exit": lambda: insert_after(make("os-exit"), spec.first, OS_EXIT, "hostile1"),
        "kill-kernel": lambda: insert_after(make("kill-kernel"), spec.late, KILL_KERNEL, "hostile1"),
        "deleted-cells": lambda: _deleted(make("deleted-cells"), spec),
        "duplicated-reordered": lambda: _duplicated(make("duplicated-reordered"), spec, learner_nb),
        "redefined-check": lambda: _wrong_with(make("redefined-check", fill_right=False), spec, REDEFINED_CHECK),
        "monkeypatch": lambda: _wrong_with(make("monkeypatch", fill_right=False), spec, MONKEYPATCH),
        "fake-pass-lines": lambda: insert_after(
            make("fake-pass-lines", fill_right=False), spec.first, fake_pass_lines(spec.checks), "hostile1"
        ),
        "read-hidden": lambda: before_check(
            make("read-hidden"), slot_cell, read_secrets(secrets, slot_var, slot_right)
        ),
        "huge-output": lambda: insert_after(make("huge-output"), spec.first, HUGE_OUTPUT, "hostile1"),
        "network-call": lambda: before_check(make("network-call"), slot_cell, network_call(slot_var, slot_right)),
    }
    for escape, code in ESCAPES.items():  # the answer is right, so any score but the full one means a leak
        builders[escape] = lambda escape=escape, code=code: before_check(
            make(escape), slot_cell, code(secrets, slot_var, slot_right)
        )
    for name in only:
        builders[name]()
    return cases


def _deleted(nb, spec: LabCorpus) -> None:
    first = cell(nb, spec.first)
    first.source = "\n".join(line for line in first.source.splitlines() if not is_check_line(line))
    nb.cells = [c for c in nb.cells if c.get("id") not in spec.deleted]


def _duplicated(nb, spec: LabCorpus, learner_nb) -> None:
    """A wrong copy of the first answer cell above the right one (which got a new id), and one cell moved up."""
    right = cell(nb, spec.first)
    wrong_nb = copy.deepcopy(learner_nb)
    spec.wrong(wrong_nb)
    wrong = copy.deepcopy(cell(wrong_nb, spec.first))
    nb.cells.insert(nb.cells.index(right), wrong)
    right.id = "copy0001"  # a copied cell gets a new id in JupyterLab; its check call still names it
    late = cell(nb, spec.late)
    nb.cells.remove(late)
    nb.cells.insert(nb.cells.index(wrong), late)  # moved above the first exercise


def _wrong_with(nb, spec: LabCorpus, hostile: str) -> None:
    spec.wrong(nb)
    setup = next(c for c in nb.cells if "lab_helpers.setup(" in c.source)
    insert_after(nb, setup.id, hostile, "hostile1")


def write(cases: dict, folder: Path, version: str, lab: str, learner_prefix: str = "") -> dict[str, Expect]:
    """Stamp and write each case as ``folder/NAME.ipynb``; the expectations by name."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (nb, expect) in cases.items():
        expect.learner = expect.learner or f"{learner_prefix}{name}"
        stamp(nb, expect.learner, version, lab)
        nbformat.write(nb, folder / f"{name}.ipynb")
        out[name] = expect
    return out


def builder(spec: LabCorpus, own: dict | None = None) -> Callable[..., dict]:
    """The ``build(learner_nb, folder, version, secrets, prefix="", only=CASES)`` of a lab's cases module;
    ``own`` adds the lab's own cases, ``name -> (how to build it from the learner notebook, its score)``."""
    import copy

    own = own or {}

    def build(learner_nb, folder, version: str, secrets: list[str], prefix: str = "", only=CASES) -> dict:
        cases = standard_cases(spec, learner_nb, secrets, tuple(n for n in only if n not in own))
        for name in only:
            if name in own:
                make, score = own[name]
                nb = copy.deepcopy(learner_nb)
                make(nb)
                cases[name] = (nb, Expect(score))
        return write(cases, folder, version, spec.lab, prefix)

    build.__doc__ = f"Write lab {spec.lab}'s cases into ``folder``; their expectations by name."
    return build
