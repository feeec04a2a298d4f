"""The namespace controller: a namespace being deleted (Terminating) is emptied of every namespaced
object, its status conditions saying what remains and which finalizers hold it, as the real
controller words them; once nothing is left, ``spec.finalizers`` loses ``kubernetes`` and the
namespace goes. Anything left behind in a namespace that has gone is removed too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ...errors import ApiError
from ..resources import RESOURCES, Resource
from .common import Obj, clone, deleting, name_of, now_stamp
from .loop import NAMESPACES, Change, Controller, Key, api_code, custom_kinds

NAMESPACED = tuple(r for r in RESOURCES if r.namespaced)
FINALIZER = "kubernetes"


def _condition(kind: str, status: str, reason: str, message: str) -> Obj:
    return {"type": kind, "status": status, "lastTransitionTime": now_stamp(), "reason": reason, "message": message}


def deletion_conditions(remaining: Counter[str], held: Counter[str]) -> list[Obj]:
    """The five conditions a Terminating namespace carries (``pods. has 2 resource instances``: the real text)."""
    conds = [
        _condition(
            "NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"
        ),
        _condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        _condition(
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
    ]
    if remaining:
        listed = ", ".join(sorted(f"{gr} has {n} resource instances" for gr, n in remaining.items()))
        conds.append(
            _condition(
                "NamespaceContentRemaining", "True", "SomeResourcesRemain", f"Some resources are remaining: {listed}"
            )
        )
    else:
        conds.append(
            _condition("NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed")
        )
    if held:
        listed = ", ".join(sorted(f"{f} in {n} resource instances" for f, n in held.items()))
        conds.append(
            _condition(
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                f"Some content in the namespace has finalizers remaining: {listed}",
            )
        )
    else:
        conds.append(
            _condition(
                "NamespaceFinalizersRemaining",
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
            )
        )
    return conds


def _same(a: list[Obj], b: list[Obj]) -> bool:
    def strip(conds: list[Obj]) -> list[tuple[object, ...]]:
        return [(c.get("type"), c.get("status"), c.get("reason"), c.get("message")) for c in conds]

    return strip(a) == strip(b)


class NamespaceController(Controller):
    name = "namespace-controller"

    def observe(self, change: Change) -> None:
        obj = change.obj
        if change.res is NAMESPACES:
            if change.type == "DELETED":
                self.queue.add(("gone", name_of(obj)))
                self.queue.add_after(("gone", name_of(obj)), 2.0)  # late writes into a namespace that went
            elif deleting(obj):
                self.queue.add((name_of(obj),))
            return
        if change.res.namespaced and (change.type == "DELETED" or deleting(obj)):
            ns = str(obj.get("metadata", {}).get("namespace", ""))
            owner = self.cache.get(NAMESPACES, "", ns)
            if owner is not None and deleting(owner):
                self.queue.add((ns,))

    def keys(self) -> Iterable[Key]:
        return [(name_of(ns),) for ns in self.cache.list(NAMESPACES) if deleting(ns)]

    def reconcile(self, key: Key) -> float | None:
        if key[0] == "gone":
            if self.cache.get(NAMESPACES, "", key[1]) is None:
                self._empty(key[1])
            return None
        name = key[0]
        ns = self.cache.get(NAMESPACES, "", name)
        if ns is None or not deleting(ns):
            return None
        remaining, held = self._empty(name)
        conds = deletion_conditions(remaining, held)
        changed = clone(ns)
        status = changed.setdefault("status", {})
        if not _same(status.get("conditions") or [], conds):
            status["conditions"] = conds
            status["phase"] = "Terminating"
            ns = self.objects.update(NAMESPACES, changed)
            changed = clone(ns)
        if remaining:
            return 2.0  # the deletions' own events wake it sooner
        spec = changed.setdefault("spec", {})
        if FINALIZER in (spec.get("finalizers") or []):
            spec["finalizers"] = [f for f in spec["finalizers"] if f != FINALIZER]
            self.objects.update(NAMESPACES, changed)
        return None

    def _empty(self, namespace: str) -> tuple[Counter[str], Counter[str]]:
        """Delete everything in the namespace; what is still there, by resource and by finalizer."""
        remaining: Counter[str] = Counter()
        held: Counter[str] = Counter()
        for res in (*NAMESPACED, *(r for r in custom_kinds(self.objects) if r.namespaced)):
            for obj in self.objects.list(res, namespace)[0]:
                if not self._delete(res, namespace, obj):
                    remaining[f"{res.plural}.{res.group}"] += 1
                    for f in obj.get("metadata", {}).get("finalizers") or []:
                        held[f] += 1
        return remaining, held

    def _delete(self, res: Resource, namespace: str, obj: Obj) -> bool:
        """Whether the object is gone."""
        if deleting(obj):
            return False
        try:
            _, gone = self.objects.delete(res, namespace, name_of(obj), propagation="Background")
        except ApiError as err:
            return api_code(err) == 404
        return gone
