"""Kubernetes objects in the sandbox's one store, with resourceVersions and a journal for watches.

Each object is a document of store kind ``Resource.key`` with id ``namespace/name`` and the
namespace as parent. Every write takes the next resourceVersion (one counter for the cluster, as
etcd's revision) and appends ``(rv, resource, namespace, type, object)`` to a journal table in the
same transaction, so a watch resumes from any resourceVersion the journal still holds and gets a
410 Gone for an older one. Writers in this process wake waiting watchers through a condition.

The API layer (``apiserver``) and the controllers both write through :class:`Objects`, so an
object a controller makes carries the same metadata as one a client posted. Deletion follows the
API server: finalizers and a pod's grace period set ``deletionTimestamp`` first; the object goes
when nothing holds it.
"""

from __future__ import annotations

import builtins
import json
import secrets
import threading
import time
import uuid
from typing import Any

from ..store import Store
from . import status
from .kinds import Resource

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # what the API server appends to a generateName (no vowels, no words)
JOURNAL_KEEP = 50_000  # journal rows kept; a watch from an older resourceVersion is told 410 Gone

SCHEMA = """
CREATE TABLE IF NOT EXISTS k8s_journal (
    rv INTEGER PRIMARY KEY, res TEXT NOT NULL, ns TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);
"""

Obj = dict[str, Any]


def rfc3339(ts: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))


def _spec_of(obj: Obj, res: Resource) -> Any:
    """What ``generation`` counts: everything but metadata, and but status where status has its own
    subresource (a custom resource without one bumps its generation for a status change too)."""
    skip = (
        ("metadata", "status", "apiVersion", "kind")
        if "status" in res.subresources
        else ("metadata", "apiVersion", "kind")
    )
    return {k: v for k, v in obj.items() if k not in skip}


