"""Running a command inside a running container, as ``kubectl exec`` and exec probes do: in the
container's namespaces and root (through the shim's ``--exec``), as its user, with its
environment; where containers have no namespaces of their own, in the host's files with the
container's paths mapped. ``in_process`` is one-shot, for exec probes (the command's stdin, stdout
and stderr are bytes); ``start`` is for streaming sessions (``kubectl exec -i``/``-it``): the command runs
in a session of its own with pipes, or a pseudo-terminal, whose ends the caller reads and writes
while it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import status
from . import process, terminal
from .logs import pods_dir
from .volumes import map_paths


@dataclass
class Result:
    code: int
    stdout: bytes
    stderr: bytes


def in_process(proc: process.Process, argv: list[str], timeout: float, stdin: bytes | None = None) -> Result:
    """Run ``argv`` in the container instance ``proc`` (which must be running)."""
    try:
        spec: dict[str, Any] = json.loads((proc.folder / f"{proc.instance}.spec.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Result(1, b"", b"the container's spec is gone\n")
    if spec.get("isolation") not in ("root", "userns"):
        mapping = [(str(m[0]), str(m[1])) for m in json.loads(spec["env"].get("LAB_PATH_MAP") or "[]")]
        argv = [map_paths(a, mapping) for a in argv]
        try:
            done = subprocess.run(
                argv,
                env=spec["env"],
                cwd=spec.get("cwd") or "/",
                input=stdin,
                capture_output=True,
                timeout=timeout,
                check=False,
                user=spec.get("uid"),
                group=spec.get("gid"),
                extra_groups=[] if spec.get("uid") is not None else None,
            )
        except FileNotFoundError:
            return Result(127, b"", f'exec: "{argv[0]}": executable file not found in $PATH\n'.encode())
        return Result(done.returncode, done.stdout, done.stderr)
    spec = dict(spec, argv=argv, join=proc.pid)
    path = proc.folder / f"exec-{os.getpid()}-{threading.get_ident()}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    try:
        done = subprocess.run(
            [process.python(), "-I", "-S", str(process.SHIM), "--exec", str(path)],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    return Result(done.returncode, done.stdout, done.stderr)


def running_instance(state_dir: Path, pod: dict[str, Any], container: str) -> process.Process:
    """The running instance of ``container``; the kubelet's 'container not found' otherwise."""
    name = pod["metadata"]["name"]
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    cs = next((c for c in statuses if c.get("name") == container), None)
    if cs is None and not any(
        c.get("name") == container
        for c in (pod.get("spec") or {}).get("containers", []) + ((pod.get("spec") or {}).get("initContainers") or [])
    ):
        raise status.bad_request(f"container {container} is not valid for pod {name}")
    if cs is None or "running" not in (cs.get("state") or {}):
        raise NotRunning(container)
    folder = pods_dir(state_dir) / pod["metadata"].get("uid", "") / "containers" / container
    proc = process.Process(folder, int(cs.get("restartCount") or 0))
    if proc.pid is None:
        raise NotRunning(container)
    return proc


class NotRunning(Exception):
    """The container has no running process: the kubelet refuses the upgrade with
    ``container not found ("NAME")``."""

    def __init__(self, container: str) -> None:
        super().__init__(f'container not found ("{container}")')
        self.container = container


# -- streaming sessions ------------------------------------------------------------------------


@dataclass
class Session:
    """A command started for a streaming exec. ``stdin``/``stdout``/``stderr`` are the caller's ends
    (non-blocking file descriptors, None where not asked for; with a terminal, stdin and stdout are
    both its master and there is no stderr). ``failed`` is (exit code, message) when it could not start."""

    popen: subprocess.Popen[bytes] | None
    stdin: int | None
    stdout: int | None
    stderr: int | None
    tty: int | None = None
    spec_file: Path | None = None
    failed: tuple[int, bytes] | None = None
    message_channel: int = 2  # where a start failure is told: stderr, or stdout when there is none
    feeder: threading.Thread | None = None  # attach: copies the container's output into ``stdout``
    ended: threading.Event = field(default_factory=threading.Event)  # set when the session closes
    _closed: set[int] = field(default_factory=set)

    def resize(self, width: int, height: int) -> None:
        if self.tty is not None:
            terminal.resize(self.tty, width, height)

    def close_stdin(self) -> None:
        """The client has no more input: the command reads end-of-file (with a terminal, the
        terminal's end-of-file character, as closing a runtime's TTY stdin does)."""
        if self.stdin is None:
            return
        if self.stdin == self.tty:
            try:
                os.write(self.tty, b"\x04")
            except OSError:
                pass
        else:
            self._close(self.stdin)
        self.stdin = None

    def _close(self, fd: int) -> None:
        if fd in self._closed:
            return
        self._closed.add(fd)
        try:
            os.close(fd)
        except OSError:
            pass

    def exit_code(self, wait: float | None = None) -> int | None:
        if self.failed is not None:
            return self.failed[0]
        if self.popen is None:  # attach: over when the container's output is
            if self.feeder is not None:
                self.feeder.join(wait if wait is not None else 0)
                return None if self.feeder.is_alive() else 0
            return 0
        try:
            return self.popen.wait(wait) if wait is not None else self.popen.poll()
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """End the command and everything it started in its session."""
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        self.ended.set()
        self.kill()
        for fd in (self.stdin, self.stdout, self.stderr, self.tty):
            if fd is not None:
                self._close(fd)
        if self.spec_file is not None:
            self.spec_file.unlink(missing_ok=True)


