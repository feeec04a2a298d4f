"""Isolation: refuse without namespaces unless told; limits in the kernel launcher; masking rules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lab_helpers.errors import MissingPiece
from lab_helpers.grading import isolation
from lab_helpers.grading.isolation import Limits, choose_isolation, masked_paths


def test_grading_refuses_without_namespaces_unless_allowed(monkeypatch):
    monkeypatch.setattr(isolation, "namespaces_available", lambda: (False, "making network namespaces needs root"))
    monkeypatch.setattr(isolation, "_is_root", lambda: False)
    with pytest.raises(MissingPiece) as info:
        choose_isolation(allow_network=False)
    assert "needs root" in str(info.value) and "--allow-network" in info.value.hint
    chosen = choose_isolation(allow_network=True)
    assert not chosen.namespaces and "NOT isolated" in chosen.describe()
    assert chosen.drop_to_uid is None


def test_root_without_namespaces_drops_the_kernel_or_refuses(monkeypatch):
    """--allow-network as root: the kernel still never runs as root."""
    monkeypatch.setattr(isolation, "namespaces_available", lambda: (False, "unshare failed: Operation not permitted"))
    monkeypatch.setattr(isolation, "_is_root", lambda: True)
    monkeypatch.setattr(isolation, "unprivileged_python_works", lambda: True)
    chosen = choose_isolation(allow_network=True)
    assert not chosen.namespaces and chosen.drop_to_uid == isolation.NOBODY_UID
    assert "uid 65534 with no capabilities" in chosen.describe()
    monkeypatch.setattr(isolation, "unprivileged_python_works", lambda: False)
    with pytest.raises(MissingPiece) as info:
        choose_isolation(allow_network=True)
    assert "never runs as root" in str(info.value) and "all users can read it" in info.value.hint


def test_isolated_grading_refuses_when_the_jail_cannot_be_made(monkeypatch):
    monkeypatch.setattr(isolation, "namespaces_available", lambda: (True, ""))
    monkeypatch.setattr(isolation, "jail_works", lambda: (False, "PermissionError: [Errno 13] Permission denied"))
    with pytest.raises(MissingPiece) as info:
        choose_isolation(allow_network=True)  # never falls back to a privileged kernel, even when allowed
    assert "unprivileged kernel" in str(info.value) and "o+rX" in info.value.hint


def test_masking_never_hides_the_interpreter_or_the_package(tmp_path):
    venv = tmp_path / "venv"
    (venv / "lib").mkdir(parents=True)
    key = tmp_path / "rel" / "key"
    (key / "00-x").mkdir(parents=True)
    subs = tmp_path / "subs"
    subs.mkdir()
    chosen = masked_paths([key, key / "00-x", tmp_path, subs, tmp_path / "missing"], keep=[venv / "lib"])
    assert chosen == [key.resolve(), subs.resolve()]  # tmp_path holds the venv; key/00-x is inside key


def test_kernel_launcher_applies_the_memory_limit():
    code = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20); bytearray(600 << 20)"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab_helpers.grading.kernel_launcher",
            "--memory-mb",
            "300",
            "--file-mb",
            "1",
            "--processes",
            "64",
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.stdout.strip() == "300"
    assert "MemoryError" in run.stderr


def test_kernel_launcher_applies_the_file_size_limit(tmp_path):
    target = tmp_path / "big"
    code = f"open({str(target)!r}, 'wb').write(b'x' * (3 << 20))"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab_helpers.grading.kernel_launcher",
            "--memory-mb",
            "2048",
            "--file-mb",
            "1",
            "--processes",
            "64",
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert target.stat().st_size <= 1 << 20


@pytest.mark.skipif(not isolation.namespaces_available()[0], reason="no namespaces here")
def test_inside_the_namespace_only_loopback_exists():
    code = (
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); port = s.getsockname()[1]\n"
        "c = socket.create_connection(('127.0.0.1', port), timeout=2); print('loopback ok')\n"
        "try:\n    socket.create_connection(('10.255.255.1', 80), timeout=2)\nexcept OSError as e:\n    print(e.errno)"
    )
    run = subprocess.run(
        [*isolation.namespace_prefix(), "sh", "-c", f'ip link set lo up && {sys.executable} -c "$0"', code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.stdout.split() == ["loopback", "ok", "101"], run.stderr


def test_limits_describe_names_every_limit():
    text = Limits(cell_s=5, notebook_s=20, memory_mb=512, output_kb=64).describe()
    assert text == "5 s per cell, 20 s per notebook, 512 MB memory, 64 KB output"


def test_grading_without_isolation_when_allowed_still_grades(tmp_path, monkeypatch):
    """--allow-network: no namespaces, recorded in the log, and the grade is still right."""
    import warnings

    import nbformat

    from lab_helpers.grading.batch import grade
    from lab_helpers.grading.release import release

    monkeypatch.setattr(isolation, "namespaces_available", lambda: (False, "pretend: not root"))
    monkeypatch.setattr(isolation, "_is_root", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["00"], tmp_path / "rel")
    nb = nbformat.read(rel.learner_path, as_version=4)
    next(c for c in nb.cells if c.get("id") == "fc289867").source = "a40_count = 400"
    sub = tmp_path / "subs" / "solo.ipynb"
    sub.parent.mkdir()
    nbformat.write(nb, sub)
    book = grade(
        "00",
        tmp_path / "rel" / "key",
        tmp_path / "out",
        [str(sub)],
        limits=Limits(cell_s=20, notebook_s=60),
        allow_network=True,
        progress=False,
    )
    (g,) = book.grades
    assert g.score == 2 and "not stamped" in " ".join(g.flags)
    log = (tmp_path / "out" / "grading.log").read_text()
    assert "NOT isolated" in log and "WARNING: grading without isolation" in log


def _jailed(
    tmp_path, code: str, *, masks: list[str] | None = None, extra_ro: list[str] | None = None, base: str | None = None
) -> subprocess.CompletedProcess:
    """Run ``code`` as the kernel is run: in the namespaces, through the launcher, in a fresh root as uid 65534."""
    import os

    from lab_helpers.grading.jail import JailSpec, environment_paths

    tmp_path.chmod(0o711)
    run = tmp_path / "run"
    run.mkdir()
    os.chown(run, isolation.NOBODY_UID, isolation.NOBODY_UID)
    base_dir = tmp_path / "base"
    base_dir.mkdir(mode=0o700)
    ro, empty = environment_paths()
    spec = JailSpec(base or str(base_dir), ro + (extra_ro or []), [str(run)], empty, masks or [])
    spec.save(base_dir / "jail.json")
    # a root process shares the pid namespace, as the worker does with the kernel
    return subprocess.run(
        [
            *isolation.namespace_prefix(),
            "sh",
            "-c",
            'sleep 20 & exec "$@"',
            "sh",
            sys.executable,
            "-m",
            "lab_helpers.grading.kernel_launcher",
            "--jail",
            str(base_dir / "jail.json"),
            "--uid",
            str(isolation.NOBODY_UID),
            "--home",
            str(run),
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=run,
        check=False,
    )


needs_namespaces = pytest.mark.skipif(not isolation.namespaces_available()[0], reason="no namespaces here")


@needs_namespaces
def test_the_jailed_process_has_no_privilege_and_sees_only_a_minimal_root(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.json").write_text("{}")
    code = (
        "import json, os\nfrom lab_helpers.grading.jail import identity\n"
        f"print(json.dumps(dict(identity(), root=sorted(os.listdir('/')), secret=os.path.exists({str(secret)!r}), "
        "cwd=os.getcwd(), procs=sorted(p for p in os.listdir('/proc') if p.isdigit()))))"
    )
    run = _jailed(tmp_path, code)
    assert run.returncode == 0, run.stderr
    import json

    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert (seen["uid"], seen["euid"], seen["gid"], seen["groups"]) == (65534, 65534, 65534, [])
    assert {seen[c] for c in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")} == {"0000000000000000"}
    assert seen["NoNewPrivs"] == "1"
    assert not seen["secret"] and "home" not in seen["root"] and "tmp" in seen["root"]
    assert seen["cwd"] == str(tmp_path / "run")
    assert seen["procs"] == ["1"]  # root's process (pid 2, like the worker) is hidden; only itself is left


@needs_namespaces
def test_unmounting_from_inside_uncovers_nothing(tmp_path):
    """A key kept inside a folder the jail binds is masked; the mask and every other mount stay put."""
    env = tmp_path / "env"
    (env / "key").mkdir(parents=True)
    (env / "key" / "hidden.py").write_text("SECRET = 1")
    code = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nlifted = 0\n"
        "for _ in range(3):\n"
        "    for line in open('/proc/self/mountinfo'):\n"
        "        lifted += libc.umount2(line.split()[4].encode(), 2) == 0\n"
        f"try:\n    print(os.listdir({str(env / 'key')!r}))\nexcept OSError as exc:\n    print('denied', exc.errno)\n"
        "print('lifted', lifted)"
    )
    run = _jailed(tmp_path, code, masks=[str(env / "key")], extra_ro=[str(env)])
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["denied", "13", "lifted", "0"]


@needs_namespaces
def test_the_launcher_refuses_to_run_anything_when_the_jail_cannot_be_made(tmp_path):
    (tmp_path / "not-a-folder").write_text("")
    run = _jailed(tmp_path, "print('ran')", base=str(tmp_path / "not-a-folder"))
    assert run.returncode == 70 and "ran" not in run.stdout
    assert "refusing to start" in run.stderr
