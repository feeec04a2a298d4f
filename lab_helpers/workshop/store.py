"""The workshop's results, kept durably: SQLite in WAL mode in the workshop's state folder.

Each thread has its own connection, so the dashboard's reads never wait for learners' writes (WAL
lets readers run beside the one writer; the server writes from one thread, see ``writer``). A
result's commit is done before the learner is told it was accepted; a kill -9 of the server
mid-write leaves the last committed state (SQLite's journal), and a result a learner resends
(same id) is counted once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Batch", "ClaimedByAnother", "NotJoined", "Result", "Store"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS learners (
    learner TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    joined REAL NOT NULL,
    last_seen REAL NOT NULL,
    su_per_hour REAL NOT NULL DEFAULT 0,
    resources TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS results (
    learner TEXT NOT NULL,
    rid TEXT NOT NULL,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL,
    earned REAL NOT NULL,
    points REAL NOT NULL,
    at REAL NOT NULL,
    received REAL NOT NULL,
    PRIMARY KEY (learner, rid)
);
CREATE TABLE IF NOT EXISTS latest (
    learner TEXT NOT NULL,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    last_at REAL NOT NULL,
    PRIMARY KEY (learner, check_name)
);
"""

FAILING = ("failed", "partial")
NO_ANSWER = "not done"  # the learner ran the check's cell with nothing filled in: not an attempt


class NotJoined(Exception):
    """A learner id the workshop has not seen, sent without the right join token."""


class ClaimedByAnother(Exception):
    """A learner id already joined with another learner key: a forged or mistaken id."""


@dataclass(frozen=True)
class Result:
    rid: str  # the sender's own id for this result: a resend is counted once
    check: str
    status: str
    earned: float
    points: float
    at: float


@dataclass(frozen=True)
class Batch:
    learner: str
    results: list[Result]
    resources: list[dict] | None = None  # None: the sender did not look (its last summary stands)
    su_per_hour: float = 0.0


@dataclass
class Snapshot:
    """What the dashboard reads: every learner and each learner's latest result per check."""

    learners: list[dict] = field(default_factory=list)
    latest: list[dict] = field(default_factory=list)
    results: int = 0


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.version = 0  # bumped after each commit that changed something: the dashboard's cache key
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed server keeps every commit
        conn.row_factory = sqlite3.Row
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def accept(self, batch: Batch, key: str, may_join: bool, now: float | None = None) -> int:
        """Store ``batch`` for its learner; the number of results new to the store.

        ``key`` is the learner's own key: the first batch of a learner id binds it (only when
        ``may_join``: the request carried the join token); later batches must carry the same key.
        """
        outcome = self.accept_many([(batch, key, may_join)], now)[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def accept_many(self, items: list[tuple[Batch, str, bool]], now: float | None = None) -> list[int | Exception]:
        """Store several learners' batches in one transaction (one commit for all: the writer's group
        commit); each gets its count of new results, or the exception that refused it alone."""
        now = time.time() if now is None else now
        conn = self._conn()
        outcomes: list[int | Exception] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for batch, key, may_join in items:
                conn.execute("SAVEPOINT one")
                try:
                    outcomes.append(self._accept_one(conn, batch, key, may_join, now))
                    conn.execute("RELEASE one")
                except (NotJoined, ClaimedByAnother) as exc:
                    conn.execute("ROLLBACK TO one")
                    conn.execute("RELEASE one")
                    outcomes.append(exc)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.version += 1
        return outcomes

    @staticmethod
    def _accept_one(conn: sqlite3.Connection, batch: Batch, key: str, may_join: bool, now: float) -> int:
        row = conn.execute("SELECT key_hash FROM learners WHERE learner = ?", (batch.learner,)).fetchone()
        if row is None:
            if not may_join:
                raise NotJoined(batch.learner)
            conn.execute(
                "INSERT INTO learners (learner, key_hash, joined, last_seen) VALUES (?, ?, ?, ?)",
                (batch.learner, key_hash(key), now, now),
            )
        elif not hmac.compare_digest(row["key_hash"], key_hash(key)):
            raise ClaimedByAnother(batch.learner)
        new = 0
        for r in batch.results:
            cur = conn.execute(
                "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch.learner, r.rid, r.check, r.status, r.earned, r.points, r.at, now),
            )
            if cur.rowcount != 1:
                continue  # a resend of a result already stored
            new += 1
            attempt = 0 if r.status == NO_ANSWER else 1
            failure = 1 if r.status in FAILING else 0
            conn.execute(
                "INSERT INTO latest VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (learner, check_name) DO UPDATE SET "
                "attempts = attempts + excluded.attempts, failures = failures + excluded.failures, "
                "status = CASE WHEN excluded.last_at >= last_at THEN excluded.status ELSE status END, "
                "last_at = MAX(last_at, excluded.last_at)",
                (batch.learner, r.check, r.status, attempt, failure, r.at),
            )
        if batch.resources is not None:
            conn.execute(
                "UPDATE learners SET last_seen = ?, resources = ?, su_per_hour = ? WHERE learner = ?",
                (now, json.dumps(batch.resources), batch.su_per_hour, batch.learner),
            )
        else:
            conn.execute("UPDATE learners SET last_seen = ? WHERE learner = ?", (now, batch.learner))
        return new

    def snapshot(self) -> Snapshot:
        """Every learner and the latest result per learner and check, read in one consistent transaction."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            learners = [dict(r) for r in conn.execute("SELECT * FROM learners ORDER BY learner")]
            latest = [dict(r) for r in conn.execute("SELECT * FROM latest")]
            count = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            conn.execute("COMMIT")
        for learner in learners:
            learner.pop("key_hash", None)
            learner["resources"] = json.loads(learner["resources"] or "[]")
        return Snapshot(learners, latest, int(count))

    def results_for(self, learner: str) -> list[dict]:
        """Every result of one learner, oldest first (tests and the instructor's own questions)."""
        rows = self._conn().execute(
            "SELECT rid, check_name, status, earned, points, at FROM results WHERE learner = ? ORDER BY at, rid",
            (learner,),
        )
        return [dict(r) for r in rows]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
