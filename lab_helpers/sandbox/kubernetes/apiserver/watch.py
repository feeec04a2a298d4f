"""Watches: one JSON event per line, streamed as the objects change.

- ``resourceVersion`` unset or ``0``: ADDED for every object there now, then the changes after;
  a resourceVersion: the changes after it, or an in-stream ERROR event with a 410 ``Expired``
  Status when the journal no longer reaches back that far (clients then list again).
- ``sendInitialEvents=true`` (the watch list of kubectl 1.35 and Helm 4): ADDED for each object,
  then a BOOKMARK whose object carries ``k8s.io/initial-events-end: "true"``.
- ``allowWatchBookmarks``: a BOOKMARK with the current resourceVersion now and then.
- Label and field selectors apply: an object that stops matching is DELETED for this watch, one
  that starts matching is ADDED, as the API server's watch cache reports them.
- The stream ends at ``timeoutSeconds`` (default: a random 30 to 60 minutes, as the API server
  picks), when the client goes, or when the service stops.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ...errors import ApiError
from .. import status
from ..objects import Objects
from ..resources import Resource

Obj = dict[str, Any]

BOOKMARK_S = 20.0  # how often an idle watch that allows bookmarks gets one
POLL_S = 1.0  # the longest a watch sleeps before it looks again (writers in other processes do not wake it)
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

_STOPPING = threading.Event()


def stopping() -> threading.Event:
    """Set when the service stops: every watch (and followed log) ends."""
    return _STOPPING


def set_stopping(event: threading.Event) -> None:
    """Use the service's stop event (``family.start`` passes it)."""
    global _STOPPING
    _STOPPING = event


def default_timeout() -> float:
    return random.uniform(1800, 3600)


@dataclass
class WatchRequest:
    res: Resource
    namespace: str  # "" for all namespaces
    match: Callable[[Obj], bool]
    resource_version: str = ""
    timeout: float = 0.0
    bookmarks: bool = False
    send_initial: bool | None = None
    render: Callable[[Obj, bool], Obj] | None = None  # an object (and whether it is the first event) as sent


def _line(kind: str, obj: Obj) -> bytes:
    return (json.dumps({"type": kind, "object": obj}, separators=(",", ":")) + "\n").encode()


def _key(obj: Obj) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _bookmark(res: Resource, rv: int, initial_end: bool = False) -> Obj:
    meta: Obj = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta}


def stream(objects: Objects, req: WatchRequest, stop: threading.Event | None = None) -> Iterator[bytes]:
    """The watch's bytes: an empty chunk first (headers go out at once), then one event per line."""
    stop = stop or _STOPPING
    deadline = time.monotonic() + (req.timeout or default_timeout())
    first = [True]

    def show(obj: Obj) -> Obj:
        if req.render is None:
            return obj
        out = req.render(obj, first[0])
        first[0] = False
        return out

    yield b""
    matching: dict[str, bool] = {}  # whether each object this watch knows of matched its selectors
    rv_text = req.resource_version
    initial = req.send_initial if req.send_initial is not None else rv_text in ("", "0")
    if initial:
        items, list_rv = objects.list(req.res, req.namespace or None)
        cur = int(list_rv)
        for obj in items:
            matching[_key(obj)] = req.match(obj)
            if matching[_key(obj)]:
                yield _line("ADDED", show(obj))
        if req.send_initial:
            yield _line("BOOKMARK", _bookmark(req.res, cur, initial_end=True))
    else:
        try:
            cur = int(rv_text)
        except ValueError:
            yield _line("ERROR", status.status_body(400, f"invalid resource version: {rv_text}", "BadRequest"))
            return
    last_mark = time.monotonic()
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        seen = objects.current_rv()  # every journal row up to here is committed
        try:
            changes = objects.changes_since(cur, req.res, req.namespace or None)
        except ApiError:
            message = f"too old resource version: {cur} ({objects.oldest_rv()})"
            yield _line("ERROR", status.status_body(410, message, "Expired"))
            return
        for rv, kind, obj in changes:
            cur = rv
            event = _event_for(objects, req, rv, kind, obj, matching)
            if event:
                yield _line(event, show(obj))
        if len(changes) >= 2000:
            continue  # more waiting in the journal
        cur = max(cur, seen)
        if req.bookmarks and time.monotonic() - last_mark >= BOOKMARK_S:
            last_mark = time.monotonic()
            yield _line("BOOKMARK", _bookmark(req.res, cur))
        objects.wait(cur, min(POLL_S, max(deadline - time.monotonic(), 0.0)))


def _event_for(objects: Objects, req: WatchRequest, rv: int, kind: str, obj: Obj, matching: dict[str, bool]) -> str:
    """The event this watch sees for a journal entry ("" for none): an object that starts matching the
    selectors is ADDED, one that stops matching is DELETED, as the API server's watch cache reports them."""
    key = _key(obj)
    if key not in matching and kind == "ADDED":
        matching[key] = False
    elif key not in matching:
        meta = obj.get("metadata", {})
        before = objects.state_before(req.res, meta.get("namespace", ""), meta.get("name", ""), rv)
        matching[key] = before is not None and req.match(before)
    was = matching[key]
    now = kind != "DELETED" and req.match(obj)
    matching[key] = now
    if kind == "DELETED":
        return "DELETED" if was or req.match(obj) else ""
    if now:
        return "MODIFIED" if was and kind != "ADDED" else "ADDED"
    return "DELETED" if was else ""
