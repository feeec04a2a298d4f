"""The workshop server over real HTTP: tokens, forged learner ids, bad input, durability, the dashboard's JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import plotly.graph_objects as go
import pytest

from lab_helpers.workshop.payload import MAX_BYTES
from lab_helpers.workshop.server import DB_NAME, running
from lab_helpers.workshop.store import Batch, Result, Store

pytestmark = pytest.mark.timeout(120)

KEY_A = "a-learner-key-0123456789"
KEY_B = "another-key-9876543210"


def _call(url: str, path: str, body: bytes | None = None, headers: dict | None = None, method: str | None = None):
    request = urllib.request.Request(url + path, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _result(rid: str, name: str = "03.month-su", status: str = "failed", at: float | None = None) -> dict:
    return {"id": rid, "name": name, "status": status, "earned": 0.0, "points": 1.0, "at": at or time.time()}


def _post(url: str, body, key: str = KEY_A, join: str | None = None, raw: bytes | None = None):
    headers = {"Content-Type": "application/json", "X-Learner-Key": key}
    if join:
        headers["Authorization"] = f"Bearer {join}"
    code, data, _ = _call(url, "/api/results", raw if raw is not None else json.dumps(body).encode(), headers, "POST")
    return code, json.loads(data)


def _room(url: str, instructor: str) -> dict:
    code, data, _ = _call(url, "/api/room", headers={"Authorization": f"Bearer {instructor}"})
    assert code == 200, data
    return json.loads(data)


@pytest.fixture
def workshop(tmp_path):
    server = running(tmp_path / "workshop", refresh_s=0.5)
    yield server
    server.stop()


def test_results_need_the_join_token_and_then_the_learners_own_key(workshop):
    url, tokens = workshop.url, workshop.workshop.tokens
    code, body = _post(url, {"learner": "ada", "results": [_result("r1")]})
    assert code == 401 and "join token" in body["error"]
    code, body = _post(url, {"learner": "ada", "results": [_result("r1")]}, join="not-the-token")
    assert code == 401
    assert _post(url, {"learner": "ada", "results": [_result("r1")]}, join=tokens.join) == (
        200,
        {"accepted": 1, "new": 1},
    )
    # once joined, the learner's own key is enough (a rotated join token does not cut them off)
    tokens.rotate_join()
    assert _post(url, {"learner": "ada", "results": [_result("r2", status="passed")]})[0] == 200
    # a resend of the same result is accepted and counted once
    assert _post(url, {"learner": "ada", "results": [_result("r2", status="passed")]}) == (
        200,
        {"accepted": 1, "new": 0},
    )
    room = _room(url, tokens.instructor)
    ada = next(p for p in room["learners"] if p["learner"] == "ada")
    assert (ada["passed"], ada["failing"], ada["failures"]) == (1, 0, 1)


def test_a_forged_learner_id_is_refused_and_changes_nothing(workshop):
    url, tokens = workshop.url, workshop.workshop.tokens
    assert _post(url, {"learner": "ada", "results": [_result("r1", status="passed")]}, join=tokens.join)[0] == 200
    before = workshop.workshop.store.results_for("ada")
    # someone else claims ada's id: with the join token but another key, and with no token at all
    for join in (tokens.join, None):
        code, body = _post(url, {"learner": "ada", "results": [_result("x1", status="failed")]}, key=KEY_B, join=join)
        assert code == 403 and "ada" in body["error"] and "LAB_LEARNER" in body["error"]
    code, body = _post(url, {"learner": "ada", "results": []}, key="", join=tokens.join)
    assert code == 401 and "X-Learner-Key" in body["error"]
    assert workshop.workshop.store.results_for("ada") == before
    ada = next(p for p in _room(url, tokens.instructor)["learners"] if p["learner"] == "ada")
    assert (ada["passed"], ada["failing"]) == (1, 0)


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (json.dumps([1, 2]).encode(), 400, "JSON object"),
        (json.dumps({"learner": 7, "results": []}).encode(), 400, "learner must be a string"),
        (json.dumps({"learner": "../etc", "results": []}).encode(), 400, "learner must be a learner id"),
        (json.dumps({"learner": "ada", "results": {"a": 1}}).encode(), 400, "results must be a list"),
        (json.dumps({"learner": "ada", "results": [_result("r1") | {"earned": "1"}]}).encode(), 400, "earned"),
        (json.dumps({"learner": "ada", "results": [_result("r1") | {"status": "won"}]}).encode(), 400, "status"),
        (json.dumps({"learner": "ada", "results": [_result("r1") | {"name": "lab3"}]}).encode(), 400, "check name"),
        (json.dumps({"learner": "ada", "results": [], "resources": "vm"}).encode(), 400, "resources"),
        (json.dumps({"learner": "ada", "results": [_result(f"r{i}") for i in range(201)]}).encode(), 400, "at most"),
        (b'{"learner": "ada", "pad": "' + b"x" * (MAX_BYTES + 1) + b'"}', 413, "over"),
    ],
)
def test_bad_input_is_refused_with_a_clear_json_error_and_nothing_is_lost(workshop, raw, code, says):
    url, tokens = workshop.url, workshop.workshop.tokens
    assert _post(url, {"learner": "ada", "results": [_result("keep")]}, join=tokens.join)[0] == 200
    got, body = _post(url, None, join=tokens.join, raw=raw)
    assert got == code and says in body["error"], body
    assert [r["rid"] for r in workshop.workshop.store.results_for("ada")] == ["keep"]
    assert _post(url, {"learner": "ada", "results": [_result("after")]})[0] == 200  # the server goes on


def test_dashboard_needs_the_instructor_and_signs_in_with_a_cookie(workshop):
    url, tokens = workshop.url, workshop.workshop.tokens
    code, page, _ = _call(url, "/")
    assert code == 200 and b"Sign in" in page and tokens.instructor.encode() not in page
    assert _call(url, "/api/room")[0] == 401
    assert _call(url, "/api/join-token", method="POST")[0] == 401
    code, page, _ = _call(url, "/signin", b"token=wrong", {"Content-Type": "application/x-www-form-urlencoded"}, "POST")
    assert code == 401 and b"not the instructor token" in page
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(urllib.request.Request(f"{url}/signin", data=f"token={tokens.instructor}".encode())) as resp:
        page = resp.read()
    assert b"static/plotly.min.js" in page and b"Learners" in page
    with opener.open(f"{url}/api/room") as resp:
        assert "checks" in json.load(resp)
    with opener.open(urllib.request.Request(f"{url}/api/join-token", method="POST")) as resp:
        new = json.load(resp)["join_token"]
    assert new == tokens.join and (workshop.workshop.folder / "join-token").read_text().strip() == new
    code, js, headers = _call(url, "/static/plotly.min.js")
    assert code == 200 and len(js) > 1_000_000 and "javascript" in headers["content-type"]


def test_room_counts_per_learner_and_per_check_and_every_figure_is_valid_plotly(workshop):
    url, tokens = workshop.url, workshop.workshop.tokens
    t = time.time()
    sends = {
        "ada": [_result("1", "03.month-su", "failed", t), _result("2", "03.month-su", "failed", t + 1)],
        "bo": [_result("1", "03.month-su", "passed", t), _result("2", "00.a40-count", "passed", t)],
        "cy": [],
    }
    for i, (name, results) in enumerate(sends.items()):
        resources = [{"kind": "server", "name": f"vm-{name}", "lab": "03", "su_per_hour": 2.0 + i}]
        body = {"learner": name, "results": results, "resources": resources}
        assert _post(url, body, key=f"{name}-key-0123456789abcdef", join=tokens.join)[0] == 200
    room = _room(url, tokens.instructor)
    people = {p["learner"]: p for p in room["learners"]}
    assert (people["ada"]["failing"], people["ada"]["failures"], people["ada"]["failing_checks"]) == (
        1,
        2,
        ["03.month-su"],
    )
    assert people["bo"]["passed"] == 2
    assert people["cy"]["not_started"] == len(room["checks"])
    assert people["ada"]["not_started"] == len(room["checks"]) - 1
    assert people["cy"]["su_per_hour"] == 4.0 and people["cy"]["resources"][0]["name"] == "vm-cy"
    assert room["su_per_hour"] == 9.0
    assert room["stuck"] == ["03.month-su"]
    check = next(c for c in room["checks"] if c["name"] == "03.month-su")
    assert (check["passed"], check["failing"], check["not_started"], check["attempts"]) == (1, 1, 1, 3)
    bars = {trace["name"]: trace["y"] for trace in check["figure"]["data"]}
    assert bars["failing"] == [0, 0, 1, 0, 0, 0] and bars["passed"] == [0, 1, 0, 0, 0, 0]
    assert bars["not started"] == [1, 0, 0, 0, 0, 0]
    for c in room["checks"]:
        go.Figure(c["figure"])  # raises on anything plotly would not draw
    assert {"00.a40-count", "03.month-su"} <= {c["name"] for c in room["checks"]}


def test_the_store_survives_a_restart(tmp_path):
    folder = tmp_path / "workshop"
    first = running(folder)
    tokens = first.workshop.tokens
    assert _post(first.url, {"learner": "ada", "results": [_result("r1")]}, join=tokens.join)[0] == 200
    first.stop()
    first.workshop.store.close()
    again = running(folder)
    try:
        assert again.workshop.tokens.instructor == tokens.instructor  # the bookmarked sign-in still works
        assert [r["rid"] for r in again.workshop.store.results_for("ada")] == ["r1"]
        assert _post(again.url, {"learner": "ada", "results": [_result("r2")]})[0] == 200  # still ada's key
        assert _post(again.url, {"learner": "ada", "results": []}, key=KEY_B, join=tokens.join)[0] == 403
    finally:
        again.stop()


def _start_cli(folder: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab_helpers", "workshop", "--port", "0", "--state", str(folder), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
    assert found, first + proc.stderr.read()
    return proc, f"http://127.0.0.1:{found.group(1)}"


def test_lab_workshop_answers_within_10_s_and_keeps_what_a_kill_9_interrupts(tmp_path):
    folder = tmp_path / "room"
    began = time.monotonic()
    proc, url = _start_cli(folder)
    try:
        while True:
            try:
                code, page, _ = _call(url, "/")
                break
            except OSError:
                assert time.monotonic() - began < 10, "lab workshop did not answer GET / within 10 s"
                time.sleep(0.05)
        assert code == 200 and b"Sign in" in page and time.monotonic() - began < 10
        join = (folder / "join-token").read_text().strip()
        assert (folder / "join-token").stat().st_mode & 0o077 == 0
        for i in range(30):
            assert (
                _post(
                    url, {"learner": f"l{i}", "results": [_result("r1")]}, key=f"k{i:02d}-0123456789abcdef", join=join
                )[0]
                == 200
            )
        # many writes in flight, then kill -9: every result that was answered 200 is there afterwards
        writers = [
            subprocess.Popen([sys.executable, "-c", _FLOOD, url, join, str(n)], stdout=subprocess.PIPE, text=True)
            for n in range(2)
        ]
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        acked = [line.split() for w in writers for line in w.communicate(timeout=30)[0].splitlines()]
    finally:
        proc.kill()
    store = Store(folder / DB_NAME)
    for learner, rid in acked:
        assert rid in {r["rid"] for r in store.results_for(learner)}, f"{learner}/{rid} was accepted but is lost"
    assert len(acked) > 10, "the flood did not get going before the kill"
    assert len(store.snapshot().learners) >= 32
    proc, url = _start_cli(folder)  # and the workshop starts again on the same folder
    try:
        assert _room(url, (folder / "instructor-token").read_text().strip())["results"] >= 30 + len(acked)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_FLOOD = """
