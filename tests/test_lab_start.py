"""`lab start` blocks, so it is checked by a smoke test: start, wait until JupyterLab answers, stop."""

import json
import urllib.request
from pathlib import Path

import pytest
from jupyter_server import running_lab

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(180)
def test_lab_start_serves_the_learner_copy(tmp_path):
    workspace = tmp_path / "ws"
    with running_lab(workspace) as base:
        with urllib.request.urlopen(f"{base}/api/contents?token=test-token", timeout=10) as resp:
            names = {item["name"] for item in json.load(resp)["content"]}
        assert "00-start-here.ipynb" in names
        with urllib.request.urlopen(f"{base}/api/contents/00-start-here.ipynb?token=test-token", timeout=10) as resp:
            text = json.dumps(json.load(resp)["content"])
        assert "BEGIN SOLUTION" not in text and "a40_count = None" in text
        with urllib.request.urlopen(f"{base}/lab?token=test-token", timeout=10) as resp:
            assert resp.status == 200


def _start_lab_on_busy_default_port(tmp_path, busy_port, token="test-token"):
    import os
    import subprocess

    from conftest import lab_command

    env = {
        **os.environ,
        "LAB_WORKSPACE": str(tmp_path / "ws"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_PORT": str(busy_port),
    }
    env.pop("JUPYTER_CONFIG_PATH", None)
    log = tmp_path / "jupyter.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            lab_command() + ["start", "--no-browser", "--token", token],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, log


def _stop(proc):
    import os
    import signal
    import subprocess

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait_for(url, proc, log, timeout_s=90):
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"lab start exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return json.load(resp)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"JupyterLab did not answer at {url}: {log.read_text()[-2000:]}") from None
            time.sleep(0.5)


def _run_in_a_kernel(base, port, code, token="test-token"):
    """Start a kernel through JupyterLab's REST API and run ``code`` over its websocket, as the browser does."""
    import uuid

    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    request = urllib.request.Request(
        f"{base}/api/kernels?token={token}",
        data=b'{"name": "python3"}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        kernel = json.load(resp)["id"]

    async def execute():
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?token={token}")
        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": "learner",
            "session": uuid.uuid4().hex,
            "version": "5.3",
            "date": "",
        }
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
        await ws.write_message(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        while True:
            msg = json.loads(await ws.read_message())
            if msg.get("msg_type") == "stream":
                ws.close()
                return msg["content"]["text"]

    return IOLoop.current().run_sync(execute, timeout=60)


@pytest.mark.timeout(180)
def test_a_busy_port_is_named_with_the_url_no_news_prompt_and_quiet_kernels(tmp_path):
    """JupyterLab's usual port is taken: `lab start` says where it went; the course's setting
    defaults turn off the news-feed prompt (and the update check) without touching user config;
    kernels run (over CurveZMQ) without the unencrypted-TCP warning in the learner's terminal."""
    import re
    import socket
    import time

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        proc, log = _start_lab_on_busy_default_port(tmp_path, taken)
        try:
            deadline = time.monotonic() + 60
            while not (m := re.search(rf"port {taken} is in use.*?(http://127\.0\.0\.1:(\d+)/lab)", log.read_text())):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
            port = int(m.group(2))
            assert port != taken
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/api/status?token=test-token", proc, log)
            plugin = "@jupyterlab/apputils-extension:notification"
            settings = _wait_for(f"{base}/lab/api/settings/{plugin}?token=test-token", proc, log)
            props = settings["schema"]["properties"]
            assert props["fetchNews"]["default"] == "false" and props["checkForUpdates"]["default"] is False
            assert _run_in_a_kernel(base, port, "print(6 * 7)") == "42\n"
            assert "without encryption" not in log.read_text()  # its kernels use CurveZMQ where they can
        finally:
            _stop(proc)


def test_a_busy_port_asked_for_is_refused_with_the_fix(tmp_path):
    import os
    import socket
    import subprocess

    from conftest import lab_command

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        env = {**os.environ, "LAB_WORKSPACE": str(tmp_path / "ws")}
        done = subprocess.run(
            lab_command() + ["start", "--no-browser", "--port", str(taken)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    assert done.returncode == 2
    assert f"port {taken} on 127.0.0.1 is in use" in done.stderr and "--port" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_the_course_settings_never_touch_the_learners_jupyter_config(tmp_path):
    import os

    from lab_helpers.notebooks.jupyterlab import CONFIG_DIR, config_path_env

    theirs = str(tmp_path / "their-config")
    parts = config_path_env({"JUPYTER_CONFIG_PATH": theirs}).split(os.pathsep)
    assert parts == [str(CONFIG_DIR), theirs]  # the course's defaults first, the learner's path kept
    overrides = json.loads((CONFIG_DIR / "labconfig" / "default_setting_overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert CONFIG_DIR.is_relative_to(ROOT / "lab_helpers")


def test_binder_gets_the_same_jupyterlab_defaults(tmp_path):
    """binder/start puts the course's settings folder (and Binder's kernel encryption) on JUPYTER_CONFIG_PATH."""
    import os
    import subprocess

    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_PATH": str(tmp_path / "theirs")}
    done = subprocess.run(
        [str(ROOT / "binder" / "start"), "sh", "-c", 'echo "$JUPYTER_CONFIG_PATH"'],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    parts = done.stdout.strip().split(os.pathsep)
    from lab_helpers.notebooks.jupyterlab import CONFIG_DIR

    assert [Path(p).resolve() for p in parts] == [
        (ROOT / "binder" / "jupyter_config").resolve(),
        CONFIG_DIR.resolve(),
        (tmp_path / "theirs").resolve(),
    ]
    server = json.loads((ROOT / "binder" / "jupyter_config" / "jupyter_server_config.json").read_text())
    assert server["KernelManager"]["transport_encryption"] == "auto"
    # Binder builds from the same constraints.txt as this environment: its jupyter_client can provision keys
    assert _pinned_client_supports_encryption()


def _pinned_client_supports_encryption():
    from lab_helpers.notebooks.runner import transport_encryption_supported

    return transport_encryption_supported()


def test_lab_start_twice_adds_no_copy_of_a_saved_lab(tmp_path):
    """The learner saves a lab between two `lab start`s; the course did not change: nothing is added."""
    import os
    import subprocess

    import nbformat
    from conftest import lab_command

    env = {**os.environ, "LAB_STATE_DIR": str(tmp_path / "state"), "LAB_WORKSPACE": str(tmp_path / "ws")}
    first = subprocess.run(lab_command() + ["start", "--prepare"], capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0 and "new      00-start-here.ipynb" in first.stdout
    mine = tmp_path / "ws" / "00-start-here.ipynb"
    nb = nbformat.read(mine, as_version=4)
    nb.cells[2].source += "\n# my work"
    nbformat.write(nb, mine)
    second = subprocess.run(
        lab_command() + ["start", "--prepare"], capture_output=True, text=True, env=env, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert "added" not in second.stdout and "updated" not in second.stdout
    assert sorted(p.name for p in (tmp_path / "ws").glob("*.v*.ipynb")) == []
    assert "# my work" in mine.read_text()
