"""One writer thread with group commit: many learners' results, one SQLite transaction.

SQLite lets one writer in at a time; threads that each try to write wait in SQLite's busy handler,
which sleeps in steps of up to 100 ms, and throughput collapses under a room of senders. Instead
every request hands its batch to this thread and awaits a future; the thread takes whatever has
queued up (up to ``MAX_GROUP`` batches) and commits it in one transaction, so a busier room gets
bigger commits, not longer queues. The dashboard's reads never come here: WAL lets them run beside it.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from .store import Batch, Store

__all__ = ["Writer"]

MAX_GROUP = 500


class Writer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[tuple[Batch, str, bool, Future]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True, name="workshop-writer")
        self._thread.start()

    def submit(self, batch: Batch, key: str, may_join: bool) -> Future:
        """A future of the number of new results, or of ``NotJoined`` / ``ClaimedByAnother``."""
        future: Future = Future()
        self._queue.put((batch, key, may_join, future))
        return future

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                outcomes = self.store.accept_many([(b, k, j) for b, k, j, _ in group])
            except Exception as exc:  # the disk is full, the file was removed: every request hears it
                for *_, future in group:
                    future.set_exception(exc)
                continue
            for (*_, future), outcome in zip(group, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