import json, sys, time, urllib.request
url, join, n = sys.argv[1], sys.argv[2], sys.argv[3]
learner, i = f"flood{n}", 0
while True:
    i += 1
    body = {"learner": learner, "results": [{"id": f"f{i}", "name": "01.bound", "status": "failed",
            "earned": 0, "points": 1, "at": time.time()}]}
    req = urllib.request.Request(url + "/api/results", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Learner-Key": f"flood-key-{n}-0123456789", "Authorization": "Bearer " + join})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            if r.status == 200:
                print(learner, f"f{i}", flush=True)
    except OSError:
        break
"""


def test_store_accept_many_refuses_only_the_bad_batch(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    ok = Batch("ada", [Result("r1", "00.a40-count", "passed", 1, 1, 1.0)])
    assert store.accept_many([(ok, KEY_A, True)]) == [1]
    forged = Batch("ada", [Result("x", "00.a40-count", "failed", 0, 1, 2.0)])
    stranger = Batch("bo", [Result("r1", "00.a40-count", "failed", 0, 1, 2.0)])
    fine = Batch("cy", [Result("r1", "00.a40-count", "partial", 0.5, 1, 2.0)])
    outcomes = store.accept_many([(forged, KEY_B, True), (stranger, KEY_B, False), (fine, KEY_B, True)])
    assert [type(o).__name__ for o in outcomes] == ["ClaimedByAnother", "NotJoined", "int"]
    assert [r["rid"] for r in store.results_for("ada")] == ["r1"] and store.results_for("bo") == []
    assert {p["learner"] for p in store.snapshot().learners} == {"ada", "cy"}


def test_a_busy_port_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "lab_helpers", "workshop", "--port", str(port), "--state", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
