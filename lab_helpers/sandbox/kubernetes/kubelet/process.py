"""Containers as processes: each is started through its own shim (``shim.py``), which keeps its
log and its exit code even while the sandbox service is down.

What isolation the machine allows is found once, by trying it (:func:`isolation`): ``root``
(namespaces, the pod's user, an overlay root), ``userns`` (the same inside a user namespace) or
``none`` (plain processes in the host's filesystem). The kubelet says which in each pod's
``sandbox.visualizing-compute/simulated`` annotation and in the node's ``nodeInfo``.

Every container has a folder ``pods/<uid>/containers/<name>/`` holding ``<n>.log`` (instance n,
that is after n restarts), ``<n>.json`` (the shim's state: pids, exit code, times) and
``<n>.spec.json``. A kubelet that starts after a crash of the service finds the shims of the
previous one through these files, stops their containers, and starts them again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SHIM = Path(__file__).resolve().parent / "shim.py"
NOBODY = 65534
SIMULATED_KEY = "sandbox.visualizing-compute/simulated"  # what is simulated, on pods and nodes


@dataclass(frozen=True)
class Isolation:
    mode: str  # "root", "userns" or "none"
    why: str = ""  # why namespaces are not used ("" when they are)

    @property
    def own_root(self) -> bool:
        return self.mode in ("root", "userns")

    def summary(self) -> str:
        """The pod annotation: short enough for ``kubectl describe`` to show whole (140 characters)."""
        if self.mode == "root":
            return "processes with own pid, mount and hostname namespaces; loopback pod IP; no image layers; limits not enforced"
        if self.mode == "userns":
            return "processes in a user namespace (own pid, mount, hostname); loopback pod IP; no image layers; limits not enforced"
        return "plain processes in the host's files (mount paths mapped); loopback pod IP; no image layers; limits not enforced"

    def describe(self) -> str:
        """What is real and what is simulated, for the pod annotation and ``kubectl describe``."""
        common = (
            "containers are local processes (no image layers: the registry's images run the host's tools and "
            "Python stand-ins); pod IPs are loopback addresses on the host's network; resource requests and "
            "limits are not enforced"
        )
        if self.mode == "root":
            return (
                f"{common}. Each container has its own pid, mount and hostname namespaces, a copy-on-write root "
                "of the host's system folders with its volumes at their mount paths and an /etc/hosts naming the "
                "Services, and runs as its runAsUser (65534 when none is given)."
            )
        if self.mode == "userns":
            return (
                f"{common}. Each container has its own user, pid, mount and hostname namespaces, a copy-on-write "
                "root with its volumes at their mount paths and an /etc/hosts naming the Services; it runs as the "
                "sandbox's own user (runAsUser is not applied)."
            )
        return (
            f"{common}. This machine gives containers no namespaces ({self.why}): they run in the host's "
            "filesystem as the sandbox's own user; mount paths are mapped to the volumes' folders "
            "(LAB_PATH_MAP, and rewritten in the command line) and Service names do not resolve (use the "
            "<SVC>_SERVICE_HOST variables)."
        )


def python() -> str:
    """The interpreter that runs shims (and the registry's Python stand-ins, in their own root)."""
    return os.path.realpath(sys.executable)


def others_can_run(path: str) -> bool:
    """Whether a user other than the owner may execute ``path`` (every folder above it searchable)."""
    try:
        if not os.stat(path).st_mode & 0o001:
            return False
        return all(os.stat(p).st_mode & 0o001 for p in Path(path).parents)
    except OSError:
        return False


def image_python(own_root: bool) -> str:
    """The interpreter for the registry's Python stand-ins: this one, which a container with its own root
    sees at its own path; without one, a root service's containers run as uid 65534 and need one that
    user may run (this one when it can, else the system's ``python3``)."""
    mine = python()
    if own_root or os.geteuid() != 0 or others_can_run(mine):
        return mine
    import shutil

    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3") or ""):
        if candidate and others_can_run(os.path.realpath(candidate)):
            return os.path.realpath(candidate)
    return mine


FORCE_FILE = "isolation"  # kubelet/isolation holding "none": no namespaces (tests of the fallback)


@lru_cache(maxsize=4)
def isolation(kubelet_dir: Path) -> Isolation:
    """What this machine allows, found by starting a throwaway container; ``none`` when the file
    ``kubelet/isolation`` of the sandbox says so (how tests exercise machines without namespaces)."""
    try:
        forced = (kubelet_dir / FORCE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        forced = ""
    if forced == "none":
        return Isolation("none", f"{kubelet_dir / FORCE_FILE} says none")
    try:
        done = subprocess.run(
            [python(), "-I", "-S", str(SHIM), "--probe"], capture_output=True, text=True, timeout=30, check=False
        )
        answer = json.loads(done.stdout or "{}")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return Isolation("none", f"the probe failed: {exc}")
    return Isolation(answer.get("isolation", "none"), answer.get("why", ""))


def open_path(folder: Path) -> None:
    """Let other users pass through every folder above ``folder`` (search permission only): without
    their own root, containers of a root service run as uid 65534 in folders under the state
    directory, which may sit in a private one (a test's temporary folder)."""
    for parent in [folder, *folder.parents]:
        try:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, (mode & 0o7777) | 0o001)
        except OSError:
            return


class Process:
    """One instance of a container, as its shim reports it."""

    def __init__(self, folder: Path, instance: int) -> None:
        self.folder = folder
        self.instance = instance
        self.popen: subprocess.Popen[bytes] | None = None
        self.exited = threading.Event()

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.instance}.log"

    @property
    def state_path(self) -> Path:
        return self.folder / f"{self.instance}.json"

    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def start(self, spec: dict[str, Any], on_exit: threading.Event) -> None:
        """Start the shim and return once the container's process exists (or failed to start)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        spec = dict(spec, log=str(self.log_path), state=str(self.state_path))
        spec_path = self.folder / f"{self.instance}.spec.json"
        fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(spec, fh)
        self.state_path.unlink(missing_ok=True)
        self.log_path.touch()
        self.popen = subprocess.Popen(
            [python(), "-I", "-S", str(SHIM), str(spec_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "shim.err", "ab"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
            close_fds=True,
        )
        popen = self.popen

        def wait() -> None:
            popen.wait()
            self.exited.set()
            on_exit.set()

        threading.Thread(target=wait, name=f"shim-{self.folder.name}", daemon=True).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.exited.is_set():
            if self.state():
                return
            time.sleep(0.005)

    @property
    def pid(self) -> int | None:
        pid = self.state().get("pid")
        return int(pid) if pid else None

    def running(self) -> bool:
        return not self.exited.is_set() and bool(self.state().get("running"))

    def signal(self, sig: int, whole_group: bool) -> None:
        """Send ``sig`` to the container's first process (as a runtime does), or to its whole process group."""
        pid = self.pid
        if pid is None or pid <= 1 or self.exited.is_set():  # never the machine's init, nor "every process"
            return
        try:
            if whole_group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except OSError:
            pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL, whole_group=True)

    def wait(self, timeout: float) -> bool:
        return self.exited.wait(timeout)


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (psutil reads it on Linux, macOS and Windows), to tell a pid of ours
    from a reused one; None when it cannot be read."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError, ValueError):
        return None


