"""The node lifecycle controller's taints and the pod garbage collector.

- A node that is not Ready carries ``node.kubernetes.io/not-ready:NoSchedule`` (``unreachable``
  when its Ready condition is Unknown), a cordoned one ``node.kubernetes.io/unschedulable:NoSchedule``;
  they come off when the node recovers or is uncordoned.
- A pod bound to a node that no longer exists is marked Failed (``DisruptionTarget``,
  ``DeletionByPodGC``) and removed after the real quarantine (40 s); a pod being deleted that was never
  scheduled is marked Failed and removed at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from ...errors import ApiError
from ..resources import by_plural
from .common import Obj, clone, condition, deleting, name_of, namespace_of, now_stamp, put_condition, terminal
from .loop import Change, Context, Controller, Key, api_code

NODES = by_plural("nodes")
PODS = by_plural("pods")
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MANAGED = (NOT_READY, UNREACHABLE, UNSCHEDULABLE)


def wanted_taints(node: Obj) -> set[str]:
    ready = condition(node, "Ready")
    out = set()
    if ready is None or ready.get("status") == "False":
        out.add(NOT_READY)
    elif ready.get("status") != "True":
        out.add(UNREACHABLE)
    if (node.get("spec") or {}).get("unschedulable"):
        out.add(UNSCHEDULABLE)
    return out


class NodeLifecycle(Controller):
    name = "node-lifecycle-controller"

    def observe(self, change: Change) -> None:
        if change.res is NODES and change.type != "DELETED":
            self.queue.add((name_of(change.obj),))

    def keys(self) -> Iterable[Key]:
        return [(name_of(n),) for n in self.cache.list(NODES)]

    def reconcile(self, key: Key) -> float | None:
        node = self.cache.get(NODES, "", key[0])
        if node is None or deleting(node):
            return None
        taints = list((node.get("spec") or {}).get("taints") or [])
        want = wanted_taints(node)
        have = {t.get("key") for t in taints if t.get("key") in MANAGED and t.get("effect") == "NoSchedule"}
        if want == have:
            return None
        kept = [t for t in taints if not (t.get("key") in MANAGED and t.get("effect") == "NoSchedule")]
        kept += [{"key": k, "effect": "NoSchedule", "timeAdded": now_stamp()} for k in sorted(want)]
        changed = clone(node)
        changed.setdefault("spec", {})["taints"] = kept
        if not kept:
            del changed["spec"]["taints"]
        self.objects.update(NODES, changed)
        return None


class PodGC(Controller):
    name = "pod-garbage-collector"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._missing_since: dict[str, float] = {}

    def observe(self, change: Change) -> None:
        if change.res is NODES and change.type == "DELETED":
            for pod in self.cache.list(PODS):
                if (pod.get("spec") or {}).get("nodeName") == name_of(change.obj):
                    self.queue.add((namespace_of(pod), name_of(pod)))
        elif change.res is PODS and change.type != "DELETED" and self._suspect(change.obj):
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))

    def _suspect(self, pod: Obj) -> bool:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            return self.cache.get(NODES, "", node) is None
        return deleting(pod) and not terminal(pod)

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(p), name_of(p)) for p in self.cache.list(PODS) if self._suspect(p)]

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        pod = self.cache.get(PODS, ns, name)
        if pod is None or not self._suspect(pod):
            return None
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            first = self._missing_since.setdefault(node, time.monotonic())
            left = first + self.ctx.settings.podgc_quarantine_s - time.monotonic()
            if left > 0:
                return left + 0.05
            if self.objects.get(NODES, "", node) is not None:  # the node came back
                self._missing_since.pop(node, None)
                return None
            self._fail(pod, "DeletionByPodGC", "PodGC: node no longer exists")
        else:
            self._fail(pod, "", "")
        try:
            self.objects.delete(PODS, ns, name, grace_seconds=0)
        except ApiError as err:
            if api_code(err) != 404:
                raise
        return None

    def _fail(self, pod: Obj, reason: str, message: str) -> None:
        if terminal(pod):
            return
        changed = clone(pod)
        status = changed.setdefault("status", {})
        status["phase"] = "Failed"
        if reason:
            put_condition(
                status,
                {
                    "type": "DisruptionTarget",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": now_stamp(),
                    "reason": reason,
                    "message": message,
                },
            )
        self.objects.update(PODS, changed)
