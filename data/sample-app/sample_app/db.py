"""The jobs table in PostgreSQL, through pg8000 (a pure-Python driver).

One connection per process, used by one thread at a time and opened again after it breaks.
A busier service would keep a pool of them (several requests in the database at once).
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import suppress
from typing import Any
from urllib.parse import unquote, urlsplit

import pg8000.native

STATUSES = ("queued", "running", "done", "failed")
LIST_LIMIT = 50

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    status      text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    object_name text NOT NULL,
    label       integer,
    confidence  double precision,
    model       text,
    api_version text NOT NULL,
    error       text
)
"""
COLUMNS = ("id", "created_at", "status", "object_name", "label", "confidence", "model", "api_version", "error")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs"


class Database:
    """The jobs table of the database at ``url`` (``postgresql://user:password@host:port/name``)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        self._params: dict[str, Any] = {
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password) if parts.password is not None else None,
            "host": parts.hostname or "localhost",
            "port": parts.port or 5432,
            "database": parts.path.lstrip("/") or None,
            "timeout": timeout_s,
        }
        self._conn: pg8000.native.Connection | None = None
        self._lock = threading.Lock()  # the api serves requests on several threads; a connection is not shared

    def _run(self, sql: str, **params: Any) -> list[list[Any]]:
        """One statement on the process's connection (opened, and the table created, on first use).

        A connection that broke since the last call (the server restarted, a network blip) is
        opened again and the statement sent once more; any other error is the caller's.
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._open().run(sql, **params)
                except (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError) as exc:
                    if attempt == 2 or not _connection_lost(exc):
                        raise
                    self._close()
        raise AssertionError("unreachable")

    def _open(self) -> pg8000.native.Connection:
        if self._conn is None:
            conn = pg8000.native.Connection(**self._params)
            try:
                conn.run(SCHEMA)
            except pg8000.native.DatabaseError as exc:
                # two parts creating the table at the same moment: the other one won
                if "already exists" not in str(exc) and "duplicate key" not in str(exc):
                    conn.close()
                    raise
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._close()

    def ping(self) -> None:
        """Raises if the database does not answer (or the jobs table cannot be created)."""
        self._run("SELECT 1")

    def insert(self, job_id: str, object_name: str, api_version: str) -> dict[str, Any]:
        rows = self._run(
            f"INSERT INTO jobs (id, status, object_name, api_version) VALUES (:id, 'queued', :obj, :ver) "
            f"RETURNING {', '.join(COLUMNS)}",
            id=job_id,
            obj=object_name,
            ver=api_version,
        )
        return _job(rows[0])

    def get(self, job_id: str) -> dict[str, Any] | None:
        rows = self._run(f"{_SELECT} WHERE id = :id", id=job_id)
        return _job(rows[0]) if rows else None

    def newest(self, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
        rows = self._run(f"{_SELECT} ORDER BY created_at DESC, id LIMIT :n", n=min(limit, LIST_LIMIT))
        return [_job(row) for row in rows]

    def start(self, job_id: str) -> bool:
        """Mark a queued job running; False if it is not queued (done already, or unknown)."""
        rows = self._run(
            "UPDATE jobs SET status = 'running' WHERE id = :id AND status = 'queued' RETURNING id", id=job_id
        )
        return bool(rows)

    def finish(self, job_id: str, label: int, confidence: float, model: str) -> None:
        self._run(
            "UPDATE jobs SET status = 'done', label = :label, confidence = :conf, model = :model, error = NULL "
            "WHERE id = :id",
            id=job_id,
            label=label,
            conf=confidence,
            model=model,
        )

    def fail(self, job_id: str, reason: str) -> None:
        self._run("UPDATE jobs SET status = 'failed', error = :reason WHERE id = :id", id=job_id, reason=reason[:2000])


def _connection_lost(exc: Exception) -> bool:
    """True for errors that mean the connection is gone, not that the statement was wrong."""
    if isinstance(exc, (pg8000.native.InterfaceError, OSError)):
        return True
    # SQLSTATE class 08 (connection exception) and 57P01 (terminated by the administrator)
    code = exc.args[0].get("C", "") if exc.args and isinstance(exc.args[0], dict) else ""
    return code.startswith("08") or code.startswith("57P")


def _job(row: list[Any]) -> dict[str, Any]:
    job = dict(zip(COLUMNS, row, strict=True))
    if isinstance(job["created_at"], dt.datetime):
        job["created_at"] = job["created_at"].isoformat()
    return job
