"""The runner's background loop in the sandbox service: push events in, runs out.

Durable by construction: the cursor (store meta ``actions_event_cursor``, the last event planned) moves
only after that event's runs are recorded as queued, and every queued or interrupted run is run again
when the service starts. So a push recorded before a crash is still run, and none is run twice to
completion. Subscribing to ``events`` only wakes the loop; the loop always reads ``events.since``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from ...kubernetes.kubelet.builds import build as _image_build  # the sandbox's image builder (build-push-action)
from ...store import Store
from .. import events
from . import records, runs
from .workspace import Builder, PushContext

__all__ = ["CURSOR", "Consumer", "start", "stop"]

CURSOR = "actions_event_cursor"
log = logging.getLogger("lab_helpers.sandbox")


class Consumer:
    def __init__(self, store: Store, state_dir: Path, server_url: str, builder: Builder | None) -> None:
        self.store = store
        self.state_dir = Path(state_dir)
        self.server_url = server_url
        self.builder = builder
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="actions-runner", daemon=True)

    def on_event(self, event: events.PushEvent) -> None:
        self.wake.set()

    def plan_new(self) -> None:
        cursor = int(self.store.meta(CURSOR) or 0)
        for event in events.since(self.store, cursor):
            push = PushContext(
                owner=event.owner,
                repo=event.repo,
                ref=event.ref,
                sha=event.after,
                before=event.before,
                actor=event.pusher,
                server_url=self.server_url,
            )
            repo = events.repo_path(self.state_dir, event.owner, event.repo)
            try:
                if repo.is_dir():
                    runs.plan(self.state_dir, repo, push)
            except Exception:  # a broken repository must not stop every later push's runs
                log.exception("workflow runner: planning runs for push event %d failed", event.id)
            with self.store.tx():
                self.store.set_meta(CURSOR, str(event.id))

    def run_pending(self) -> None:
        pending = [r for r in records.list_runs(self.state_dir) if r["status"] in ("queued", "in_progress")]
        for run in sorted(pending, key=lambda r: r["id"]):
            if self.stopping.is_set():
                return
            repo_info = run["repository"]
            repo = events.repo_path(self.state_dir, repo_info["owner"]["login"], repo_info["name"])
            try:
                runs.execute(self.state_dir, run["id"], repo, builder=self.builder, server_url=self.server_url)
            except Exception as exc:
                log.exception("workflow runner: run %d failed to run", run["id"])
                run.update(status="completed", conclusion="failure", message=f"The runner failed: {exc}")
                records.save(self.state_dir, run)
            self.plan_new()  # pushes that came in meanwhile queue behind the runs already waiting

    def loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                self.plan_new()
                self.run_pending()
            except Exception:
                log.exception("workflow runner loop")
            self.wake.wait(timeout=5.0)


_current: Consumer | None = None
_lock = threading.Lock()


def start(store: Store, state_dir: Path, urls: Mapping[str, str], builder: Builder | None = None) -> Consumer:
    """Start consuming push events (called by the forge family's ``start``)."""
    global _current
    with _lock:
        if _current is not None:
            return _current
        base = urls.get("main", "http://127.0.0.1") + "/git"
        consumer = Consumer(store, state_dir, base, builder or _image_build)
        events.subscribe(consumer.on_event)
        consumer.thread.start()
        _current = consumer
        return consumer


def stop(timeout: float = 5.0) -> None:
    """Stop the loop (a run in progress finishes its current step's process; queued runs wait for next start)."""
    global _current
    with _lock:
        consumer, _current = _current, None
    if consumer is None:
        return
    events.unsubscribe(consumer.on_event)
    consumer.stopping.set()
    consumer.wake.set()
    consumer.thread.join(timeout=timeout)
