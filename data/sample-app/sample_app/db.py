"""The jobs table in PostgreSQL, through pg8000 (a pure-Python driver).

Each call opens its own short connection: the api serves requests on several threads and a
pg8000 connection is not shared between threads. A production service would keep a pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import closing, contextmanager
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
        self._schema_ready = False

    @contextmanager
    def _connect(self) -> Iterator[pg8000.native.Connection]:
        with closing(pg8000.native.Connection(**self._params)) as conn:
            if not self._schema_ready:
                try:
                    conn.run(SCHEMA)
                except pg8000.native.DatabaseError as exc:
                    # two parts creating the table at the same moment: the other one won
                    if "already exists" not in str(exc) and "duplicate key" not in str(exc):
                        raise
                self._schema_ready = True
            yield conn

    def ping(self) -> None:
        """Raises if the database does not answer (or the jobs table cannot be created)."""
        with self._connect() as conn:
            conn.run("SELECT 1")

    def insert(self, job_id: str, object_name: str, api_version: str) -> dict[str, Any]:
        with self._connect() as conn:
            rows = conn.run(
                f"INSERT INTO jobs (id, status, object_name, api_version) VALUES (:id, 'queued', :obj, :ver) "
                f"RETURNING {', '.join(COLUMNS)}",
                id=job_id,
                obj=object_name,
                ver=api_version,
            )
        return _job(rows[0])

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._connect() as conn:
            rows = conn.run(f"{_SELECT} WHERE id = :id", id=job_id)
        return _job(rows[0]) if rows else None

    def newest(self, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
        with self._connect() as conn:
            rows = conn.run(f"{_SELECT} ORDER BY created_at DESC, id LIMIT :n", n=min(limit, LIST_LIMIT))
        return [_job(row) for row in rows]

    def start(self, job_id: str) -> bool:
        """Mark a queued job running; False if it is not queued (done already, or unknown)."""
        with self._connect() as conn:
            rows = conn.run(
                "UPDATE jobs SET status = 'running' WHERE id = :id AND status = 'queued' RETURNING id", id=job_id
            )
        return bool(rows)

    def finish(self, job_id: str, label: int, confidence: float, model: str) -> None:
        with self._connect() as conn:
            conn.run(
                "UPDATE jobs SET status = 'done', label = :label, confidence = :conf, model = :model, error = NULL "
                "WHERE id = :id",
                id=job_id,
                label=label,
                conf=confidence,
                model=model,
            )

    def fail(self, job_id: str, reason: str) -> None:
        with self._connect() as conn:
            conn.run(
                "UPDATE jobs SET status = 'failed', error = :reason WHERE id = :id", id=job_id, reason=reason[:2000]
            )


def _job(row: list[Any]) -> dict[str, Any]:
    job = dict(zip(COLUMNS, row, strict=True))
    if isinstance(job["created_at"], dt.datetime):
        job["created_at"] = job["created_at"].isoformat()
    return job
