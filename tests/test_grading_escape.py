"""Escapes from the grader, under both install layouts an instructor may have.

Lab 00 is graded by ``lab grade`` in a subprocess, once with a Python environment that uid 65534
can read and once with the environment (and the course) under a 0700 folder, each arranged in a
private mount namespace so nothing on this machine changes. The submissions lift every mount,
peek through ``/proc`` of other processes and write into the key, the output and the other
submissions. A case passes only if it earns its full score with a clean answer, nothing outside
its own folder changed (the key and the submissions by content hash, no ``escaped-*`` file and no
written marker anywhere), no byte of a canary planted in the key reached any output, and the
log states the identity the kernel really had.
"""

from __future__ import annotations

import copy
import hashlib
import os
import secrets
import shlex
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from corpus.harness import load_cases, processes_of
from corpus.hostile import ESCAPES, stamp

import lab_helpers
from lab_helpers.grading.isolation import NOBODY_UID, namespaces_available

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")

LAYOUTS = ("readable", "private")
CHECKOUT = Path(lab_helpers.__file__).resolve().parent.parent
CLEAN = "nothing readable"


def _traversable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXOTH)


def _closed_ancestor(path: Path) -> Path | None:
    """The topmost folder on ``path`` that other users cannot pass through, if any."""
    for folder in [*reversed(path.parents), path]:
        if not _traversable(folder):
            return folder
    return None


def _readable_layout(root: Path) -> tuple[list[str], str]:
    """Shell lines making every folder this Python needs passable by all, and the python to run."""
    needed = sorted({Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, CHECKOUT)})
    lines, covered = [], set()
    for i, path in enumerate(needed):
        closed = _closed_ancestor(path)
        if closed is None:
            continue
        stash = root / "stash" / str(i)
        lines += [f"mkdir -p {stash}", f"mount --bind {shlex.quote(str(path))} {stash}"]
        if closed not in covered:  # an open tmpfs over the private folder, the needed tree bound back into it
            lines.append(f"mount -t tmpfs -o mode=755 layout {shlex.quote(str(closed))}")
            covered.add(closed)
        lines += [f"mkdir -p {shlex.quote(str(path))}", f"mount --bind {stash} {shlex.quote(str(path))}"]
    return lines, str(Path(sys.prefix) / "bin" / "python")


def _private_layout(root: Path) -> tuple[list[str], str]:
    """The venv and the course under a 0700 folder, as a venv under root's own home is."""
    private = root / "private"
    private.mkdir(mode=0o700)
    venv, course = private / "venv", private / "course"
    lines = [
        f"mkdir {venv} {course}",
        f"mount --bind {shlex.quote(sys.prefix)} {venv}",
        f"mount --bind {shlex.quote(str(CHECKOUT))} {course}",
    ]
    site = Path(next(p for p in sys.path if p.startswith(sys.prefix) and p.endswith("site-packages")))
    rewritten = root / "rewritten"
    rewritten.mkdir()
    for entry in site.iterdir():  # the editable install names the checkout: point it at the private copy
        if entry.is_file() and entry.suffix in (".pth", ".py") and str(CHECKOUT) in entry.read_text(errors="replace"):
            copy_ = rewritten / entry.name
            copy_.write_text(entry.read_text().replace(str(CHECKOUT), str(course)))
            target = venv / entry.relative_to(sys.prefix)
            lines.append(f"mount --bind {copy_} {shlex.quote(str(target))}")
    return lines, str(venv / "bin" / "python")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _build(root: Path, prefix: str) -> tuple[Path, Path, dict[str, str], str]:
    import nbformat

    from lab_helpers.grading.release import release
    from lab_helpers.paths import labs_dir

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["00"], root / "release")
    key, out, subs = root / "release" / "key", root / "out", root / "submissions"
    canary = "CANARY" + secrets.token_hex(16)
    (rel.key_dir / "canary.txt").write_text(canary)
    hidden = rel.key_dir / "hidden.py"
    hidden.write_text(hidden.read_text() + f"\n# {canary}\n")
    cases = load_cases("00")
    learner = nbformat.read(rel.learner_path, as_version=4)
    targets = [
        str(rel.key_dir),
        str(key),
        str(labs_dir()),
        str(out),
        str(out / "feedback"),
        str(out / "logs"),
        str(subs),
        str(root / "release"),
    ]
    subs.mkdir()
    names = {}
    for name in ("correct", *ESCAPES):
        nb = copy.deepcopy(learner)
        cases._right(nb)
        if name in ESCAPES:
            cases._answer(nb, cases.WHY, ESCAPES[name](targets, "why_separate", repr(CLEAN)))
        stamp(nb, prefix + name, rel.version, "00")
        nbformat.write(nb, subs / f"{name}.ipynb")
        names[name] = prefix + name
    return key, out, names, canary


