"""The sample application (data/sample-app/), each part against real servers.

PostgreSQL and Valkey are the real servers from their wheels, Swift is the sandbox cloud's, the
model service is ``python -m sample_app.model`` on a loopback port (sample_app_fixtures.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import openstack
import pytest
from sample_app_fixtures import (
    SAMPLE_APP,
    app_process,
    free_port,
    http_get,
    model_url,
    postgres_url,
    process_log,
    stop_process,
    valkey_url,
    wait_until,
    weights_dir,
)
from sandbox_fixtures import conn, sandbox

# isort: split
# (sample_app_fixtures puts data/sample-app on sys.path, so its import goes first)
from sample_app import config
from sample_app.db import Database
from sample_app.jobqueue import JobQueue
from sample_app.pixels import BadPixels, check_pixels, pixels_from_csv, pixels_from_json
from sample_app.store import Store

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def held_aside():
    """The model's held-aside digits (pixels, labels), never trained on."""
    from sample_app.model.train import digits_split

    _x, _y, x_test, y_test = digits_split()
    return x_test, y_test


@pytest.fixture(scope="module")
def settings(postgres_url, valkey_url, sandbox, model_url):
    """Settings for the api and worker against the real servers of this module."""
    return replace(
        config.load({}),
        database_url=postgres_url,
        queue_url=valkey_url,
        os_cloud="sandbox",
        os_client_config_file=str(sandbox.clouds_yaml),
        uploads_container=f"uploads-{uuid.uuid4().hex[:6]}",
        model_url=model_url,
        poll_s=0.1,
        app_version="1.0.0-test",
    )


@pytest.fixture(scope="module")
def api(settings):
    from sample_app.api import create_app
    from starlette.testclient import TestClient

    with TestClient(create_app(settings)) as client:
        yield client


def digit(held_aside, i: int) -> tuple[list[float], int]:
    x, y = held_aside
    return [float(v) for v in x[i]], int(y[i])


# --- config ------------------------------------------------------------------------------------


def test_config_defaults_are_the_cluster_names():
    s = config.load({})
    assert (s.port, s.database_url, s.queue_url) == (8080, "postgresql://app:app@db:5432/jobs", "redis://queue:6379/0")
    assert (s.uploads_container, s.os_cloud, s.model_url, s.poll_s) == (
        "uploads",
        "openstack",
        "http://model:8080",
        1.0,
    )
    assert (s.weights_dir, s.device, s.app_version) == ("/models", "auto", "1.0.0")
    s = config.load({"PORT": "9000", "APP_VERSION": "1.1.0", "MODEL_URL": "http://127.0.0.1:81/", "DEVICE": "cpu"})
    assert (s.port, s.app_version, s.model_url, s.device) == (9000, "1.1.0", "http://127.0.0.1:81", "cpu")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "http"}, "PORT='http': set PORT to a TCP port number"),
        ({"PORT": "70000"}, "between 1 and 65535"),
        ({"DATABASE_URL": "mysql://db/jobs"}, "DATABASE_URL='mysql://db/jobs' is not a postgresql or postgres URL"),
        ({"QUEUE_URL": "queue:6379"}, "QUEUE_URL='queue:6379' is not a redis URL"),
        ({"DEVICE": "tpu"}, "set DEVICE to one of auto, cpu, gpu"),
        ({"POLL_S": "0"}, "POLL_S='0'"),
        ({"UPLOADS_CONTAINER": " "}, "UPLOADS_CONTAINER is empty"),
    ],
)
def test_config_errors_name_the_variable(env, message):
    with pytest.raises(config.ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        config.load(env)
    with pytest.raises(SystemExit, match="^sample_app: "):
        config.load_or_exit(env)


# --- reading a digit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("16", '"pixels" must be a list of 64 numbers, got str'),
        ([1] * 63, r'"pixels" must have 64 numbers \(an 8x8 image\), got 63'),
        ([1] * 65, "got 65"),
        ([0] * 10 + ["7"] + [0] * 53, "pixel 10 is not a number: '7'"),
        ([0] * 3 + [True] + [0] * 60, "pixel 3 is not a number: True"),
        ([0] * 5 + [float("nan")] + [0] * 58, "pixel 5 is nan: each pixel must be a finite number"),
        ([0] * 63 + [float("inf")], "pixel 63 is inf"),
        ([0] * 2 + [17] + [0] * 61, "pixel 2 is 17: each pixel must be between 0 and 16"),
        ([-0.5] + [0] * 63, "pixel 0 is -0.5"),
    ],
)
def test_bad_pixels_are_named(values, message):
    with pytest.raises(BadPixels, match=message):
        check_pixels(values)


