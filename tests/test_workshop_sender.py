"""The learner's side: results go to a workshop only when one is configured, and survive it being down."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from lab_helpers.checks.core import check
from lab_helpers.cli import main
from lab_helpers.config import workshop_file, workshop_target
from lab_helpers.workshop import sender as sender_module
from lab_helpers.workshop.sender import Sender, pending, sender_for
from lab_helpers.workshop.server import running

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def learner_state(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "learner"))
    monkeypatch.setenv("LAB_LEARNER", "ada")
    monkeypatch.delenv("LAB_WORKSHOP_URL", raising=False)
    monkeypatch.delenv("LAB_WORKSHOP_TOKEN", raising=False)
    monkeypatch.delenv("LAB_RECORD_PROGRESS", raising=False)
    monkeypatch.setattr(sender_module, "BACKOFF_S", (0.2, 0.4))
    return tmp_path / "learner"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_nothing_is_written_or_sent_without_a_workshop(learner_state):
    assert workshop_target() is None
    threads = {t.name for t in threading.enumerate()}
    result = check("00.a40-count", 4)
    assert result.status in ("passed", "failed")
    assert (learner_state / "progress" / "00.json").exists()  # recorded as always
    assert not (learner_state / "workshop").exists()
    assert "workshop-sender" not in {t.name for t in threading.enumerate()} - threads


def test_results_wait_while_the_workshop_is_down_and_arrive_when_it_is_up(learner_state, tmp_path, monkeypatch):
    port = _free_port()
    monkeypatch.setenv("LAB_WORKSHOP_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LAB_WORKSHOP_TOKEN", "not-known-yet")
    began = time.perf_counter()
    check("00.a40-count", 4)
    check("00.a40-count", 3)
    assert time.perf_counter() - began < 2.0, "a check waited for the network"
    assert len(pending()) == 2  # kept on disk while nobody answers
    server = running(tmp_path / "room", port=port)
    try:
        monkeypatch.setenv("LAB_WORKSHOP_TOKEN", server.workshop.tokens.join)
        check("00.storage-for", "object storage")  # a new sender (new token) also finds the older two
        assert _wait(lambda: not pending()), "the outbox never emptied"
        stored = server.workshop.store.results_for("ada")
        assert [r["check_name"] for r in stored].count("00.a40-count") == 2 and len(stored) == 3
    finally:
        server.stop()


def test_a_new_kernel_sends_what_an_earlier_one_left_behind(learner_state, tmp_path):
    server = running(tmp_path / "room")
    try:
        folder = learner_state / "workshop"
        box = sender_module.outbox(folder)
        (box / "00000000000000000001-left.json").write_text(
            json.dumps({"id": "left", "name": "01.bound", "status": "failed", "earned": 0, "points": 1, "at": 1.0})
        )
        sender = Sender(server.url, server.workshop.tokens.join, folder, "ada", resources=lambda: [])
        assert sender.wait_until_sent(15)
        assert [r["rid"] for r in server.workshop.store.results_for("ada")] == ["left"]
        assert server.workshop.store.snapshot().learners[0]["resources"] == []
    finally:
        server.stop()


def test_a_wrong_token_keeps_results_and_says_so_and_refused_ones_are_set_aside(learner_state, tmp_path):
    server = running(tmp_path / "room")
    try:
        folder = learner_state / "workshop"
        box = sender_module.outbox(folder)
        (box / "1-a.json").write_text(
            json.dumps({"id": "a", "name": "01.bound", "status": "failed", "earned": 0, "points": 1, "at": 1.0})
        )
        wrong = Sender(server.url, "wrong-token", folder, "ada", resources=None)
        assert _wait(lambda: "join token" in wrong.last_error)
        assert len(pending(folder)) == 1  # still waiting for a right token
        (box / "2-b.json").write_text(json.dumps({"id": "b", "name": "not a check", "status": "passed"}))
        right = Sender(server.url, server.workshop.tokens.join, folder, "ada", resources=None)
        assert _wait(lambda: not pending(folder))
        rejected = sorted(p.name for p in (box / "rejected").iterdir())
        assert rejected == ["2-b.json", "2-b.reason.txt"]  # sent with a's, then alone: a's went through
        assert "name" in (box / "rejected" / "2-b.reason.txt").read_text()
        assert [r["rid"] for r in server.workshop.store.results_for("ada")] == ["a"]
        assert any(s.last_error.startswith("the workshop answered 400") for s in (wrong, right))
    finally:
        server.stop()


def test_a_sender_posts_the_learners_running_resources(learner_state, tmp_path):
    server = running(tmp_path / "room")
    try:
        resources = [{"kind": "server", "name": "lab03-vm", "lab": "03", "su_per_hour": 2.0}]
        sender = sender_for(server.url, server.workshop.tokens.join, learner_state / "w2", resources=lambda: resources)
        sender.wake()
        assert _wait(lambda: bool(server.workshop.store.snapshot().learners))
        person = server.workshop.store.snapshot().learners[0]
        assert (person["resources"], person["su_per_hour"]) == (resources, 2.0)
    finally:
        server.stop()


def test_lab_start_saves_and_forgets_the_workshop(learner_state, capsys, monkeypatch):
    from types import SimpleNamespace

    from lab_helpers.notebooks import workspace

    synced = SimpleNamespace(created=[], updated=[], beside=[])
    monkeypatch.setattr(workspace, "sync_workspace", lambda: (learner_state / "workspace", synced))
    assert main(["start", "--prepare", "--workshop", "http://127.0.0.1:9/", "--workshop-token", "T0"]) == 0
    assert workshop_target() == ("http://127.0.0.1:9", "T0")
    assert workshop_file().stat().st_mode & 0o077 == 0
    assert "your check results go to http://127.0.0.1:9" in capsys.readouterr().out
    assert main(["start", "--prepare", "--workshop", "http://127.0.0.1:9"]) == 2
    assert "join token" in capsys.readouterr().err
    assert main(["start", "--prepare", "--workshop", "127.0.0.1:9", "--workshop-token", "T"]) == 2
    assert main(["start", "--prepare", "--workshop", "off"]) == 0
    assert workshop_target() is None