@pytest.fixture(scope="module", params=LAYOUTS)
def escaped(request, tmp_path_factory):
    layout = request.param
    root = tmp_path_factory.mktemp(f"escape-{layout}")
    prefix = f"esc{secrets.token_hex(3)}-"
    key, out, names, canary = _build(root, prefix)
    before = {"key": _hashes(key), "submissions": _hashes(root / "submissions")}
    lines, python = (_readable_layout if layout == "readable" else _private_layout)(root)
    probe = (
        f"setpriv --reuid {NOBODY_UID} --regid {NOBODY_UID} --clear-groups {python} -c 'import lab_helpers, ipykernel'"
    )
    grade = [
        python,
        "-m",
        "lab_helpers",
        "grade",
        "--lab",
        "00",
        "--key",
        str(key),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--cell-timeout",
        "20",
        "--notebook-timeout",
        "60",
        "--memory-mb",
        "1024",
        "--quiet",
        str(root / "submissions"),
    ]
    script = "\n".join(
        [
            "set -e",
            *lines,
            f"if {probe} 2>/dev/null; then echo 'layout: nobody can run python'; "
            "else echo 'layout: nobody cannot run python'; fi",
            f"{python} -c 'import lab_helpers, sys; print(\"layout: course at\", lab_helpers.__file__, sys.prefix)'",
            " ".join(shlex.quote(a) for a in grade),
        ]
    )
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["LAB_SANDBOX_BOOT_S"] = "0.5"
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    return {
        "layout": layout,
        "root": root,
        "key": key,
        "out": out,
        "names": names,
        "canary": canary,
        "before": before,
        "run": run,
        "prefix": prefix,
    }


def test_the_layout_is_the_one_claimed(escaped):
    run = escaped["run"]
    assert run.returncode == 0, run.stderr[-2000:]
    if escaped["layout"] == "private":
        assert "layout: nobody cannot run python" in run.stdout
        assert f"{escaped['root'] / 'private' / 'course'}" in run.stdout  # the course itself is under the 0700 folder
    elif all(_closed_ancestor(Path(os.path.realpath(p))) is None for p in (sys.prefix, sys.base_prefix)):
        assert "layout: nobody can run python" in run.stdout
    else:
        assert "layout: nobody can run python" in run.stdout, "the open layout was not made"


def test_every_escape_gets_full_marks_with_a_clean_answer(escaped):
    from lab_helpers.grading.gradebook import Gradebook

    assert escaped["run"].returncode == 0, escaped["run"].stderr[-2000:]
    book = Gradebook.load(escaped["out"])
    grades = {g.learner: g for g in book.grades}
    for name, learner in escaped["names"].items():
        g = grades[learner]
        assert g.problems == [], (name, g.problems)
        assert g.score == 5, (name, [(line.column, line.earned) for line in g.lines])
        assert g.answers["00.why-separate"]["answer"] == (
            CLEAN if name in ESCAPES else "Compute is disposable; data outlives it in volumes and buckets."
        ), name


def test_nothing_was_written_outside_the_submissions_own_folder(escaped):
    root = escaped["root"]
    assert _hashes(escaped["key"]) == escaped["before"]["key"]
    assert _hashes(root / "submissions") == escaped["before"]["submissions"]
    escapes = [p for p in root.rglob("escaped-*")] + [p for p in Path("/tmp").glob("escaped-*")]
    assert escapes == []
    marked = [p for p in root.rglob("*") if p.is_file() and "stash" not in p.parts and b"ESCAPED" in p.read_bytes()]
    assert marked == []


def test_no_key_byte_reached_any_output(escaped):
    canary = escaped["canary"].encode()
    files = [p for p in escaped["out"].rglob("*") if p.is_file()]
    assert any(p.name == "executed.ipynb" for p in files) and any(p.suffix == ".html" for p in files)
    assert [p for p in files if canary in p.read_bytes()] == []


def test_the_log_states_what_each_kernel_really_had(escaped):
    log = (escaped["out"] / "grading.log").read_text()
    assert "isolated: own network (loopback only)" in log and "fresh minimal root" in log
    kernels = [line for line in log.splitlines() if " kernel of " in line]
    assert len(kernels) == len(escaped["names"])
    for line in kernels:
        assert ": unprivileged: uid 65534 (euid 65534), gid 65534, groups none" in line, line
        for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"):
            assert f"{cap} 0000000000000000" in line, line
        assert "NoNewPrivs 1" in line and "/ holds " in line
        holds = set(line.split("/ holds ")[1].split())
        allowed = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "sys", "dev", "proc", "tmp"}
        allowed |= {Path(os.path.realpath(p)).parts[1] for p in (sys.prefix, sys.base_prefix, CHECKOUT)}
        assert holds <= allowed, holds - allowed  # a minimal root: no /home, /var, /srv, /mnt of the machine


def test_no_process_of_the_batch_is_left(escaped):
    assert processes_of(escaped["prefix"]) == []