def test_json_and_csv_uploads_read_alike():
    values = [float(i % 17) for i in range(64)]
    rows = "\n".join(",".join(str(int(v)) for v in values[r * 8 : r * 8 + 8]) for r in range(8))
    assert pixels_from_csv(rows.encode()) == pixels_from_json(json.dumps({"pixels": values}).encode()) == values
    with pytest.raises(BadPixels, match="not valid JSON"):
        pixels_from_json(b"{pixels: 1}")
    with pytest.raises(BadPixels, match='an object with a "pixels" key'):
        pixels_from_json(b"[1, 2]")
    with pytest.raises(BadPixels, match="pixel 1 is not a number: 'x'"):
        pixels_from_csv(b"1,x,3")
    with pytest.raises(BadPixels, match="not UTF-8"):
        pixels_from_csv(b"\xff\xfe")


# --- database, queue, object store ------------------------------------------------------------


def test_database_job_lifecycle(postgres_url):
    db = Database(postgres_url)
    db.ping()
    first = db.insert("job-a", "job-a.json", "1.0.0")
    assert first["status"] == "queued" and first["label"] is None and first["api_version"] == "1.0.0"
    db.insert("job-b", "job-b.json", "1.1.0")
    assert [j["id"] for j in db.newest()][:2] == ["job-b", "job-a"]  # newest first
    assert db.start("job-a") is True and db.get("job-a")["status"] == "running"
    assert db.start("job-a") is False, "a job that is running must not start twice"
    assert db.start("no-such-job") is False
    db.finish("job-a", 7, 0.93, "digits-test")
    done = db.get("job-a")
    assert (done["status"], done["label"], done["confidence"], done["model"]) == ("done", 7, 0.93, "digits-test")
    db.fail("job-b", "model service did not answer")
    assert db.get("job-b")["error"] == "model service did not answer" and db.get("job-b")["status"] == "failed"
    assert db.get("no-such-job") is None
    for i in range(55):
        db.insert(f"bulk-{i:02d}", "x.json", "1.0.0")
    newest = db.newest()
    assert len(newest) == 50 and newest[0]["id"] == "bulk-54"
    assert Database(postgres_url).get("job-a")["label"] == 7, "a second client (another pod) sees the same rows"


def test_database_errors_are_real_ones(postgres_url):
    import pg8000.native

    wrong_password = postgres_url.replace(":app-test-password@", ":wrong@")
    with pytest.raises(pg8000.native.DatabaseError, match="password authentication failed"):
        Database(wrong_password).ping()
    db = Database(postgres_url)
    with pytest.raises(pg8000.native.DatabaseError, match="duplicate key"):
        db.insert("job-a", "again.json", "1.0.0")
    # the server ends every other session (as a restart would): the next call opens a new connection
    admin = Database(postgres_url)
    admin._run(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'jobs' AND pid <> pg_backend_pid()"
    )
    assert db.get("job-a")["id"] == "job-a"


def test_queue_is_first_in_first_out(valkey_url):
    queue = JobQueue(valkey_url)
    queue.ping()
    for job_id in ("q-1", "q-2", "q-3"):
        queue.push(job_id)
    assert len(queue) == 3
    assert [queue.pop(1), queue.pop(1), queue.pop(1)] == ["q-1", "q-2", "q-3"]
    started = time.monotonic()
    assert queue.pop(0.2) is None
    assert time.monotonic() - started >= 0.15, "BRPOP waits for a job before it gives up"
    queue.close()


def test_store_puts_and_gets_uploads_in_swift(sandbox, conn):
    store = Store("sandbox", "uploads-store-test", str(sandbox.clouds_yaml))
    store.put("abc.json", b'{"pixels": []}')
    assert store.get("abc.json") == b'{"pixels": []}'
    # the same object, seen by the learner's own openstacksdk connection
    assert [o.name for o in conn.object_store.objects("uploads-store-test")] == ["abc.json"]
    with pytest.raises(openstack.exceptions.ResourceNotFound):
        store.get("missing.json")
    store.close()
    with pytest.raises(openstack.exceptions.ConfigException, match="not-a-cloud"):
        Store("not-a-cloud", "uploads", str(sandbox.clouds_yaml)).put("x.json", b"{}")


