"""The learner's side: hand each recorded check result to the workshop, in the background.

Only when a workshop is configured (``lab start --workshop URL --workshop-token T``, or
``LAB_WORKSHOP_URL``) is anything written or sent. A result is first written to an outbox file in
the state directory (one small atomic write), then a background thread posts the outbox and
deletes what the workshop accepted. The check itself never waits for the network and never fails
because of it: a workshop that is down, slow or unreachable only delays results, which stay on
disk (across kernel restarts) until accepted. Results the workshop refuses as malformed move to
``outbox/rejected/`` with the reason beside them, so nothing is lost silently.

This module imports only the standard library and ``config``: a kernel that records a check
loads nothing else.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..config import learner_id, state_dir, workshop_target

__all__ = ["Sender", "hand_over", "learner_key", "outbox", "pending", "sender_for"]

BATCH = 50
TIMEOUT_S = 5.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
RESOURCES_EVERY_S = 60.0
QUEUE_SIZE = 64  # wake-ups, not results: the results themselves wait on disk

ResourcesFn = Callable[[], "list[dict] | None"]

_senders: dict[tuple[str, str, str], Sender] = {}
_senders_lock = threading.Lock()


def _folder() -> Path:
    return state_dir() / "workshop"


def outbox(folder: Path | None = None) -> Path:
    path = (folder or _folder()) / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pending(folder: Path | None = None) -> list[Path]:
    """Results written but not yet accepted by the workshop, oldest first."""
    return sorted(outbox(folder).glob("*.json"))


def learner_key(folder: Path | None = None) -> str:
    """This learner's own key (created once, owner-only): it binds the learner id at the workshop."""
    path = (folder or _folder()) / "learner-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another kernel is writing it right now
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
            time.sleep(0.01)
        raise
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


def _write_outbox(result: dict, folder: Path) -> Path:
    rid = secrets.token_hex(12)
    item = {
        "id": rid,
        "name": result.get("name"),
        "status": result.get("status"),
        "earned": result.get("earned", 0.0),
        "points": result.get("points", 0.0),
        "at": result.get("at") or time.time(),
    }
    box = outbox(folder)
    path = box / f"{time.time_ns():020d}-{rid}.json"
    tmp = box / f".{path.name}.tmp"
    tmp.write_text(json.dumps(item), encoding="utf-8")
    os.replace(tmp, path)
    return path


def running_resources() -> list[dict] | None:
    """This learner's marked resources still on a cloud that can be asked without starting anything,
    with their SU/hour; None when none could be asked (the workshop keeps the last summary)."""
    try:
        from ..backends import Live, Sandbox
        from ..backends.live import config_file_is_sandbox, has_cloud_credentials
        from ..resources.inventory import find
        from ..sandbox import status
    except Exception:
        return None
    backends: list = []
    try:
        if status().running:
            backends.append(Sandbox())
        if has_cloud_credentials() and not config_file_is_sandbox():
            backends.append(Live())
    except Exception:
        return None
    out: list[dict] = []
    for backend in backends:
        try:
            items = find(backend.connect(), learner=learner_id())
        except Exception:
            return None
        out += [
            {"kind": i.kind, "name": i.name or i.id, "lab": i.lab, "su_per_hour": round(i.su_per_hour, 4)}
            for i in items
        ]
    return out[:100]


