"""The machinery every controller shares, as client-go's informers and work queues are shared in
kube-controller-manager: one cache of the cluster's objects that follows the watch journal, a work
queue per controller (a key queued twice is worked once; a key re-queued while being worked is
worked again after), and a thread per controller that takes keys and reconciles them.

A controller reads from the cache, which is brought up to the journal's end before each key, so it
sees its own writes; it writes through :class:`Objects`, with resourceVersion checks (a conflict
queues the key again). Nothing polls faster than the journal changes: threads sleep on the
queue, and one informer thread sleeps on :meth:`Objects.wait`.
"""

from __future__ import annotations

import builtins
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ApiError
from .. import status
from ..apiserver import admission, defaults
from ..objects import Objects
from ..resources import RESOURCES, Resource, by_plural, resource_of_kind

log = logging.getLogger("lab_helpers.sandbox")

Obj = dict[str, Any]
Key = tuple[str, ...]  # (namespace, name) mostly; the garbage collector adds the kind

# Kinds the cache leaves out: Events are written for every decision and read by nobody here.
UNCACHED = frozenset(r.key for r in RESOURCES if r.kind == "Event")
CACHED = tuple(r for r in RESOURCES if r.key not in UNCACHED)
NAMESPACES = by_plural("namespaces")


@dataclass(frozen=True)
class Change:
    """One write seen in the journal: ``old`` is the cached object before it (None when new)."""

    res: Resource
    type: str  # ADDED, MODIFIED, DELETED
    old: Obj | None
    obj: Obj


def api_code(err: ApiError) -> int:
    return int(getattr(err.response, "status_code", 500))


def custom_kinds(objects: Objects) -> list[Resource]:
    """The custom resources served now, one per stored kind (their CRD's storage version)."""
    from ..crds import served

    out: dict[str, Resource] = {}
    for res in served(objects):
        if res.key not in out or (res.custom is not None and res.custom.storage):
            out[res.key] = res
    return list(out.values())


