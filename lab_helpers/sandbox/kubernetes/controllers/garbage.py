"""The garbage collector: ownerReferences as the real one follows them.

- Background: an object whose owners are all gone is deleted (an owner that is still there keeps it;
  references to owners that are gone are dropped when another owner remains).
- Foreground: an owner being deleted with the ``foregroundDeletion`` finalizer has its dependents
  deleted first (those with dependents of their own in the foreground too); the finalizer comes off
  once no dependent with ``blockOwnerDeletion`` is left, and the owner goes.
- Orphan: an owner being deleted with the ``orphan`` finalizer has its references removed from
  every dependent, then the finalizer comes off.

An owner is looked up by kind, name and uid (in the dependent's namespace unless its kind is
cluster-scoped), freshly from the store before anything is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import ApiError
from ..resources import Resource, resource_of_kind
from .common import Obj, clone, deleting, name_of, namespace_of, uid_of
from .loop import UNCACHED, Change, Controller, Key, api_code

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


def finalizers(obj: Obj) -> list[str]:
    return list(obj.get("metadata", {}).get("finalizers") or [])


class GarbageCollector(Controller):
    name = "garbage-collector-controller"

    def observe(self, change: Change) -> None:
        obj, res = change.obj, change.res
        key = (res.key, namespace_of(obj) if res.namespaced else "", name_of(obj))
        uid = uid_of(obj)
        if change.type == "DELETED":
            for dep_res, dep in self.cache.dependents(uid):  # its dependents may be garbage now
                self.queue.add((dep_res.key, namespace_of(dep) if dep_res.namespaced else "", name_of(dep)))
            for ref in obj.get("metadata", {}).get("ownerReferences") or []:  # an owner may be waiting for it
                self._queue_uid(str(ref.get("uid", "")))
            return
        refs = obj.get("metadata", {}).get("ownerReferences")
        if refs and (change.old is None or change.old.get("metadata", {}).get("ownerReferences") != refs):
            self.queue.add(key)  # new references to check (an owner's deletion is seen on its own)
        if deleting(obj) and {FOREGROUND, ORPHAN} & set(finalizers(obj)):
            self.queue.add(key)
        if change.old is not None and deleting(obj) and not deleting(change.old):
            for ref in obj.get("metadata", {}).get("ownerReferences") or []:
                self._queue_uid(str(ref.get("uid", "")))

    def _queue_uid(self, uid: str) -> None:
        found = self.cache.by_uid(uid)
        if found is not None:
            res, owner = found
            if deleting(owner):
                self.queue.add((res.key, namespace_of(owner) if res.namespaced else "", name_of(owner)))

    def keys(self) -> Iterable[Key]:
        out: list[Key] = []
        for res in self.cache.kinds():  # custom resources too
            if res.key in UNCACHED:
                continue
            for obj in self.cache.list(res):
                meta = obj.get("metadata", {})
                if meta.get("ownerReferences") or (deleting(obj) and {FOREGROUND, ORPHAN} & set(finalizers(obj))):
                    out.append((res.key, namespace_of(obj) if res.namespaced else "", name_of(obj)))
        return out

    def reconcile(self, key: Key) -> float | None:
        res_key, ns, name = key
        res = self.cache.resource(res_key)
        if res is None:
            return None
        obj = self.cache.get(res, ns, name)
        if obj is None:
            return None
        marks = finalizers(obj)
        if deleting(obj) and ORPHAN in marks:
            self._orphan_dependents(res, obj)
            return None
        if deleting(obj) and FOREGROUND in marks:
            return self._delete_dependents_first(res, obj)
        if obj.get("metadata", {}).get("ownerReferences"):
            self._collect(res, obj)
        return None

    # -- owners -------------------------------------------------------------------------------
    def _owner(self, dependent_res: Resource, dependent: Obj, ref: Obj) -> tuple[bool, Obj | None]:
        """(whether the kind is known, the owner if it still exists with that uid), read from the store."""
        owner_res = resource_of_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")), self.objects)
        if owner_res is None:
            return False, None
        if owner_res.namespaced and not dependent_res.namespaced:
            return True, None  # a cluster-scoped object cannot have a namespaced owner
        ns = namespace_of(dependent) if owner_res.namespaced else ""
        owner = self.objects.get(owner_res, ns, str(ref.get("name", "")))
        if owner is None or uid_of(owner) != ref.get("uid"):
            return True, None
        return True, owner

    def _holds(self, dependent_res: Resource, dependent: Obj, ref: Obj) -> bool:
        """Whether the owner ``ref`` names keeps the dependent (it exists, or its kind is unknown here)."""
        known, owner = self._owner(dependent_res, dependent, ref)
        return owner is not None or not known

    def _collect(self, res: Resource, obj: Obj) -> None:
        refs = list(obj["metadata"].get("ownerReferences") or [])
        solid, gone, waiting = [], [], []
        for ref in refs:
            known, owner = self._owner(res, obj, ref)
            if not known:
                solid.append(ref)  # an owner of a kind this cluster does not serve: never collected
            elif owner is None:
                gone.append(ref)
            elif deleting(owner) and FOREGROUND in finalizers(owner):
                waiting.append(ref)
            else:
                solid.append(ref)
        if solid:
            if gone or waiting:
                drop = {r.get("uid") for r in gone + waiting}
                self._set_refs(res, obj, [r for r in refs if r.get("uid") not in drop])
            return
        if not gone and not waiting:
            return
        if deleting(obj):
            return
        if waiting and self.cache.dependents(uid_of(obj)):
            policy = "Foreground"
        elif ORPHAN in finalizers(obj):
            policy = "Orphan"
        elif FOREGROUND in finalizers(obj):
            policy = "Foreground"
        else:
            policy = "Background"
        self._delete(res, obj, policy)

    def _delete(self, res: Resource, obj: Obj, policy: str) -> None:
        try:
            self.objects.delete(
                res,
                namespace_of(obj),
                name_of(obj),
                propagation=policy,
                preconditions={"uid": uid_of(obj)},
            )
        except ApiError as err:
            if api_code(err) not in (404, 409):
                raise

    def _set_refs(self, res: Resource, obj: Obj, refs: list[Obj]) -> None:
        changed = clone(obj)
        if refs:
            changed["metadata"]["ownerReferences"] = refs
        else:
            changed["metadata"].pop("ownerReferences", None)
        self.objects.update(res, changed)

    def _drop_finalizer(self, res: Resource, obj: Obj, mark: str) -> None:
        changed = clone(obj)
        changed["metadata"]["finalizers"] = [f for f in finalizers(obj) if f != mark]
        if not changed["metadata"]["finalizers"]:
            del changed["metadata"]["finalizers"]
        self.objects.update(res, changed)

    # -- an owner being deleted ---------------------------------------------------------------------
    def _orphan_dependents(self, res: Resource, owner: Obj) -> None:
        uid = uid_of(owner)
        for dep_res, dep in self.cache.dependents(uid):
            refs = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            self._set_refs(dep_res, dep, refs)
        self._drop_finalizer(res, owner, ORPHAN)

    def _delete_dependents_first(self, res: Resource, owner: Obj) -> float | None:
        uid = uid_of(owner)
        blocking = 0
        for dep_res, dep in self.cache.dependents(uid):
            ref: Obj = next((r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") == uid), {})
            if ref.get("blockOwnerDeletion"):
                blocking += 1
            if deleting(dep):
                continue
            others = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if any(self._holds(dep_res, dep, r) for r in others):
                self._set_refs(dep_res, dep, others)  # another owner keeps it: it only stops waiting on this one
                if ref.get("blockOwnerDeletion"):
                    blocking -= 1
                continue
            self._delete(dep_res, dep, "Foreground" if self.cache.dependents(uid_of(dep)) else "Background")
        if blocking == 0:
            self._drop_finalizer(res, owner, FOREGROUND)
            return None
        return 5.0  # dependents' deletions wake it sooner; this is a safety net