class Sender:
    """A background thread that posts the outbox to one workshop until it is empty."""

    def __init__(
        self,
        url: str,
        token: str,
        folder: Path,
        learner: str,
        resources: ResourcesFn | None = running_resources,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.url, self.token, self.folder, self.learner = url.rstrip("/"), token, Path(folder), learner
        self.resources, self.timeout_s = resources, timeout_s
        self.last_error = ""
        self._wake: queue.Queue[None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._resources_at = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True, name="workshop-sender")
        self._thread.start()

    def wake(self) -> None:
        try:
            self._wake.put_nowait(None)
        except queue.Full:
            pass  # a flush is already due: it reads every file in the outbox

    def _run(self) -> None:
        failures = 0
        while True:
            try:
                done = self.flush()
            except Exception as exc:  # never let the thread die: the next wake-up tries again
                self.last_error, done = f"{type(exc).__name__}: {exc}", False
            failures = 0 if done else failures + 1
            if done:  # idle: wake once a minute to report resources still running (and that we are here)
                wait = RESOURCES_EVERY_S if self.resources is not None else None
            else:
                wait = BACKOFF_S[min(failures, len(BACKOFF_S)) - 1]
            try:
                self._wake.get(timeout=wait)
            except queue.Empty:
                pass

    def _post(self, body: dict) -> tuple[int, dict]:
        data = json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/api/results",
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Learner-Key": learner_key(self.folder),
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                answer = json.loads(exc.read() or b"{}")
            except ValueError:
                answer = {}
            return exc.code, answer if isinstance(answer, dict) else {}

    def _resources_due(self) -> list[dict] | None:
        if self.resources is None or time.monotonic() - self._resources_at < RESOURCES_EVERY_S:
            return None
        self._resources_at = time.monotonic()
        try:
            return self.resources()
        except Exception:
            return None

    def flush(self) -> bool:
        """Post every pending result; True when the outbox is empty (or holds only what was refused)."""
        files = pending(self.folder)
        resources = self._resources_due()
        if not files and resources is None:
            return True
        for start in range(0, max(len(files), 1), BATCH):
            if not self._send(files[start : start + BATCH], resources):
                self._resources_at = 0.0  # look again with the next try
                return False
            resources = None
        return True

    def _send(self, paths: list[Path], resources: list[dict] | None) -> bool:
        """Post ``paths`` as one batch; False when the workshop is down or refuses the learner (try later)."""
        items, sent = [], []
        for path in paths:
            try:
                items.append(json.loads(path.read_text(encoding="utf-8")))
                sent.append(path)
            except FileNotFoundError:
                continue  # another kernel's sender sent it
            except ValueError:
                self._reject([path], "the outbox file is not JSON")
        body: dict = {"learner": self.learner, "results": items}
        if resources is not None:
            body["resources"] = resources
        try:
            code, answer = self._post(body)
        except (OSError, ValueError) as exc:  # down, refused, timed out: keep everything, try later
            self.last_error = f"the workshop at {self.url} did not answer ({exc}); results wait on disk"
            return False
        if code == 200:
            for path in sent:
                path.unlink(missing_ok=True)
            return True
        message = str(answer.get("error") or f"HTTP {code}")
        self.last_error = f"the workshop answered {code}: {message}"
        if code not in (400, 413):
            return False  # 401/403 (a token to fix), 5xx: keep everything, try again later
        if len(sent) > 1:  # find the one the workshop refuses; the others go through
            return all([self._send([path], None) for path in sent])
        self._reject(sent, message)  # the same request would be refused again
        return True

    def _reject(self, files: list[Path], reason: str) -> None:
        folder = outbox(self.folder) / "rejected"
        folder.mkdir(exist_ok=True)
        for path in files:
            try:
                os.replace(path, folder / path.name)
            except FileNotFoundError:
                continue
            (folder / f"{path.stem}.reason.txt").write_text(reason + "\n", encoding="utf-8")

    def wait_until_sent(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (tests, `lab workshop` tools); True when it is."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not pending(self.folder):
                return True
            self.wake()
            time.sleep(0.05)
        return not pending(self.folder)


def sender_for(url: str, token: str, folder: Path | None = None, **kwargs) -> Sender:
    """The one sender of this process for a workshop and state folder (started on first use)."""
    folder = folder or _folder()
    key = (url, token, str(folder))
    with _senders_lock:
        sender = _senders.get(key)
        if sender is None:
            sender = _senders[key] = Sender(url, token, folder, kwargs.pop("learner", None) or learner_id(), **kwargs)
    return sender


def hand_over(result: dict) -> None:
    """After a check result is recorded: queue it for the workshop when one is configured, else nothing.

    Returns at once; never raises for the network (the caller still guards against a full disk).
    """
    target = workshop_target()
    if target is None:
        return
    folder = _folder()
    _write_outbox(result, folder)
    sender_for(target[0], target[1], folder).wake()