def start(
    state_dir: Path,
    pod: dict[str, Any],
    container: str,
    argv: list[str],
    *,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
) -> Session:
    """Start ``argv`` in the running ``container`` for a streaming session. Raises ``NotRunning``
    when the container has no running process."""
    proc = running_instance(state_dir, pod, container)
    try:
        spec: dict[str, Any] = json.loads((proc.folder / f"{proc.instance}.spec.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotRunning(container) from None
    isolated = spec.get("isolation") in ("root", "userns")
    spec_file: Path | None = None
    kw: dict[str, Any] = {}
    if isolated:
        spec = dict(spec, argv=argv, join=proc.pid)
        spec_file = proc.folder / f"exec-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.json"
        fd = os.open(spec_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(spec, fh)
        cmd = [process.python(), "-I", "-S", str(process.SHIM), "--exec", str(spec_file)]
        launcher = [process.python(), "-I", "-S", "-c", terminal.CTTY_LAUNCHER, "--shim"]
    else:
        mapping = [(str(m[0]), str(m[1])) for m in json.loads(spec["env"].get("LAB_PATH_MAP") or "[]")]
        cmd = [map_paths(a, mapping) for a in argv]
        launcher = [process.python(), "-I", "-S", "-c", terminal.CTTY_LAUNCHER]
        uid, gid = spec.get("uid"), spec.get("gid")
        kw = {"env": spec["env"], "cwd": spec.get("cwd") or "/"}
        if uid is not None and not tty:
            kw.update(user=uid, group=gid, extra_groups=[])
        elif uid is not None:  # the launcher becomes the user once it has taken the terminal
            launcher += ["--user", str(uid), str(uid if gid is None else gid)]
    try:
        if tty:
            master, slave = terminal.open_pair()
            try:
                popen = subprocess.Popen(
                    launcher + cmd,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    start_new_session=True,
                    **kw,
                )
            except BaseException:
                os.close(master)
                raise
            finally:
                os.close(slave)
            return Session(popen, master if stdin else None, master, None, tty=master, spec_file=spec_file)
        popen = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
            start_new_session=True,
            **kw,
        )
    except FileNotFoundError:
        if spec_file is not None:
            spec_file.unlink(missing_ok=True)
        message = f'exec: "{argv[0]}": executable file not found in $PATH\n'.encode()
        return Session(None, None, None, None, failed=(127, message), message_channel=1 if tty or not stderr else 2)
    except PermissionError:
        message = f'exec: "{argv[0]}": permission denied\n'.encode()
        return Session(None, None, None, None, failed=(126, message), message_channel=1 if tty or not stderr else 2)
    ends = [_detach(popen.stdin), _detach(popen.stdout), _detach(popen.stderr)]
    for end in ends:
        if end is not None:
            os.set_blocking(end, False)
    return Session(popen, ends[0], ends[1], ends[2], spec_file=spec_file)


def _detach(stream: Any) -> int | None:
    """The raw descriptor of a Popen pipe, out of its file object (the session owns it from now on)."""
    if stream is None:
        return None
    fd = os.dup(stream.fileno())
    stream.close()
    return fd


def attach(objects: Any, state_dir: Path, pod: dict[str, Any], container: str, stopping: threading.Event) -> Session:
    """``kubectl attach``: the running container's output from now on, as it comes (the sandbox's
    containers read no stdin, so what a client types goes nowhere). Raises ``NotRunning``."""
    from .logs import stream

    running_instance(state_dir, pod, container)
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    session = Session(None, None, read_end, None)
    either = threading.Event()

    def feed() -> None:
        try:
            chunks = stream(
                objects,
                state_dir,
                pod,
                container,
                follow=True,
                previous=False,
                timestamps=False,
                tail_lines=0,
                since_seconds=None,
                limit_bytes=None,
                stopping=either,
            )
            for chunk in chunks:
                if session.ended.is_set():
                    break
                os.write(write_end, chunk)
        except OSError:
            pass
        finally:
            os.close(write_end)

    def link() -> None:  # the log follower stops with the session or with the sandbox
        while not (session.ended.wait(0.5) or stopping.is_set()):
            pass
        either.set()

    threading.Thread(target=link, name="attach-stop", daemon=True).start()
    session.feeder = threading.Thread(target=feed, name="attach-feed", daemon=True)
    session.feeder.start()
    return session
