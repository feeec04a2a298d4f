"""Isolation and limits for one submission's execution.

Each submission runs as its own process tree in fresh Linux namespaces (``unshare``, util-linux):

- network: a new network namespace with only ``lo`` up, so the kernel's ZMQ ports and a per-submission
  sandbox cloud on 127.0.0.1 work and nothing else is reachable;
- pid: the executor is PID 1 of its namespace, so killing it (the notebook time limit) ends the
  kernel and everything it started, with no orphan left behind (papermill#125);
- mount: the key, the grading output and the other submissions are covered by empty tmpfs
  mounts, so the kernel cannot read hidden checks or another learner's work.

The kernel itself runs under ``resource`` limits (address space, file size, processes) and, when
the grader is root, as an unprivileged user that cannot undo those mounts or read root's files.
Without namespaces the grader refuses unless the instructor passes ``--allow-network``.
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
        return (f"{self.cell_s:g} s per cell, {self.notebook_s:g} s per notebook, {self.memory_mb} MB memory, "
                f"{self.output_kb} KB output")


@dataclass(frozen=True)
class Isolation:
    namespaces: bool
    drop_to_uid: int | None
    reason: str  # why namespaces are off, or "" when on

    def describe(self) -> str:
        if self.namespaces:
            who = (f"kernel as uid {self.drop_to_uid}" if self.drop_to_uid is not None else
                   "kernel as the grader's user (uid 65534 cannot run this Python: install Python where other "
                   "users can read it, e.g. not under a private home, so the kernel can drop root)" if os.geteuid() == 0 else "kernel as the grader's user")
            return f"isolated: own network (loopback only), pid and mount namespaces per submission; {who}"
        return f"NOT isolated ({self.reason}): submissions can reach the network and the grader's files"


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
    try:
        probe = subprocess.run([*namespace_prefix(), "ip", "link", "set", "lo", "up"],
                               capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"unshare failed: {exc}"
    if probe.returncode != 0:
        return False, f"unshare failed: {probe.stderr.strip() or probe.returncode}"
    return True, ""


@lru_cache(maxsize=1)
def unprivileged_python_works() -> bool:
    """Whether uid 65534 can run this interpreter with the course importable (not when it lives under /root)."""
    try:
        probe = subprocess.run([sys.executable, "-c", "import lab_helpers, ipykernel"], user=NOBODY_UID,
                               group=NOBODY_UID, extra_groups=[], capture_output=True, timeout=60, cwd="/", check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def namespace_prefix() -> list[str]:
    return ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc"]


def choose_isolation(allow_network: bool) -> Isolation:
    ok, reason = namespaces_available()
    if ok:
        if os.geteuid() == 0 and unprivileged_python_works():
            return Isolation(True, NOBODY_UID, "")
        return Isolation(True, None, "")
    if not allow_network:
        raise MissingPiece(f"cannot isolate submissions: {reason}.",
                           hint="Grade as root on Linux with util-linux and iproute2, or pass --allow-network "
                                "to grade without isolation (the log records it).")
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


def mask(paths: list[Path]) -> None:
    """Inside the worker's mount namespace: cover each path with an empty, unreadable tmpfs."""
    for path in paths:
        if not path.is_dir():  # already covered by an earlier mount
            continue
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k,mode=000", "grader-mask", str(path)], check=True)


def loopback_up() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
