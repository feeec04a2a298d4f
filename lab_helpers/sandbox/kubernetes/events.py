"""Events, as the controllers, the scheduler and the kubelet record them: one ``Event`` per
(object, reason, message), its ``count`` and ``lastTimestamp`` bumped when it happens again,
which is what ``kubectl describe`` and ``kubectl get events`` show.

An Event is named ``<object>.<hex nanoseconds>`` as the real recorder names it: timestamps have
one-second resolution, so kubectl keeps same-second events in list order, which is name order,
which is then the order they happened. The event a repeat bumps is found through an in-memory
index (after a restart a repeat starts a new Event, as a restarted component's would)."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..errors import ApiError
from .objects import Objects, rfc3339
from .resources import by_plural

EVENTS = by_plural("events")
_SEEN: dict[tuple[str, str, str, str], str] = {}  # (namespace, uid, reason, message) -> Event name
_SEEN_LOCK = threading.Lock()
_SEEN_MAX = 20_000


def record(
    objects: Objects,
    involved: dict[str, Any],
    reason: str,
    message: str,
    *,
    type: str = "Normal",
    component: str = "sandbox",
    host: str = "",
) -> dict[str, Any]:
    """Record that ``reason`` happened to ``involved`` (any object); returns the Event."""
    meta = involved.get("metadata", {})
    namespace = meta.get("namespace") or "default"
    key = (namespace, str(meta.get("uid")), reason, message)
    with _SEEN_LOCK:
        name = _SEEN.get(key) or f"{meta.get('name', 'unknown')}.{time.time_ns():x}"
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[key] = name
    now = rfc3339()
    with objects.store.tx():
        old = objects.get(EVENTS, namespace, name)
        if old is not None:
            old["count"] = int(old.get("count", 1)) + 1
            old["lastTimestamp"] = now
            try:
                return objects.update(EVENTS, old, check_rv=False)
            except ApiError:
                return old
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", ""),
                "kind": involved.get("kind", ""),
                "name": meta.get("name", ""),
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": type,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "eventTime": None,
            "source": {"component": component, **({"host": host} if host else {})},
            "reportingComponent": component,
            "reportingInstance": host,
        }
        return objects.create(EVENTS, event)