class Objects:
    """The cluster's objects. One per process (``objects_for(store)``), shared by every thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.changed = threading.Condition()
        store.execute_script(SCHEMA)  # outside a transaction: a script commits whatever is open
        with store.tx():
            if store.meta("k8s_rv") is None:
                store.set_meta("k8s_rv", "1")
        self._writes = 0

    # -- reading -------------------------------------------------------------------------
    def get(self, res: Resource, namespace: str, name: str) -> Obj | None:
        return self.store.get(res.key, f"{namespace if res.namespaced else ''}/{name}")

    def need(self, res: Resource, namespace: str, name: str) -> Obj:
        """The object, or the API's 404."""
        obj = self.get(res, namespace, name)
        if obj is None:
            raise status.not_found(res.group_resource, name)
        return obj

    def list(self, res: Resource, namespace: str | None = None) -> tuple[list[Obj], str]:
        """The objects (in one namespace, or all), sorted by namespace and name, with the list's resourceVersion."""
        with self.store.tx():  # one snapshot: the objects and the counter agree
            rv = self.current_rv()
            items = self.store.list(res.key, namespace if (res.namespaced and namespace) else None)
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items, str(rv)

    def current_rv(self) -> int:
        return int(self.store.meta("k8s_rv") or 1)

    # -- writing -------------------------------------------------------------------------
    def _next_rv(self) -> int:
        rv = self.current_rv() + 1
        self.store.set_meta("k8s_rv", str(rv))
        return rv

    def _journal(self, rv: int, res: Resource, namespace: str, kind: str, obj: Obj) -> None:
        self.store.execute(
            "INSERT INTO k8s_journal (rv, res, ns, type, data) VALUES (?, ?, ?, ?, ?)",
            (rv, res.key, namespace, kind, json.dumps(obj, separators=(",", ":"))),
        )
        self._writes += 1
        if self._writes % 1000 == 0:
            self.store.execute("DELETE FROM k8s_journal WHERE rv <= ?", (rv - JOURNAL_KEEP,))

    def _notify(self) -> None:
        self.store.after_commit(self._wake)  # inside a caller's transaction, only once it commits

    def _wake(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def _save(self, res: Resource, obj: Obj, kind: str) -> Obj:
        meta = obj["metadata"]
        ns = meta.get("namespace", "") if res.namespaced else ""
        rv = self._next_rv()
        meta["resourceVersion"] = str(rv)
        self.store.put(res.key, f"{ns}/{meta['name']}", obj, parent=ns)
        self._journal(rv, res, ns, kind, obj)
        return obj

    def create(self, res: Resource, obj: Obj, *, dry_run: bool = False, uid: str | None = None) -> Obj:
        """Store a new object: name (or generateName), uid, creationTimestamp, generation, resourceVersion.

        ``uid`` is the one the API server chose before defaulting (a Job's selector names its own uid)."""
        obj = json.loads(json.dumps(obj))
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        meta = obj.setdefault("metadata", {})
        if not res.namespaced:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
        if not meta.get("name"):
            raise status.invalid(
                res.kind,
                res.group,
                "",
                [
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value: name or generateName is required",
                        "field": "metadata.name",
                    }
                ],
            )
        meta.pop("resourceVersion", None)
        meta.pop("deletionTimestamp", None)
        meta["uid"] = uid or str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339()
        if "spec" in obj or res.kind in ("Deployment", "ReplicaSet", "Job") or res.is_custom:
            meta["generation"] = 1
        with self.store.tx():
            if self.get(res, meta.get("namespace", ""), meta["name"]) is not None:
                raise status.already_exists(res.group_resource, meta["name"])
            if dry_run:
                return obj
            self._save(res, obj, "ADDED")
        self._notify()
        return obj

    def update(self, res: Resource, obj: Obj, *, dry_run: bool = False, check_rv: bool = True) -> Obj:
        """Replace an object. A resourceVersion in ``obj`` that is not the stored one is the API's 409;
        a changed spec bumps ``generation``; an object being deleted whose finalizers are all gone goes."""
        obj = json.loads(json.dumps(obj))
        meta = obj.setdefault("metadata", {})
        ns = meta.get("namespace", "") if res.namespaced else ""
        with self.store.tx():
            old = self.need(res, ns, meta.get("name", ""))
            old_meta = old["metadata"]
            if check_rv and meta.get("resourceVersion") and meta["resourceVersion"] != old_meta["resourceVersion"]:
                raise status.conflict(res.group_resource, old_meta["name"])
            obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            for keep in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if keep in old_meta:
                    meta[keep] = old_meta[keep]
                else:
                    meta.pop(keep, None)
            if "generation" in old_meta:
                changed = _spec_of(obj, res) != _spec_of(old, res)
                meta["generation"] = old_meta["generation"] + (1 if changed else 0)
            if old_meta.get("deletionTimestamp") and not meta.get("finalizers") and not self._held(res, obj):
                if dry_run:
                    return obj
                self._remove(res, ns, obj)
            else:
                if _unchanged(old, obj):
                    return old  # a write that changes nothing is no write: same resourceVersion, no event
                if dry_run:
                    return obj
                self._save(res, obj, "MODIFIED")
        self._notify()
        return obj

    def _held(self, res: Resource, obj: Obj) -> bool:
        """Whether something other than finalizers keeps an object being deleted: a scheduled pod stays
        until its kubelet has stopped it (and deletes it with grace 0); a namespace stays Terminating
        until the namespace controller has emptied it and cleared ``spec.finalizers``."""
        if res.kind == "Pod":
            return bool(obj.get("spec", {}).get("nodeName")) and not _terminal(obj)
        if res.kind == "Namespace":
            return bool(obj.get("spec", {}).get("finalizers"))
        return False

    def delete(
        self,
        res: Resource,
        namespace: str,
        name: str,
        *,
        propagation: str = "Background",
        grace_seconds: int | None = None,
        dry_run: bool = False,
        preconditions: dict[str, str] | None = None,
    ) -> tuple[Obj, bool]:
        """Delete as the API server does; returns (the object, whether it is gone now).

        ``Foreground`` and ``Orphan`` add the ``foregroundDeletion``/``orphan`` finalizer for the
        garbage collector; a scheduled, running pod gets ``deletionTimestamp`` and its grace period
        (the kubelet stops it, then deletes it with ``grace_seconds=0``)."""
        ns = namespace if res.namespaced else ""
        with self.store.tx():
            obj = self.need(res, ns, name)
            meta = obj["metadata"]
            for field in ("uid", "resourceVersion"):
                want = (preconditions or {}).get(field)
                if want and meta.get(field) != want:
                    raise status.conflict(
                        res.group_resource,
                        name,
                        f"Precondition failed: {field} in precondition: {want}, "
                        f"{field} in object meta: {meta.get(field)}",
                    )
            finalizers = list(meta.get("finalizers") or [])
            extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(propagation)
            if extra and extra not in finalizers and not meta.get("deletionTimestamp"):
                finalizers.append(extra)
            grace = grace_seconds
            if res.kind == "Pod" and grace is None:
                grace = int(obj.get("spec", {}).get("terminationGracePeriodSeconds", 30))
            held = self._held(res, obj) and (res.kind != "Pod" or (grace or 0) > 0)
            if dry_run:
                return obj, not (finalizers or held)
            if finalizers or held:
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = rfc3339(time.time() + (grace or 0))
                    if res.kind == "Pod":
                        meta["deletionGracePeriodSeconds"] = grace or 0
                meta["finalizers"] = finalizers
                if not finalizers:
                    meta.pop("finalizers", None)
                if res.kind == "Namespace":
                    obj["status"] = {**(obj.get("status") or {}), "phase": "Terminating"}
                self._save(res, obj, "MODIFIED")
                gone = False
            else:
                meta.setdefault("deletionTimestamp", rfc3339())
                self._remove(res, ns, obj)
                gone = True
        self._notify()
        return obj, gone

    def _remove(self, res: Resource, ns: str, obj: Obj) -> None:
        rv = self._next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        self.store.delete(res.key, f"{ns}/{obj['metadata']['name']}")
        self._journal(rv, res, ns, "DELETED", obj)

    # -- watching ------------------------------------------------------------------------
    def oldest_rv(self) -> int:
        row = self.store.execute("SELECT MIN(rv) FROM k8s_journal").fetchone()
        return int(row[0]) if row and row[0] is not None else self.current_rv()

    def changes_since(
        self, rv: int, res: Resource | None = None, namespace: str | None = None
    ) -> builtins.list[tuple[int, str, Obj]]:
        """Journal entries after ``rv`` (oldest first) as (rv, type, object); 410 Gone when ``rv`` is too old."""
        if rv < self.oldest_rv() - 1:
            raise status.gone(f"too old resource version: {rv} ({self.oldest_rv()})")
        sql = "SELECT rv, type, data FROM k8s_journal WHERE rv > ?"
        args: list[Any] = [rv]
        if res is not None:
            sql += " AND res = ?"
            args.append(res.key)
        if namespace:
            sql += " AND ns = ?"
            args.append(namespace)
        rows = self.store.execute(sql + " ORDER BY rv LIMIT 2000", tuple(args)).fetchall()
        return [(int(r[0]), r[1], json.loads(r[2])) for r in rows]

    def state_before(self, res: Resource, namespace: str, name: str, rv: int) -> Obj | None:
        """The object as it was just before resourceVersion ``rv`` (None: it did not exist, or the journal no
        longer reaches back that far). A watch that starts at a resourceVersion asks this to tell whether an
        object matched its selector then."""
        ns = namespace if res.namespaced else ""
        pattern = f'%"name":{json.dumps(name)}%'
        rows = self.store.execute(
            "SELECT type, data FROM k8s_journal WHERE res = ? AND ns = ? AND rv < ? AND data LIKE ? ORDER BY rv DESC",
            (res.key, ns, rv, pattern),
        )
        for kind, data in rows:
            obj = json.loads(data)
            if obj.get("metadata", {}).get("name") == name:
                return None if kind == "DELETED" else obj
        return None

    def wait(self, rv: int, timeout: float) -> bool:
        """Block until a write after ``rv`` (True) or the timeout (False)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.current_rv() <= rv:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))  # writers in other processes do not notify: poll too
        return True


def _unchanged(old: Obj, new: Obj) -> bool:
    """Whether ``new`` says what ``old`` says, but for its resourceVersion and the times in managedFields."""

    def bare(obj: Obj) -> Obj:
        meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
        fields = meta.get("managedFields")
        if isinstance(fields, list):
            meta["managedFields"] = [
                {k: v for k, v in f.items() if k != "time"} if isinstance(f, dict) else f for f in fields
            ]
        return {**obj, "metadata": meta}

    return bare(old) == bare(new)


def _terminal(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


_BY_STORE: dict[int, Objects] = {}
_LOCK = threading.Lock()


def objects_for(store: Store) -> Objects:
    """The one :class:`Objects` of this store in this process (its condition wakes every watcher)."""
    with _LOCK:
        if id(store) not in _BY_STORE:
            _BY_STORE[id(store)] = Objects(store)
        return _BY_STORE[id(store)]
