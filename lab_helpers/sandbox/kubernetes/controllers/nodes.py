"""The node lifecycle controller's taints, taint-based eviction, and the pod garbage collector.

- A node that is not Ready carries ``node.kubernetes.io/not-ready`` (``unreachable`` when its Ready
  condition is Unknown) as NoSchedule and NoExecute taints, a cordoned one
  ``node.kubernetes.io/unschedulable:NoSchedule``; they come off when the node recovers or is
  uncordoned. A node that has not reported yet only gets the NoSchedule one. The pods of a node
  that is not Ready are marked not Ready (``NodeNotReady`` event), so Services stop sending to them.
- Pods on a node with a NoExecute taint they do not tolerate are evicted (deleted, ``DisruptionTarget``
  set, a ``TaintManagerEviction`` event) at once, or when the ``tolerationSeconds`` of their toleration
  run out: every pod tolerates not-ready and unreachable for 300 s by default, so a failed node's pods
  are replaced elsewhere five minutes later, as in a real cluster.
- A pod bound to a node that no longer exists is marked Failed (``DisruptionTarget``,
  ``DeletionByPodGC``) and removed after the real quarantine (40 s); a pod being deleted that was never
  scheduled is marked Failed and removed at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from ...errors import ApiError
from ..events import record
from ..resources import by_plural
from .common import (
    Obj,
    clone,
    condition,
    deleting,
    name_of,
    namespace_of,
    now_stamp,
    parse_time,
    put_condition,
    terminal,
)
from .fit import tolerates
from .loop import Change, Context, Controller, Key, api_code

NODES = by_plural("nodes")
PODS = by_plural("pods")
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MANAGED = (NOT_READY, UNREACHABLE, UNSCHEDULABLE)


def wanted_taints(node: Obj) -> set[tuple[str, str]]:
    """The (key, effect) pairs the node lifecycle controller keeps on this node."""
    ready = condition(node, "Ready")
    out = set()
    if ready is None:
        out.add((NOT_READY, "NoSchedule"))
    elif ready.get("status") == "False":
        out |= {(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}
    elif ready.get("status") != "True":
        out |= {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    if (node.get("spec") or {}).get("unschedulable"):
        out.add((UNSCHEDULABLE, "NoSchedule"))
    return out


def _managed(taint: Obj) -> bool:
    return taint.get("key") in MANAGED and taint.get("effect") in ("NoSchedule", "NoExecute")


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
        ready_now = condition(node, "Ready")
        if ready_now is not None and ready_now.get("status") != "True":
            self._mark_pods_not_ready(name_of(node))
        taints = list((node.get("spec") or {}).get("taints") or [])
        want = wanted_taints(node)
        have = {(t.get("key"), t.get("effect")) for t in taints if _managed(t)}
        if want == have:
            return None
        kept = [t for t in taints if not _managed(t) or (t.get("key"), t.get("effect")) in want]
        kept += [{"key": k, "effect": e, "timeAdded": now_stamp()} for k, e in sorted(want - have)]
        changed = clone(node)
        changed.setdefault("spec", {})["taints"] = kept
        if not kept:
            del changed["spec"]["taints"]
        self.objects.update(NODES, changed)
        return None

    def _mark_pods_not_ready(self, node: str) -> None:
        """What the real controller does to a node's pods once the node is not Ready: their Ready
        condition goes False (the Service endpoints drop them) and each gets a ``NodeNotReady`` event."""
        for pod in self.cache.list(PODS):
            if (pod.get("spec") or {}).get("nodeName") != node or terminal(pod):
                continue
            cond = condition(pod, "Ready")
            if cond is None or cond.get("status") != "True":
                continue
            changed = clone(pod)
            put_condition(
                changed.setdefault("status", {}),
                {**cond, "status": "False", "lastTransitionTime": now_stamp()},
                keep_transition=False,
            )
            try:
                saved = self.objects.update(PODS, changed)
            except ApiError as err:
                if api_code(err) not in (404, 409):
                    raise
                continue
            record(self.objects, saved, "NodeNotReady", "Node is not ready", type="Warning", component=self.name)


class TaintEviction(Controller):
    name = "taint-eviction-controller"

    def observe(self, change: Change) -> None:
        if change.res is NODES and change.type != "DELETED":
            old = ((change.old or {}).get("spec") or {}).get("taints")
            if old != (change.obj.get("spec") or {}).get("taints"):
                for pod in self.cache.list(PODS):
                    if (pod.get("spec") or {}).get("nodeName") == name_of(change.obj):
                        self.queue.add((namespace_of(pod), name_of(pod)))
        elif change.res is PODS and change.type != "DELETED" and (change.obj.get("spec") or {}).get("nodeName"):
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))

    def keys(self) -> Iterable[Key]:
        tainted = {
            name_of(n)
            for n in self.cache.list(NODES)
            if any(t.get("effect") == "NoExecute" for t in (n.get("spec") or {}).get("taints") or [])
        }
        return [
            (namespace_of(p), name_of(p))
            for p in self.cache.list(PODS)
            if (p.get("spec") or {}).get("nodeName") in tainted
        ]

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        pod = self.cache.get(PODS, ns, name)
        if pod is None or deleting(pod) or terminal(pod):
            return None
        node = self.cache.get(NODES, "", str((pod.get("spec") or {}).get("nodeName") or ""))
        if node is None:
            return None
        tolerations = list((pod.get("spec") or {}).get("tolerations") or [])
        due: float | None = None
        for taint in (node.get("spec") or {}).get("taints") or []:
            if taint.get("effect") != "NoExecute":
                continue
            matching = [t for t in tolerations if tolerates(t, taint)]
            if not matching:
                due = 0.0
                break
            limits = [float(t["tolerationSeconds"]) for t in matching if t.get("tolerationSeconds") is not None]
            if len(limits) == len(matching):  # every matching toleration runs out
                since = parse_time(taint.get("timeAdded")) or self.ctx.now()
                at = since + max(0.0, min(limits))
                due = at if due is None else min(due, at)
        if due is None:
            return None
        if due > self.ctx.now():
            return due - self.ctx.now() + 0.05
        self._evict(pod)
        return None

    def _evict(self, pod: Obj) -> None:
        changed = clone(pod)
        put_condition(
            changed.setdefault("status", {}),
            {
                "type": "DisruptionTarget",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": now_stamp(),
                "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint",
            },
        )
        saved = self.objects.update(PODS, changed)
        try:
            self.objects.delete(PODS, namespace_of(pod), name_of(pod))
        except ApiError as err:
            if api_code(err) != 404:
                raise
            return
        record(
            self.objects,
            saved,
            "TaintManagerEviction",
            f"Marking for deletion Pod {namespace_of(pod)}/{name_of(pod)}",
            component=self.name,
        )


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