def _ours(pid: int, started: float | None) -> bool:
    """Whether ``pid`` is alive and is the process a shim recorded, not another one with its number.
    A pid whose start time is unknown, here or in the state file, is never ours: signalling its group
    could end a stranger's processes, while a leftover of ours that is spared only keeps running."""
    if not _alive(pid):
        return False
    when = _started_at(pid)
    return when is not None and started is not None and abs(when - started) < 5.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def stop_leftovers(pods_dir: Path) -> list[tuple[str, str, int]]:
    """Kill the containers a previous run of the service left running (it was killed, not stopped);
    returns (pod uid, container, instance) of each one found, for the restart count."""
    found: list[tuple[str, str, int]] = []
    if not pods_dir.is_dir():
        return found
    for state_path in pods_dir.glob("*/containers/*/*.json"):
        if state_path.name.endswith(".spec.json"):
            continue
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not state.get("running"):
            continue
        started = state.get("startedAt")
        for key in ("pid", "shim"):
            pid = state.get(key)
            if pid and int(pid) > 1 and _ours(int(pid), float(started) if started else None):
                try:
                    os.killpg(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        shim = state.get("shim")
        deadline = time.monotonic() + 5
        while shim and _ours(int(shim), float(started) if started else None) and time.monotonic() < deadline:
            time.sleep(0.02)
        state.update(running=False, exitCode=137, signal="signal 9", finishedAt=time.time(), reason="Error")
        state_path.write_text(json.dumps(state), encoding="utf-8")
        uid, name = state_path.parent.parent.parent.name, state_path.parent.name
        found.append((uid, name, int(state_path.stem)))
    return found
