"""The job queue: job ids on the list "jobs" in Redis (or Valkey, which speaks the same protocol).

The api pushes on the left (LPUSH) and workers pop from the right (BRPOP), so the oldest job goes
first. BRPOP blocks for up to a timeout, so an idle worker waits without spinning.
"""

from __future__ import annotations

import redis

QUEUE_KEY = "jobs"


class JobQueue:
    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self._timeout_s = timeout_s
        # the socket must wait longer than the longest BRPOP, or a quiet queue reads as a dead server
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s + 60)

    def ping(self) -> None:
        """Raises if the queue server does not answer."""
        self._redis.ping()

    def push(self, job_id: str) -> None:
        self._redis.lpush(QUEUE_KEY, job_id)

    def pop(self, wait_s: float) -> str | None:
        """The oldest job id, waiting up to ``wait_s`` seconds for one; None if none came."""
        item = self._redis.brpop([QUEUE_KEY], timeout=wait_s)
        if item is None:
            return None
        _key, value = item
        return value.decode() if isinstance(value, bytes) else str(value)

    def __len__(self) -> int:
        return int(self._redis.llen(QUEUE_KEY))

    def close(self) -> None:
        self._redis.close()
