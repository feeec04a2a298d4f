"""The sandbox cloud's one state store: SQLite in WAL mode under the learner's state directory.

Every resource is a JSON document keyed by (kind, id), with an optional parent (a Swift
container for objects, a server for its events). Writes go through :meth:`Store.tx`, which
holds a process lock and an immediate SQLite transaction, so a quota check and the insert it
guards are one step even when two notebooks create servers at the same moment.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS res (
    kind TEXT NOT NULL, id TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE INDEX IF NOT EXISTS res_parent ON res (kind, parent);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# Kinds whose parent column is one of their fields, so lookups by it use the index.
PARENT_FIELD = {"port": "device_id", "floatingip": "port_id"}


class Store:
    """JSON documents in SQLite; one instance per process, one connection per thread."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "cloud.sqlite"
        self._local = threading.local()
        self._lock = threading.RLock()
        with self._lock:
            db = self._db()
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
            self._local.depth = 0
        return db

    @contextmanager
    def tx(self) -> Iterator[Store]:
        """One atomic read-modify-write step (re-entrant within a thread)."""
        committed: list[Callable[[], None]] = []
        with self._lock:
            db = self._db()
            if self._local.depth == 0:
                db.execute("BEGIN IMMEDIATE")
            self._local.depth += 1
            try:
                yield self
            except BaseException:
                self._local.depth -= 1
                if self._local.depth == 0:
                    db.execute("ROLLBACK")
                    self._local.after = []
                raise
            self._local.depth -= 1
            if self._local.depth == 0:
                db.execute("COMMIT")
                committed, self._local.after = getattr(self._local, "after", []), []
        for callback in committed:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this thread's transaction has committed (at once outside one): a writer
        wakes those waiting for its change only when they can read it."""
        if getattr(self._local, "depth", 0) == 0:
            callback()
        else:
            self._local.after = [*getattr(self._local, "after", []), callback]

    # -- documents -----------------------------------------------------------------------
    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        row = self._db().execute("SELECT data FROM res WHERE kind=? AND id=?", (kind, id)).fetchone()
        return json.loads(row[0]) if row else None

    def need(self, kind: str, id: str) -> dict[str, Any]:
        """The document the caller knows exists (it checked, or just wrote it); KeyError when it does not."""
        doc = self.get(kind, id)
        if doc is None:
            raise KeyError(f"no {kind} {id!r} in the sandbox store")
        return doc

    def put(self, kind: str, id: str, data: dict[str, Any], parent: str = "") -> dict[str, Any]:
        if kind in PARENT_FIELD:
            parent = data.get(PARENT_FIELD[kind]) or ""
        self._db().execute(
            "INSERT INTO res (kind, id, parent, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, id) DO UPDATE SET data=excluded.data, parent=excluded.parent",
            (kind, id, parent, json.dumps(data, separators=(",", ":"))),
        )
        return data

    def put_many(self, kind: str, rows: list[tuple[str, dict[str, Any], str]]) -> None:
        self._db().executemany(
            "INSERT OR REPLACE INTO res (kind, id, parent, data) VALUES (?, ?, ?, ?)",
            [(kind, i, p, json.dumps(d, separators=(",", ":"))) for i, d, p in rows],
        )

    def delete(self, kind: str, id: str) -> bool:
        cur = self._db().execute("DELETE FROM res WHERE kind=? AND id=?", (kind, id))
        return cur.rowcount > 0

    def delete_children(self, kind: str, parent: str) -> None:
        self._db().execute("DELETE FROM res WHERE kind=? AND parent=?", (kind, parent))

    def list(self, kind: str, parent: str | None = None) -> list[dict[str, Any]]:
        if parent is None:
            rows = self._db().execute("SELECT data FROM res WHERE kind=? ORDER BY rowid", (kind,))
        else:
            rows = self._db().execute("SELECT data FROM res WHERE kind=? AND parent=? ORDER BY id", (kind, parent))
        return [json.loads(r[0]) for r in rows]

    def count(self, kind: str, parent: str | None = None) -> int:
        if parent is None:
            return self._db().execute("SELECT COUNT(*) FROM res WHERE kind=?", (kind,)).fetchone()[0]
        return self._db().execute("SELECT COUNT(*) FROM res WHERE kind=? AND parent=?", (kind, parent)).fetchone()[0]

    def find(self, kind: str, **fields: Any) -> builtins.list[dict[str, Any]]:
        """Documents of ``kind`` whose top-level fields equal ``fields``."""
        return [d for d in self.list(kind) if all(d.get(k) == v for k, v in fields.items())]

    # -- settings ------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._db().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """One statement on a family's own table (the Kubernetes journal); inside ``tx`` for writes."""
        return self._db().execute(sql, params)

    def execute_script(self, sql: str) -> None:
        """Create a family's own tables (``CREATE TABLE IF NOT EXISTS``)."""
        self._db().executescript(sql)

    def wipe_resources(self, keep: tuple[str, ...] = ("token", "ec2")) -> None:
        """Forget every resource but the identity kinds in ``keep``; keep the settings."""
        marks = ",".join("?" * len(keep)) or "''"
        self._db().execute(f"DELETE FROM res WHERE kind NOT IN ({marks})", keep)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def now() -> float:
    return time.time()


def iso(ts: float, micro: bool = False) -> str:
    """An OpenStack timestamp (UTC, no offset suffix except the Z Nova uses)."""
    fmt = "%Y-%m-%dT%H:%M:%S"
    base = time.strftime(fmt, time.gmtime(ts))
    if micro:
        return f"{base}.{int((ts % 1) * 1e6):06d}"
    return base + "Z"
