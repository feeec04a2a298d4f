"""Running a command inside a running container, as ``kubectl exec`` and exec probes do: in the
container's namespaces and root (through the shim's ``--exec``), as its user, with its
environment; where containers have no namespaces of their own, in the host's files with the
container's paths mapped. Not interactive: the command's stdin, stdout and stderr are bytes."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import status
from . import process
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


def run(
    state_dir: Path,
    pod: dict[str, Any],
    container: str,
    argv: list[str],
    *,
    stdin: bytes | None = None,
    timeout: float = 60.0,
) -> Result:
    """``kubectl exec POD -c CONTAINER -- ARGV`` for the API server's ``pods/exec``: the command's exit
    code and output; a Status error (400) when the container is not running, as the kubelet answers."""
    name = pod["metadata"]["name"]
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    cs = next((c for c in statuses if c.get("name") == container), None)
    if cs is None or "running" not in (cs.get("state") or {}):
        raise status.bad_request(
            f"container {container} is not valid for pod {name}"
            if cs is None
            else (f'unable to upgrade connection: container not found ("{container}")')
        )
    folder = pods_dir(state_dir) / pod["metadata"].get("uid", "") / "containers" / container
    proc = process.Process(folder, int(cs.get("restartCount") or 0))
    if proc.pid is None:
        raise status.bad_request(f'unable to upgrade connection: container not found ("{container}")')
    return in_process(proc, argv, timeout, stdin)
