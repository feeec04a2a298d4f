"""Isolation and limits for one submission's execution.

Each submission runs as its own process tree in fresh Linux namespaces (``unshare``, util-linux):

- network: a new network namespace with only ``lo`` up, so the kernel's ZMQ ports and a per-submission
  sandbox cloud on 127.0.0.1 work and nothing else is reachable;
- pid: the executor is PID 1 of its namespace, so killing it (the notebook time limit) ends the
  kernel and everything it started, with no orphan left behind (papermill#125);
- mount: the kernel and the submission's sandbox cloud each run in a fresh minimal root
  (:mod:`.jail`) that holds, read-only, the system folders and the Python environment at their own
  paths and the grader's verified kubectl and helm (``LAB_TOOLS_DIR``), plus the submission's own
  folder, a tmpfs and a devpts instance of its own for terminal cells. The key, the grading output, ``labs/`` and
  the other submissions are not in it at all, so there is no mask to lift.

The kernel runs under ``resource`` limits (address space, file size, processes) as uid 65534 with
no capabilities in any set and ``no_new_privs``, whatever the install layout: an environment under
root's private home is bound into the new root where that uid can read it. The kernel reports its
uid and capability sets back before any learner cell runs, and ``grading.log`` records them.
Without namespaces the grader refuses unless the instructor passes ``--allow-network``; even then
a root grader drops the kernel to uid 65534 or refuses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import MissingPiece

NOBODY_UID = 65534


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; the defaults suit a lab that runs in well under a minute."""

    cell_s: float = 60.0  # one cell's wall time; the kernel is interrupted, later cells still run
    notebook_s: float = 300.0  # the whole execution; the process tree is killed
    memory_mb: int = 2048  # the kernel's address space (RLIMIT_AS)
    output_kb: int = 1024  # outputs kept per notebook; the rest is dropped
    file_mb: int = 256  # the largest file the kernel may write (RLIMIT_FSIZE)
    processes: int = 512  # processes and threads of the kernel's user (RLIMIT_NPROC)
    probe_s: float = 30.0  # one state probe's wall time; a probe that hangs scores 0 with a note

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"{self.cell_s:g} s per cell, {self.notebook_s:g} s per notebook, {self.memory_mb} MB memory, "
            f"{self.output_kb} KB output"
        )


@dataclass(frozen=True)
class Isolation:
    namespaces: bool
    drop_to_uid: int | None
    reason: str  # why namespaces are off, or "" when on
    identity: str = ""  # what a probe kernel really had, read back from inside it
    user_namespace: bool = False  # namespaces made by an unprivileged user (a grader inside a pod)

    def describe(self) -> str:
        who = (
            f"kernel as uid {self.drop_to_uid} with no capabilities and no_new_privs"
            if self.drop_to_uid is not None
            else "kernel as the grader's (unprivileged) user"
        )
        if self.namespaces:
            probe = f" (probe kernel: {self.identity})" if self.identity else ""
            return (
                f"isolated: own network (loopback only), pid and mount namespaces per submission; "
                f"{who} in a fresh minimal root{probe}"
            )
        return f"NOT isolated ({self.reason}): submissions can reach the network and the grader's files; {who}"


def _is_root() -> bool:
    return os.geteuid() == 0


@lru_cache(maxsize=1)
def namespaces_available() -> tuple[bool, str]:
    """(True, "") when a network, pid and mount namespace with ``lo`` up can be made here."""
    if not sys.platform.startswith("linux"):
        return False, f"namespaces need Linux, this is {sys.platform}"
    for tool in ("unshare", "ip", "mount"):
        if shutil.which(tool) is None:
            return False, f"`{tool}` is not on PATH (install util-linux and iproute2)"
    if os.geteuid() != 0:
        return False, "making network and mount namespaces needs root"
    return loopback_in_namespaces(user=False)


