"""The ResourceQuota controller: each quota's ``status.hard`` (its ``spec.hard``) and ``status.used``
(what the namespace's objects use of each name, counted as the admission plugin counts it), written
back whenever an object it counts changes, and at every resync."""

from __future__ import annotations

from collections.abc import Iterable

from ..resources import Resource, by_plural
from .amounts import binary, canonical
from .common import Obj, clone, name_of, namespace_of
from .loop import UNCACHED, Change, Controller, Key
from .quota_usage import counted_kinds, in_scope, namespace_usage

QUOTAS = by_plural("resourcequotas")


class ResourceQuotaController(Controller):
    name = "resourcequota-controller"

    def observe(self, change: Change) -> None:
        ns = namespace_of(change.obj)
        if change.res is QUOTAS:
            self.queue.add((ns, name_of(change.obj)))
            return
        if not change.res.namespaced or not ns:
            return
        for quota in self.cache.list(QUOTAS, ns):
            if change.res.key in counted_kinds(((quota.get("spec") or {}).get("hard") or {}).keys()):
                self.queue.add((ns, name_of(quota)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(q), name_of(q)) for q in self.cache.list(QUOTAS)]

    def _list(self, res: Resource, ns: str) -> list[Obj]:
        if res.key in UNCACHED:
            return self.objects.list(res, ns)[0]
        return self.cache.list(res, ns)

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        quota = self.cache.get(QUOTAS, ns, name)
        if quota is None or quota["metadata"].get("deletionTimestamp"):
            return None
        hard: Obj = dict((quota.get("spec") or {}).get("hard") or {})
        used = namespace_usage(lambda r: [o for o in self._list(r, ns) if in_scope(quota, r, o)], hard)
        status = {"hard": hard, "used": {k: canonical(used[k], binary(hard[k])) for k in hard}}
        if status == quota.get("status"):
            return None
        changed = clone(quota)
        changed["status"] = status
        self.objects.update(QUOTAS, changed)
        return None
