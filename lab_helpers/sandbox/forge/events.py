"""Push events: one per ref a push updated, recorded durably in the sandbox store by the repository's
``post-receive`` hook (so a push the client saw succeed is recorded even if the service stops right after),
then handed to in-process subscribers (the workflow runner) by the service once the push's response ends.
A subscriber that starts later catches up with ``since``.

``before`` is all zeros for a new ref, ``after`` all zeros for a deletion (git's and GitHub's convention).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ..store import Store
from .repos import ZERO, repo_path

__all__ = ["ZERO", "PushEvent", "publish_new", "record", "repo_path", "since", "subscribe"]

log = logging.getLogger("lab_helpers.sandbox")

TABLE = """CREATE TABLE IF NOT EXISTS forge_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)"""


@dataclass(frozen=True)
class PushEvent:
    id: int
    owner: str
    repo: str
    ref: str
    before: str
    after: str
    pusher: str
    at: float

    @property
    def created(self) -> bool:
        return self.before == ZERO

    @property
    def deleted(self) -> bool:
        return self.after == ZERO


_ready: set[str] = set()
_subscribers: list[Callable[[PushEvent], None]] = []
_lock = threading.Lock()
_published = -1  # the last event id handed to subscribers in this process (-1: not yet known)


def _table(store: Store) -> None:
    key = str(store.path)
    if key not in _ready:
        store.execute(TABLE)
        _ready.add(key)


def record(store: Store, event: PushEvent) -> PushEvent:
    """Store ``event`` (its ``id`` is ignored) and return it with the id it got; subscribers in this process are
    called once the write has committed."""
    _table(store)
    data = {k: v for k, v in asdict(event).items() if k != "id"}
    with store.tx():
        cur = store.execute("INSERT INTO forge_events (data) VALUES (?)", (json.dumps(data),))
        stored = PushEvent(id=int(cur.lastrowid or 0), **data)
    global _published
    with _lock:
        if _published < 0:
            _published = stored.id - 1
    publish_new(store)
    return stored


def since(store: Store, after_id: int) -> list[PushEvent]:
    """Every event with an id above ``after_id``, oldest first."""
    _table(store)
    rows = store.execute("SELECT id, data FROM forge_events WHERE id > ? ORDER BY id", (after_id,)).fetchall()
    return [PushEvent(id=int(row[0]), **json.loads(row[1])) for row in rows]


def last_id(store: Store) -> int:
    _table(store)
    row = store.execute("SELECT MAX(id) FROM forge_events").fetchone()
    return int(row[0] or 0)


def subscribe(callback: Callable[[PushEvent], None]) -> None:
    """Call ``callback`` in this process for each event recorded from now on (after each push, in order)."""
    with _lock:
        _subscribers.append(callback)


def unsubscribe(callback: Callable[[PushEvent], None]) -> None:
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def start_publishing(store: Store) -> None:
    """From now on, hand subscribers the events recorded after this moment (earlier ones: ``since``)."""
    global _published
    with _lock:
        _published = last_id(store)


def publish_new(store: Store) -> None:
    """Hand subscribers the events recorded since the last ones they got (by this process or a hook's)."""
    global _published
    with _lock:
        if _published < 0:
            _published = last_id(store)
            return
        fresh = since(store, _published)
        if fresh:
            _published = fresh[-1].id
        callbacks = list(_subscribers)
    for event in fresh:
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # one subscriber's bug must not lose the event for the others
                log.exception("forge push event subscriber failed on event %d", event.id)


def new_event(owner: str, repo: str, ref: str, before: str, after: str, pusher: str) -> PushEvent:
    """An event to ``record`` (id 0 until stored)."""
    return PushEvent(0, owner, repo, ref, before, after, pusher, time.time())
