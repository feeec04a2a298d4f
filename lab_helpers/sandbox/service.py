"""The sandbox cloud as one background service per learner state directory.

Start is race-safe (a lock file), so two notebooks connecting at once get one service.
Liveness is an HTTP health request, never ``ss`` or ``/proc``, so it works the same on Linux,
macOS and WSL2. State lives in ``<state dir>/sandbox/`` and survives stop, kill -9 and restarts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..config import sandbox_boot_seconds, state_dir
from ..errors import ServiceError


@dataclass(frozen=True)
class ServiceStatus:
    running: bool
    state_dir: Path
    port: int | None = None
    pid: int | None = None
    boot_s: float | None = None
    urls: tuple[tuple[str, str], ...] = ()  # (listener name, base URL), "main" included

    def url(self, listener: str) -> str:
        """The base URL of one of the service's listeners ("main", "s3", "kubernetes")."""
        return dict(self.urls).get(listener, "")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}" if self.port else ""

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / "clouds.yaml"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "sandbox.log"

    def __str__(self) -> str:
        if not self.running:
            return f"sandbox cloud: stopped (state kept in {self.state_dir.name}/ under the course state directory)"
        return f"sandbox cloud: running on {self.base_url} (pid {self.pid}, servers boot in {self.boot_s:g} s)"


SUBDIR = "sandbox"  # the sandbox's folder in a state directory


def sandbox_dir() -> Path:
    path = state_dir() / SUBDIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_info(root: Path) -> dict | None:
    try:
        return json.loads((root / "service.json").read_text())
    except (OSError, ValueError):
        return None


def _last_port(root: Path) -> int | None:
    """The port of the previous run (kept in clouds.yaml), reused when free."""
    try:
        import yaml

        url = yaml.safe_load((root / "clouds.yaml").read_text())["clouds"]["sandbox"]["auth"]["auth_url"]
        return int(url.split(":")[2].split("/")[0])
    except Exception:
        return None


def _health(port: int, timeout: float = 1.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as resp:
            return json.loads(resp.read())
    except Exception:
        return None


def status(root: Path | None = None) -> ServiceStatus:
    """Whether this state directory's service answers, and where."""
    root = root or sandbox_dir()
    info = _read_info(root)
    if info:
        health = _health(int(info["port"]))
        if (
            health
            and health.get("pid") == info.get("pid")
            and Path(health.get("state_dir", "")).resolve() == root.resolve()
        ):
            urls = tuple(sorted((info.get("urls") or {}).items()))
            return ServiceStatus(True, root, int(info["port"]), int(info["pid"]), float(health.get("boot_s", 0)), urls)
    return ServiceStatus(False, root)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fh = open(path, "a+")
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows without WSL
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def start(timeout: float = 30.0, *, root: Path | None = None, boot_s: float | None = None) -> ServiceStatus:
    """Start the service unless it already runs; return where it listens.

    ``root`` is the sandbox's own folder (default: under the configured state directory) and ``boot_s``
    how long a server stays in BUILD (default: the configured setting).
    """
    root = root or sandbox_dir()
    root.mkdir(parents=True, exist_ok=True)
    boot = sandbox_boot_seconds() if boot_s is None else boot_s
    with _locked(root / "service.lock"):
        current = status(root)
        if current.running:
            return current
        (root / "service.json").unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "lab_helpers.sandbox.server", "--state-dir", str(root), "--boot-s", str(boot)]
        last = _last_port(root)
        if last:
            cmd += ["--port", str(last)]
        kwargs: dict = {"stdin": subprocess.DEVNULL, "close_fds": True}
        if sys.platform == "win32":  # pragma: no cover
            kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kwargs["start_new_session"] = True
        with open(root / "service.out", "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=out, **kwargs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (root / "service.out").read_text(errors="replace")[-600:]
                raise ServiceError(
                    f"the sandbox cloud exited at start (code {proc.returncode}): {tail.strip()}",
                    hint="Run `lab sandbox status`; if it persists, `lab sandbox reset`.",
                )
            current = status(root)
            if current.running:
                return current
            time.sleep(0.05)
        raise ServiceError(
            f"the sandbox cloud did not answer within {timeout:g} s.",
            hint="Run `lab sandbox stop` then `lab sandbox start`.",
        )


def ensure_running(root: Path | None = None) -> ServiceStatus:
    current = status(root)
    return current if current.running else start(root=root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (our own child not yet reaped) has exited
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def stop(timeout: float = 10.0, *, root: Path | None = None) -> bool:
    """Stop the service (its state stays). True when one was running."""
    root = root or sandbox_dir()
    with _locked(root / "service.lock"):
        current = status(root)
        pid, port = current.pid, current.port
        if not current.running or pid is None or port is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _health(port, 0.3):
            time.sleep(0.05)
        if _health(port, 0.3) and hasattr(signal, "SIGKILL"):
            os.kill(pid, signal.SIGKILL)
        while time.monotonic() < deadline and _alive(pid):  # its other listeners close as it exits
            time.sleep(0.05)
        (root / "service.json").unlink(missing_ok=True)
        return True


def reset() -> ServiceStatus:
    """Start over: no servers, volumes, floating IPs or containers; default networking back."""
    from .store import Store

    was_running = stop()
    root = sandbox_dir()
    store = Store(root)
    with store.tx():
        store.wipe_resources()
        store.set_meta("seeded", "0")
    store.close()
    for sub in ("volumes", "objects"):
        shutil.rmtree(root / sub, ignore_errors=True)
    return start() if was_running else status(root)


# Where the client tools keep their files, under the course's state directory (client code names the
# same folders: ``lab_helpers.tools.TOOLS_SUBDIR`` is where ``lab tools install`` puts kubectl and helm).
TOOLS_SUBDIR = "bin"
KUBE_CACHE_SUBDIR = "kube-cache"
HELM_SUBDIR = "helm"


def kube_env(root: Path | None = None) -> dict[str, str]:
    """What kubectl and Helm read to reach this sandbox's Kubernetes API and keep their files in the state directory.

    ``KUBECONFIG`` (mode 0600, written when the service starts) holds the learner's context ``sandbox``
    and the admin's ``sandbox-admin``; ``KUBECACHEDIR`` is kubectl's discovery cache.
    """
    root = root or sandbox_dir()
    state = root.parent
    helm = state / HELM_SUBDIR
    return {
        "KUBECONFIG": str(root / "kubeconfig"),
        "KUBECACHEDIR": str(state / KUBE_CACHE_SUBDIR),
        "HELM_CONFIG_HOME": str(helm / "config"),
        "HELM_CACHE_HOME": str(helm / "cache"),
        "HELM_DATA_HOME": str(helm / "data"),
    }


def env_lines() -> list[str]:
    """Shell lines that point the `openstack` CLI, boto3, the AWS CLI, kubectl and Helm at the sandbox (the
    service is started first; the learner's EC2 credential for S3 is created through Keystone on first use).
    The course's kubectl and helm (``lab tools install``) go first on ``PATH``."""
    import shlex

    from .openstack.s3.credentials import env_exports

    current = ensure_running()
    tools = current.state_dir.parent / TOOLS_SUBDIR
    return [
        f"export OS_CLIENT_CONFIG_FILE={shlex.quote(str(current.clouds_yaml))}",
        "export OS_CLOUD=sandbox",
        *env_exports(current.base_url, current.clouds_yaml),
        f'export PATH={shlex.quote(str(tools))}:"$PATH"',
        *(f"export {name}={shlex.quote(value)}" for name, value in kube_env(current.state_dir).items()),
    ]
