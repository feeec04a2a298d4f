"""Start `lab start` on 127.0.0.1 for a test, wait until JupyterLab answers, stop it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import lab_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_lab(workspace: Path, token: str = "test-token", timeout_s: float = 90):
    port = free_port()
    env = {**os.environ, "LAB_WORKSPACE": str(workspace), "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(workspace.parent / "jupyter.log", "w")
    proc = subprocess.Popen(
        lab_command() + ["start", "--no-browser", "--port", str(port), "--token", token],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"lab start exited with {proc.returncode}: {(workspace.parent / 'jupyter.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as resp:
                    json.load(resp)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"JupyterLab did not answer on {base} within {timeout_s} s") from None
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