# --- the api -----------------------------------------------------------------------------------


def test_api_health_and_version(api):
    assert api.get("/api/healthz").json() == {"ok": True}
    assert api.get("/api/version").json() == {"version": "1.0.0-test"}


def test_api_is_not_ready_without_its_queue(settings):
    from sample_app.api import create_app
    from starlette.testclient import TestClient

    dead_queue = replace(settings, queue_url=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(dead_queue)) as client:
        answer = client.get("/api/healthz")
    assert answer.status_code == 503
    assert answer.json()["ok"] is False and "ConnectionError" in answer.json()["queue"]
    assert "database" not in answer.json()


def test_api_accepts_json_and_csv(api, settings, conn, held_aside):
    pixels, _label = digit(held_aside, 0)
    answer = api.post("/api/jobs", json={"pixels": pixels})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    assert answer.json() == {"id": job_id, "status": "queued"}
    csv = ",".join(str(int(p)) for p in pixels)
    second = api.post("/api/jobs", content=csv, headers={"Content-Type": "text/csv; charset=utf-8"})
    assert second.status_code == 202, second.text

    job = api.get(f"/api/jobs/{job_id}").json()
    assert (job["status"], job["object_name"], job["api_version"]) == ("queued", f"{job_id}.json", "1.0.0-test")
    stored = conn.object_store.download_object(f"{job_id}.json", container=settings.uploads_container)
    assert json.loads(stored) == {"pixels": pixels}
    listed = [j["id"] for j in api.get("/api/jobs").json()]
    assert listed.index(second.json()["id"]) < listed.index(job_id), "newest first"
    queue = JobQueue(settings.queue_url)
    assert [queue.pop(1), queue.pop(1)] == [job_id, second.json()["id"]]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'{"pixels": [1, 2]}', "application/json", 400, "must have 64 numbers"),
        (b'{"pixels": [' + b"20," * 63 + b"20]}", "application/json", 400, "pixel 0 is 20"),
        (b'{"pixels": [' + b"1," * 63 + b"NaN]}", "application/json", 400, "pixel 63 is nan"),
        (b'{"digit": 7}', "application/json", 400, '"pixels" key'),
        (b"not json", "application/json", 400, "not valid JSON"),
        (b"1,2,3", "text/csv", 400, "got 3"),
        (b"1" * 70_000, "application/json", 413, "the limit is 65536"),
        (b'{"pixels": []}', "text/plain", 415, "send application/json or text/csv"),
        (b"", "", 415, "'(none)' is not accepted"),
    ],
)
def test_api_rejects_bad_uploads(api, body, content_type, status, message):
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api.post("/api/jobs", content=body, headers=headers)
    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_api_stops_reading_a_chunked_upload_at_the_limit(api):
    chunks = iter([b"1" * 40_000, b"1" * 40_000, b"1" * 40_000])  # no Content-Length: sent chunked
    answer = api.post("/api/jobs", content=chunks, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "over 65536 bytes" in answer.json()["error"]


def test_api_unknown_job_is_404(api):
    answer = api.get("/api/jobs/does-not-exist")
    assert answer.status_code == 404 and "GET /api/jobs lists" in answer.json()["error"]


# --- the model ---------------------------------------------------------------------------------


def test_training_writes_weights_and_honest_info(weights_dir):
    info = json.loads((weights_dir / "info.json").read_text())
    assert info["accuracy"] > 0.9 and info["test_samples"] == 360 and info["train_samples"] == 1437
    assert info["weights_bytes"] == (weights_dir / "digits.npz").stat().st_size
    assert info["model"] == "digits-mlp-64-32-10" and info["parameters"] == 64 * 32 + 32 + 32 * 10 + 10
    with np.load(weights_dir / "digits.npz") as data:
        assert sorted(data.files) == ["b1", "b2", "w1", "w2"] and data["w1"].shape == (64, 32)


def test_model_info(model_url, weights_dir):
    info = json.loads(http_get(f"{model_url}/info"))
    trained = json.loads((weights_dir / "info.json").read_text())
    assert info["accuracy"] == trained["accuracy"] > 0.9
    assert (info["model"], info["classes"], info["device"]) == ("digits-mlp-64-32-10", 10, "cpu")
    assert info["stands_in_for"] == "yolo (poses) and whisper (speech)"
    assert info["test_samples"] == 360 and info["weights_bytes"] > 1000 and info["version"] == "1.0.0"


def _predict(model_url: str, pixels) -> dict:
    request = urllib.request.Request(
        f"{model_url}/predict",
        data=json.dumps({"pixels": pixels}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_model_predicts_held_aside_digits(model_url, held_aside):
    x, y = held_aside
    answers = [_predict(model_url, [float(v) for v in row]) for row in x]
    labels = np.array([a["label"] for a in answers])
    accuracy = float((labels == y).mean())
    info = json.loads(http_get(f"{model_url}/info"))
    # over HTTP, one digit at a time, the same accuracy that training measured
    assert round(accuracy, 4) == info["accuracy"]
    first = answers[0]
    assert len(first["probabilities"]) == 10 and abs(sum(first["probabilities"]) - 1) < 1e-4
    assert first["confidence"] == max(first["probabilities"]) and first["label"] == int(
        np.argmax(first["probabilities"])
    )
    assert first["model"] == "digits-mlp-64-32-10"


def test_model_rejects_bad_input(model_url):
    with pytest.raises(urllib.error.HTTPError) as caught:
        _predict(model_url, [1] * 10)
    assert caught.value.code == 400 and "got 10" in json.loads(caught.value.read())["error"]


def test_model_is_not_ready_until_its_weights_load(weights_dir):
    from sample_app.model.server import create_app
    from starlette.testclient import TestClient

    app = create_app(str(weights_dir), "cpu", load_in_background=False)
    cold = TestClient(app)  # not entered: start-up (the weights' loading) has not run
    assert cold.get("/healthz").status_code == 503 and cold.get("/info").status_code == 503
    assert "still loading" in cold.post("/predict", json={"pixels": [0] * 64}).json()["error"]
    with TestClient(app) as warm:
        assert warm.get("/healthz").json() == {"ok": True}
        assert warm.post("/predict", json={"pixels": [0] * 64}).status_code == 200


def test_model_without_weights_exits_with_one_clear_line(tmp_path):
    import subprocess
    import sys

    from sample_app_fixtures import app_env

    done = subprocess.run(
        [sys.executable, "-m", "sample_app.model"],
        env=app_env(WEIGHTS_DIR=str(tmp_path), PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"no weights at {tmp_path}/digits.npz" in lines[0] and "python -m sample_app.model.train --out" in lines[0]


def test_model_with_unreadable_weights_exits_and_says_why(tmp_path):
    import subprocess
    import sys

    from sample_app_fixtures import app_env

    (tmp_path / "digits.npz").write_bytes(b"not a weights file")
    done = subprocess.run(
        [sys.executable, "-m", "sample_app.model"],
        env=app_env(WEIGHTS_DIR=str(tmp_path), PORT=str(free_port()), DEVICE="cpu"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "CRITICAL sample_app.model: cannot load the model:" in done.stderr


def test_model_device_choice_is_one_code_path():
    from sample_app.model.network import choose_xp

    xp, device = choose_xp("cpu")
    assert xp is np and device == "cpu"
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed: the GPU path is tested by test_model_on_the_gpu_matches_the_cpu")
    except ImportError:
        pass
    assert choose_xp("auto") == (np, "cpu")
    with pytest.raises(RuntimeError, match="DEVICE=gpu but CuPy is not usable .*set DEVICE=cpu"):
        choose_xp("gpu")


# --- the worker --------------------------------------------------------------------------------


def test_worker_does_one_job_end_to_end(api, settings, held_aside):
    from sample_app.worker import Worker

    pixels, label = digit(held_aside, 1)
    job_id = api.post("/api/jobs", json={"pixels": pixels}).json()["id"]
    worker = Worker(settings)
    assert worker.queue.pop(1) == job_id
    assert worker.run_one(job_id) == "done"
    job = api.get(f"/api/jobs/{job_id}").json()
    assert (job["status"], job["label"], job["model"], job["error"]) == ("done", label, "digits-mlp-64-32-10", None)
    assert 0.1 < job["confidence"] <= 1.0
    assert worker.run_one(job_id) == "skipped", "a job taken twice from the queue is done once"


def test_worker_marks_the_job_failed_when_the_model_is_down(api, settings, held_aside):
    from sample_app.worker import Worker

    pixels, _label = digit(held_aside, 2)
    job_id = api.post("/api/jobs", json={"pixels": pixels}).json()["id"]
    worker = Worker(replace(settings, model_url=f"http://127.0.0.1:{free_port()}", poll_s=0.05))
    assert worker.queue.pop(1) == job_id
    assert worker.run_one(job_id) == "failed"
    job = api.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "failed" and "did not answer" in job["error"] and job["label"] is None


def test_worker_marks_the_job_failed_when_the_upload_is_missing(settings):
    from sample_app.worker import Worker

    worker = Worker(settings)
    worker.db.insert("lost-upload", "never-stored.json", "1.0.0")
    assert worker.run_one("lost-upload") == "failed"
    assert "could not read never-stored.json from the object store" in worker.db.get("lost-upload")["error"]


def test_worker_finishes_the_job_it_holds_when_asked_to_stop(api, settings, held_aside, monkeypatch):
    import sample_app.worker as worker_module

    pixels, label = digit(held_aside, 4)
    job_id = api.post("/api/jobs", json={"pixels": pixels}).json()["id"]
    worker = worker_module.Worker(settings)
    real_predict = worker_module.predict

    def stop_during_the_job(*args, **kwargs):
        worker.stopping.set()  # SIGTERM arrives while the model is answering
        return real_predict(*args, **kwargs)

    monkeypatch.setattr(worker_module, "predict", stop_during_the_job)
    worker.run()  # returns once stopped
    job = api.get(f"/api/jobs/{job_id}").json()
    assert (job["status"], job["label"]) == ("done", label)


def test_worker_run_loop_stops_when_asked(settings):
    import threading

    from sample_app.worker import Worker

    worker = Worker(settings)
    loop = threading.Thread(target=worker.run)
    loop.start()
    time.sleep(0.3)
    worker.stopping.set()
    loop.join(5)
    assert not loop.is_alive(), "the worker must stop within one POLL_S of being asked"


# --- the web page ------------------------------------------------------------------------------


def test_web_serves_the_page_and_its_script():
    from sample_app.web import create_app
    from starlette.testclient import TestClient

    client = TestClient(create_app())
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for marker in ('id="jobs"', 'id="submit"', 'id="digit-grid"', 'id="pixels"', '<script src="app.js">'):
        assert marker in page.text
    assert "http://" not in page.text and "https://" not in page.text, "no CDN: everything from this server"
    script = client.get("/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert 'fetch("api/jobs"' in script.text and 'fetch("api/version")' in script.text
    assert '"/api' not in script.text, "API paths are relative, so the page works under any Ingress path"
    assert "tr.dataset.jobId" in script.text and "REFRESH_MS = 2000" in script.text
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/nothing-here.js").status_code == 404


# --- every part as its own process -------------------------------------------------------------


def _post_json(url: str, document: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(document).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.loads(response.read())


def test_each_part_as_a_process_upload_to_prediction(settings, sandbox, held_aside, tmp_path):
    env = {
        "DATABASE_URL": settings.database_url,
        "QUEUE_URL": settings.queue_url,
        "UPLOADS_CONTAINER": "uploads-processes",
        "OS_CLOUD": "sandbox",
        "OS_CLIENT_CONFIG_FILE": str(sandbox.clouds_yaml),
        "MODEL_URL": settings.model_url,
        "POLL_S": "0.2",
        "APP_VERSION": "1.1.0",
    }
    api_port, web_port = free_port(), free_port()
    with (
        app_process("api", tmp_path, PORT=str(api_port), **env) as api_proc,
        app_process("web", tmp_path, PORT=str(web_port)) as web_proc,
        app_process("worker", tmp_path, **env) as worker_proc,
    ):
        api_url, web_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}"
        wait_until(lambda: http_get(f"{api_url}/api/healthz"), "the api", proc=api_proc)
        wait_until(lambda: http_get(f"{web_url}/"), "the web page", proc=web_proc)
        assert json.loads(http_get(f"{api_url}/api/version")) == {"version": "1.1.0"}
        assert b'id="jobs"' in http_get(f"{web_url}/")

        pixels, label = digit(held_aside, 3)
        job_id = _post_json(f"{api_url}/api/jobs", {"pixels": pixels})["id"]

        def done() -> None:
            job = json.loads(http_get(f"{api_url}/api/jobs/{job_id}"))
            assert job["status"] == "done", job

        wait_until(done, "the job", timeout_s=30, proc=worker_proc)
        job = json.loads(http_get(f"{api_url}/api/jobs/{job_id}"))
        assert (job["label"], job["api_version"]) == (label, "1.1.0")
        assert job_id in [j["id"] for j in json.loads(http_get(f"{api_url}/api/jobs"))]

        worker_proc.send_signal(signal.SIGTERM)
        assert worker_proc.wait(10) == 0, process_log(tmp_path, "worker")
        assert f"job {job_id}: done, label {label}" in process_log(tmp_path, "worker")
        # uvicorn shuts down gracefully on SIGTERM, then exits by the same signal
        assert stop_process(api_proc) in (0, -signal.SIGTERM)
        assert "Finished server process" in process_log(tmp_path, "api")


def test_sample_app_is_where_the_course_ships_it():
    from lab_helpers.paths import data_dir

    assert (data_dir() / "sample-app" / "sample_app" / "__init__.py").is_file()
    assert SAMPLE_APP == data_dir() / "sample-app"


def test_model_benchmark_prints_its_numbers(model_url, capsys):
    from sample_app.model import bench

    bench.main(["--url", model_url, "--repeat", "20"])
    out = capsys.readouterr().out
    assert re.search(r"train \(read the digits, fit\): \d+\.\d\d s", out)
    assert re.search(r"accuracy on 360 held-aside digits: 0\.9\d+", out)
    assert re.search(r"predict in process \(cpu, one digit\): p50 \d+\.\d+ ms", out)
    assert re.search(rf"predict over HTTP \({model_url}\): p50 \d+\.\d+ ms, p99 \d+\.\d+ ms", out)


# --- the page in a real browser ----------------------------------------------------------------


class _Ingress:
    """What the cluster's Ingress does: ``/api`` to the api, everything else to the web page."""

    def __init__(self, api_app, web_app) -> None:
        self.api_app, self.web_app = api_app, web_app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":  # neither app has start-up work: the api's router answers for both
            await self.api_app(scope, receive, send)
            return
        target = self.api_app if scope["path"].startswith("/api") else self.web_app
        await target(scope, receive, send)


@contextlib.contextmanager
def _serve(app) -> Iterator[str]:
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: http_get(f"http://127.0.0.1:{port}/healthz"), "the test ingress")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.browser
def test_the_page_submits_a_digit_and_shows_its_label(settings, held_aside):
    import os
    import shutil
    import threading

    from playwright.sync_api import sync_playwright
    from sample_app.api import create_app as create_api
    from sample_app.web import create_app as create_web
    from sample_app.worker import Worker

    worker = Worker(settings)
    loop = threading.Thread(target=worker.run, daemon=True)
    loop.start()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    artifacts = Path(os.environ.get("LAB_TEST_ARTIFACTS", SAMPLE_APP.parents[1] / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        with _serve(_Ingress(create_api(settings), create_web())) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.goto(f"{base}/", wait_until="domcontentloaded")
                assert page.locator("#digit-grid button").count() == 64
                page.locator("#sample-4").click()
                assert page.locator("#pixels").input_value().split(",")[:5] == ["0", "0", "0", "1", "11"]
                page.locator("#submit").click()
                page.locator("#message", has_text="queued").wait_for(timeout=10_000)
                job_id = page.locator("#message").inner_text().split()[1]
                row = page.locator(f'tr[data-job-id="{job_id}"][data-status="done"]')
                row.wait_for(timeout=15_000)  # the table refreshes every 2 s
                cells = row.locator("td").all_inner_texts()
                assert cells[1:3] == ["done", "4"] and 0 < float(cells[3]) <= 1
                assert page.locator("#api-version").inner_text() == "1.0.0-test"
                page.screenshot(path=str(artifacts / "sample-app-web.png"))
                # a bad paste is refused with the api's reason, shown to the learner
                page.locator("#pixels").fill("1,2,3")
                page.locator("#submit").click()
                page.locator("#message", has_text="must have 64 numbers").wait_for(timeout=10_000)
            finally:
                browser.close()
    finally:
        worker.stopping.set()
        loop.join(5)