def loopback_in_namespaces(*, user: bool) -> tuple[bool, str]:
    """(True, "") when namespaces (inside a user namespace first, with ``user``) can be made and their
    ``lo`` brought up, by trying it; else (False, what unshare said)."""
    what = "unshare --user" if user else "unshare"
    try:
        probe = subprocess.run(
            [*namespace_prefix(user=user), "ip", "link", "set", "lo", "up"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{what} failed: {exc}"
    if probe.returncode != 0:
        return False, f"{what} failed: {probe.stderr.strip() or probe.returncode}"
    return True, ""


@lru_cache(maxsize=1)
def unprivileged_python_works() -> bool:
    """Whether uid 65534 can run this interpreter with the course importable (not when it lives under /root)."""
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import lab_helpers, ipykernel"],
            user=NOBODY_UID,
            group=NOBODY_UID,
            extra_groups=[],
            capture_output=True,
            timeout=60,
            cwd="/",
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _probe_jail(user: bool = False) -> tuple[bool, str]:
    """Start a throwaway process exactly as a kernel is started; (True, its identity) or (False, why)."""
    import json
    import tempfile

    from .jail import JailSpec, describe_identity, environment_paths, privileges_left

    root = Path(tempfile.mkdtemp(prefix="lab-grade-probe-"))
    try:
        root.chmod(0o711)
        base, run = root / "base", root / "run"
        base.mkdir(mode=0o700)
        run.mkdir()
        if not user:  # an unprivileged grader's own folder is already its kernel's
            os.chown(run, NOBODY_UID, NOBODY_UID)
        ro, empty = environment_paths()
        JailSpec(str(base), ro, [str(run)], empty).save(base / "jail.json")
        code = (
            "import json, lab_helpers, ipykernel; from lab_helpers.grading.jail import identity; "
            "print(json.dumps(identity()))"
        )
        command = [
            *namespace_prefix(user),
            sys.executable,
            "-m",
            "lab_helpers.grading.kernel_launcher",
            "--jail",
            str(base / "jail.json"),
            "--uid",
            str(NOBODY_UID),
            "--home",
            str(run),
            "--",
            sys.executable,
            "-c",
            code,
        ]
        probe = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=str(run), check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if probe.returncode != 0:
        lines = [line for line in probe.stderr.strip().splitlines() if line.strip()]
        return False, (lines[-1] if lines else f"exit {probe.returncode}")[:300]
    try:
        ident = json.loads(probe.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"the probe printed no identity: {probe.stdout[-200:]!r}"
    left = privileges_left(ident)
    if left:
        return False, "the probe kernel kept privileges: " + ", ".join(left)
    return True, describe_identity(ident)


@lru_cache(maxsize=2)
def jail_works(user: bool = False) -> tuple[bool, str]:
    return _probe_jail(user)


def namespace_prefix(user: bool = False) -> list[str]:
    """``unshare`` for one submission; ``user``: an unprivileged grader first makes a user namespace."""
    first = ["--user", "--map-root-user"] if user else []
    return ["unshare", *first, "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc"]


def choose_isolation(allow_network: bool) -> Isolation:
    ok, reason = namespaces_available()
    if ok:
        jailed, detail = jail_works()
        if not jailed:
            raise MissingPiece(
                f"cannot start an unprivileged kernel in a fresh root: {detail}.",
                hint="Make the Python environment's files readable by all users (chmod -R o+rX on "
                "the venv and the interpreter), or pass --allow-network to grade as a non-root user "
                "without isolation.",
            )
        return Isolation(True, NOBODY_UID, "", identity=detail)
    if not allow_network:
        raise MissingPiece(
            f"cannot isolate submissions: {reason}.",
            hint="Grade as root on Linux with util-linux and iproute2, or pass --allow-network "
            "to grade without isolation (the log records it).",
        )
    if _is_root():
        if unprivileged_python_works():
            return Isolation(False, NOBODY_UID, reason)
        raise MissingPiece(
            "cannot grade as root without namespaces: uid 65534 cannot run this Python, and a kernel "
            "never runs as root.",
            hint="Grade as an ordinary user with --allow-network, or install the environment where all "
            "users can read it (not under a private home).",
        )
    return Isolation(False, None, reason)


def masked_paths(candidates: list[Path], keep: list[Path]) -> list[Path]:
    """The candidates that can be covered without hiding anything in ``keep`` (the venv, the package)."""
    chosen: list[Path] = []
    keep = [k.resolve() for k in keep]
    for path in candidates:
        path = path.resolve()
        if not path.is_dir() or path == Path("/"):
            continue
        if any(k == path or path in k.parents for k in keep):
            continue
        if path not in chosen:
            chosen.append(path)
    # covering a folder covers what is inside it; mounting on a path already covered would fail
    return [p for p in chosen if not any(other in p.parents for other in chosen)]


def loopback_up() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