class Cache:
    """Every object but Events, as of journal entry ``rv``, indexed by namespace, uid and owner. Custom
    resources are followed too, from the moment their CRD is Established (``kinds``)."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.rv = 0
        self._lock = threading.RLock()
        self._items: dict[str, dict[str, dict[str, Obj]]] = {r.key: {} for r in CACHED}
        self._uids: dict[str, tuple[Resource, str, str]] = {}
        self._owned: dict[str, set[tuple[str, str, str]]] = {}
        self._by_key: dict[str, Resource] = {r.key: r for r in CACHED}
        self._custom_by_kind: dict[tuple[str, str], Resource] = {}  # (group, kind): custom kinds seen
        self._listeners: list[Callable[[Change], None]] = []
        self._loaded = False

    def listen(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener`` with every change from now on (under the cache's lock: it should only queue keys)."""
        with self._lock:
            self._listeners.append(listener)

    # -- following the journal ----------------------------------------------------------------
    def load(self) -> None:
        """A consistent snapshot of every cached kind (at start, and to relist after a 410 Gone); the
        listeners hear of everything new to them: every object the first time, what changed on a relist."""
        with self._lock:
            with self.objects.store.tx():
                rv = self.objects.current_rv()
                kinds = [*CACHED, *(r for r in custom_kinds(self.objects) if r.key not in self._by_key)]
                kinds += [r for r in self._by_key.values() if r not in kinds]
                fresh = {r.key: self.objects.list(r)[0] for r in kinds}
            for res in kinds:
                self._know(res)
            old_items = self._items
            self._items = {r.key: {} for r in kinds}
            self._uids.clear()
            self._owned.clear()
            for res in kinds:
                for obj in fresh[res.key]:
                    self._put(res, obj)
            self.rv = rv
            self._loaded = True
            for res in kinds:
                for obj in fresh[res.key]:
                    old = old_items.get(res.key, {}).get(self._ns(res, obj), {}).get(obj["metadata"]["name"])
                    if old is None or old["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                        self._tell(Change(res, "MODIFIED" if old else "ADDED", old, obj))
                for ns_items in old_items.get(res.key, {}).values():
                    for obj in ns_items.values():
                        if self._get(res, self._ns(res, obj), obj["metadata"]["name"]) is None:
                            self._tell(Change(res, "DELETED", obj, obj))

    def sync(self) -> int:
        """Apply the journal's new entries (telling the listeners); returns how many were read."""
        with self._lock:
            if not self._loaded:
                self.load()
            total = 0
            while True:
                try:
                    rows = self.objects.changes_since(self.rv)
                except ApiError as err:
                    if api_code(err) != 410:
                        raise
                    log.info("controllers: the journal moved past resourceVersion %s; relisting", self.rv)
                    self.load()
                    continue
                for rv, kind, obj in rows:
                    self.rv = max(self.rv, rv)
                    self._apply(kind, obj, rv)
                total += len(rows)
                if len(rows) < 2000:
                    return total

    def _know(self, res: Resource) -> None:
        """Follow a kind from now on (a custom resource's, once its CRD is served)."""
        if res.key not in self._by_key:
            self._by_key[res.key] = res
        self._items.setdefault(res.key, {})
        if res.group and res not in RESOURCES:
            self._custom_by_kind[(res.group, res.kind)] = self._by_key[res.key]

    def _resource_of(self, obj: Obj) -> Resource | None:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        res = resource_of_kind(api_version, kind)
        if res is not None and res.key in self._by_key:
            return self._by_key[res.key]
        group = api_version.rpartition("/")[0]
        known = self._custom_by_kind.get((group, kind))  # a kind whose CRD has just gone: its deletions
        if known is not None:
            return known
        res = resource_of_kind(api_version, kind, self.objects)
        if res is not None and res not in RESOURCES:
            self._know(res)
            return self._by_key[res.key]
        return res

    def kinds(self) -> builtins.list[Resource]:
        """Every kind the cache follows (the built-in ones and the custom resources seen so far)."""
        with self._lock:
            return list(self._by_key.values())

    def resource(self, key: str) -> Resource | None:
        """The kind stored under ``key`` (``k8s:apps/deployments``)."""
        with self._lock:
            return self._by_key.get(key)

    def _apply(self, kind: str, obj: Obj, rv: int) -> None:
        res = self._resource_of(obj)
        if res is None or res.key in UNCACHED or res.key not in self._items:
            return
        meta = obj.get("metadata") or {}
        ns, name = self._ns(res, obj), str(meta.get("name", ""))
        old = self._get(res, ns, name)
        if old is not None and int(old["metadata"].get("resourceVersion") or 0) > rv:
            return  # the snapshot already holds a later version
        if kind == "DELETED":
            if old is not None and old["metadata"].get("uid") != meta.get("uid"):
                return  # the deletion of an earlier object of the same name
            self._drop(res, ns, name)
            self._tell(Change(res, kind, old, obj))
            return
        if old is not None:
            self._drop(res, ns, name)
        self._put(res, obj)
        self._tell(Change(res, "MODIFIED" if old is not None else "ADDED", old, obj))

    def _tell(self, change: Change) -> None:
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:  # a listener's bug must not stop the others seeing the change
                log.exception("controllers: a listener failed on %s %s", change.type, change.res.kind)

    @staticmethod
    def _ns(res: Resource, obj: Obj) -> str:
        return str(obj.get("metadata", {}).get("namespace", "")) if res.namespaced else ""

    def _put(self, res: Resource, obj: Obj) -> None:
        meta = obj["metadata"]
        ns, name = self._ns(res, obj), meta["name"]
        self._items[res.key].setdefault(ns, {})[name] = obj
        if meta.get("uid"):
            self._uids[meta["uid"]] = (res, ns, name)
        for ref in meta.get("ownerReferences") or []:
            self._owned.setdefault(str(ref.get("uid", "")), set()).add((res.key, ns, name))

    def _drop(self, res: Resource, ns: str, name: str) -> None:
        obj = self._items.get(res.key, {}).get(ns, {}).pop(name, None)
        if obj is None:
            return
        if not self._items[res.key][ns]:
            del self._items[res.key][ns]
        meta = obj["metadata"]
        if self._uids.get(meta.get("uid", "")) == (res, ns, name):
            del self._uids[meta["uid"]]
        for ref in meta.get("ownerReferences") or []:
            owned = self._owned.get(str(ref.get("uid", "")))
            if owned is not None:
                owned.discard((res.key, ns, name))
                if not owned:
                    del self._owned[str(ref.get("uid", ""))]

    # -- reading ------------------------------------------------------------------------------
    def _get(self, res: Resource, ns: str, name: str) -> Obj | None:
        return self._items.get(res.key, {}).get(ns if res.namespaced else "", {}).get(name)

    def get(self, res: Resource, namespace: str, name: str) -> Obj | None:
        """The cached object (shared: copy it before changing it)."""
        with self._lock:
            return self._get(res, namespace, name)

    def list(self, res: Resource, namespace: str | None = None) -> list[Obj]:
        """Cached objects of one kind, in one namespace or all."""
        with self._lock:
            table = self._items.get(res.key, {})
            if namespace is not None and res.namespaced:
                return list(table.get(namespace, {}).values())
            return [obj for ns_items in table.values() for obj in ns_items.values()]

    def namespaces(self, res: Resource) -> builtins.list[str]:
        with self._lock:
            return list(self._items.get(res.key, {}))

    def by_uid(self, uid: str) -> tuple[Resource, Obj] | None:
        with self._lock:
            where = self._uids.get(uid)
            if where is None:
                return None
            obj = self._get(*where)
            return (where[0], obj) if obj is not None else None

    def dependents(self, uid: str) -> builtins.list[tuple[Resource, Obj]]:
        """Objects with an ownerReference to ``uid``."""
        with self._lock:
            out = []
            for key, ns, name in sorted(self._owned.get(uid, ())):
                res = self._by_key[key]
                obj = self._get(res, ns, name)
                if obj is not None:
                    out.append((res, obj))
            return out


class WorkQueue:
    """Keys to reconcile: deduplicated, delayed adds, and a key re-added while being worked waits its turn."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ready: deque[Key] = deque()
        self._queued: set[Key] = set()
        self._working: set[Key] = set()
        self._again: set[Key] = set()
        self._later: list[tuple[float, int, Key]] = []
        self._seq = itertools.count()
        self._woken = False

    def add(self, key: Key) -> None:
        with self._cond:
            if key in self._working:
                self._again.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._ready.append(key)
                self._cond.notify()

    def add_after(self, key: Key, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            heapq.heappush(self._later, (time.monotonic() + delay, next(self._seq), key))
            self._cond.notify()

    def _promote(self) -> float | None:
        """Move due delayed keys to the ready queue; the seconds until the next one is due."""
        now = time.monotonic()
        while self._later and self._later[0][0] <= now:
            _, _, key = heapq.heappop(self._later)
            if key in self._working:
                self._again.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._ready.append(key)
        return self._later[0][0] - now if self._later else None

    def get(self, timeout: float) -> Key | None:
        """The next key (now being worked), or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                due = self._promote()
                if self._ready:
                    key = self._ready.popleft()
                    self._queued.discard(key)
                    self._working.add(key)
                    return key
                left = deadline - time.monotonic()
                if left <= 0 or self._woken:
                    self._woken = False
                    return None
                self._cond.wait(min(left, due) if due is not None else left)

    def done(self, key: Key) -> None:
        with self._cond:
            self._working.discard(key)
            if key in self._again:
                self._again.discard(key)
                if key not in self._queued:
                    self._queued.add(key)
                    self._ready.append(key)
                    self._cond.notify()

    def wake(self) -> None:
        """Wake a waiting ``get`` (to see that the service is stopping)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing ready and nothing being worked (delayed keys do not count)."""
        with self._cond:
            self._promote()
            return not self._ready and not self._working

    def pending(self) -> int:
        with self._cond:
            return len(self._ready) + len(self._working) + len(self._later)


@dataclass
class Settings:
    """Timings a test may shorten; the defaults are the real controllers'."""

    job_backoff_s: float = 10.0  # the Job controller's first delay before replacing a failed pod
    job_backoff_max_s: float = 360.0
    resync_s: float = 30.0  # how often each controller looks at all its objects again
    unschedulable_retry_s: float = 300.0  # an unschedulable pod is tried again at least this often
    podgc_quarantine_s: float = 40.0  # how long pods stay bound to a node that has gone


@dataclass
class Context:
    """What a controller works with."""

    objects: Objects
    cache: Cache
    state_dir: Path
    stopping: threading.Event
    settings: Settings = field(default_factory=Settings)

    def now(self) -> float:
        return time.time()


class Controller:
    """One control loop: ``observe`` queues keys for changes, ``reconcile`` brings one key's objects to
    their desired state and may ask to be called again after some seconds."""

    name = "controller"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.objects = ctx.objects
        self.cache = ctx.cache
        self.queue = WorkQueue()
        self._failures: dict[Key, int] = {}

    def observe(self, change: Change) -> None:
        """Queue the keys ``change`` concerns."""

    def keys(self) -> Iterable[Key]:
        """Every key, for the periodic resync."""
        return ()

    def reconcile(self, key: Key) -> float | None:
        """Work one key; a number of seconds asks to be called again then."""
        return None

    def create(self, res: Resource, obj: Obj) -> Obj:
        """Create as a client's POST would: the API server's defaults filled in first (a pod's service
        account, tolerations, QoS class...)."""
        namespace = str(obj.get("metadata", {}).get("namespace", ""))
        if res.namespaced and self.namespace_closing(namespace):
            raise status.status_error(
                403,
                f'{res.group_resource} "{obj.get("metadata", {}).get("name", "")}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated",
                "Forbidden",
            )
        defaults.apply(res, obj, self.objects)
        req = admission.Request(self.objects, res, obj, None, f"system:serviceaccount:kube-system:{self.name}")
        admission.mutate(req)
        admission.validate(req)
        return self.objects.create(res, obj)

    def namespace_closing(self, namespace: str) -> bool:
        """Whether the namespace is being deleted (the API server refuses new objects in it)."""
        ns = self.cache.get(NAMESPACES, "", namespace)
        return ns is not None and bool(ns.get("metadata", {}).get("deletionTimestamp"))

    def work_one(self, key: Key) -> None:
        """Reconcile one key, turning errors into retries with back-off (never into a dead thread)."""
        after: float | None
        try:
            self.cache.sync()
            after = self.reconcile(key)
            self._failures.pop(key, None)
        except ApiError as err:  # a conflict or a race with another writer: try again soon
            tries = self._failures[key] = self._failures.get(key, 0) + 1
            after = min(0.05 * 2**tries, 5.0)
            if api_code(err) not in (404, 409, 410) or tries > 8:
                log.warning("%s: %s answered %s; retrying in %.1f s", self.name, key, api_code(err), after)
        except Exception:
            tries = self._failures[key] = self._failures.get(key, 0) + 1
            after = min(0.5 * 2**tries, 30.0)
            log.exception("%s: reconciling %s failed; retrying in %.1f s", self.name, key, after)
        finally:
            self.queue.done(key)
        if after is not None:
            self.queue.add_after(key, after)


class Manager:
    """The controllers of one sandbox, their shared cache and their threads."""

    def __init__(
        self,
        objects: Objects,
        state_dir: Path,
        stopping: threading.Event,
        kinds: Iterable[Callable[[Context], Controller]],
        settings: Settings | None = None,
    ) -> None:
        self.ctx = Context(objects, Cache(objects), Path(state_dir), stopping, settings or Settings())
        self.controllers = [make(self.ctx) for make in kinds]
        for ctl in self.controllers:
            self.ctx.cache.listen(ctl.observe)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Load the cache, queue every object once, and start the informer and one thread per controller."""
        self.ctx.cache.sync()
        self.resync()
        self.threads = [threading.Thread(target=self._inform, name="k8s-informer", daemon=True)]
        self.threads += [
            threading.Thread(target=self._run, args=(ctl,), name=f"k8s-{ctl.name}", daemon=True)
            for ctl in self.controllers
        ]
        for thread in self.threads:
            thread.start()

    def resync(self) -> None:
        for ctl in self.controllers:
            for key in ctl.keys():
                ctl.queue.add(key)

    def _inform(self) -> None:
        ctx = self.ctx
        while not ctx.stopping.is_set():
            try:
                if ctx.objects.wait(ctx.cache.rv, 0.25) and not ctx.stopping.is_set():
                    ctx.cache.sync()
            except Exception:
                log.exception("controllers: reading the journal failed; trying again in 1 s")
                ctx.stopping.wait(1.0)

    def _run(self, ctl: Controller) -> None:
        ctx = self.ctx
        next_resync = time.monotonic() + ctx.settings.resync_s
        while not ctx.stopping.is_set():
            try:
                if time.monotonic() >= next_resync:
                    next_resync = time.monotonic() + ctx.settings.resync_s
                    for key in ctl.keys():
                        ctl.queue.add(key)
                taken = ctl.queue.get(0.5)
                if taken is not None:
                    ctl.work_one(taken)
            except Exception:  # the loop itself must outlive anything
                log.exception("controllers: %s's loop failed; carrying on", ctl.name)
                ctx.stopping.wait(0.5)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every change is seen and every queue is idle (tests: the cluster is at rest)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            self.ctx.cache.sync()
            busy = any(not ctl.queue.idle() for ctl in self.controllers)
            if not busy and self.ctx.cache.rv >= self.ctx.objects.current_rv():
                quiet += 1
                if quiet >= 3:
                    return
            else:
                quiet = 0
            time.sleep(0.01)
        raise TimeoutError("the controllers did not settle")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every thread now (``stopping`` alone stops them within a second)."""
        self.ctx.stopping.set()
        with self.ctx.objects.changed:
            self.ctx.objects.changed.notify_all()
        for ctl in self.controllers:
            ctl.queue.wake()
        for thread in self.threads:
            thread.join(timeout)
