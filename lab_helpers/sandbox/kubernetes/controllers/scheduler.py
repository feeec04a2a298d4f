"""The scheduler: binds each pending pod that names no node (and no other scheduler) to the best
node that fits it, or leaves it Pending with ``PodScheduled=False`` (Unschedulable) and a
``FailedScheduling`` event that says why, node by node. An unschedulable pod is tried again when a
node changes in a way that could matter or a bound pod goes, with the real back-off (1 s doubling
to 10 s), and at least every five minutes."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable

from ..events import record
from ..resources import by_plural
from . import volume_binding
from .common import Obj, clone, deleting, name_of, namespace_of, now_stamp, put_condition, terminal
from .fit import Usage, Verdict, filter_node, fit_error, score_node
from .loop import Change, Context, Controller, Key

PODS = by_plural("pods")
NODES = by_plural("nodes")
PVCS = by_plural("persistentvolumeclaims")
NAME = "default-scheduler"
BACKOFF_START, BACKOFF_MAX = 1.0, 10.0
_RANDOM = random.Random()


def wants_scheduling(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and (spec.get("schedulerName") or NAME) == NAME
        and not deleting(pod)
        and not terminal(pod)
    )


def _node_facts(node: Obj | None) -> object:
    """What about a node can change a scheduling decision (heartbeats cannot)."""
    if node is None:
        return None
    status = node.get("status") or {}
    ready = [c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return (
        (node.get("metadata") or {}).get("labels"),
        node.get("spec"),
        status.get("allocatable") or status.get("capacity"),
        ready,
    )


class Scheduler(Controller):
    name = NAME

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._lock = threading.Lock()
        self._usage: dict[str, Usage] = {}
        self._unschedulable: dict[Key, tuple[int, float]] = {}  # key -> (attempts, monotonic time of the last)

    # -- what the cluster's pods use --------------------------------------------------------
    def _account(self, pod: Obj | None, sign: int) -> None:
        if pod is None:
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if node and not terminal(pod):
            self._usage.setdefault(node, Usage()).add(pod, sign)

    def usage(self, node: str) -> Usage:
        with self._lock:
            return self._usage.get(node) or Usage()

    def observe(self, change: Change) -> None:
        if change.res is PODS:
            with self._lock:
                self._account(change.old, -1)
                if change.type != "DELETED":
                    self._account(change.obj, +1)
            key = (namespace_of(change.obj), name_of(change.obj))
            if change.type != "DELETED" and wants_scheduling(change.obj):
                spec_changed = change.old is not None and change.old.get("spec") != change.obj.get("spec")
                with self._lock:
                    waiting = key in self._unschedulable
                if not waiting or spec_changed:  # a pod's own status writes do not make it fit
                    self.queue.add(key)
            else:
                with self._lock:
                    self._unschedulable.pop(key, None)
            old = change.old
            was_using = old is not None and (old.get("spec") or {}).get("nodeName") and not terminal(old)
            now_using = change.type != "DELETED" and (change.obj.get("spec") or {}).get("nodeName")
            if was_using and (not now_using or terminal(change.obj)):
                self._retry_unschedulable()
        elif change.res is NODES:
            if change.type == "DELETED" or _node_facts(change.old) != _node_facts(change.obj):
                self._retry_unschedulable()
        elif change.res is PVCS and change.type != "DELETED":
            ns = namespace_of(change.obj)  # a claim made or bound: the pods waiting in its namespace try again
            with self._lock:
                retry = [key for key in self._unschedulable if key[0] == ns]
            for waiting_key in retry:
                self.queue.add(waiting_key)

    def _retry_unschedulable(self) -> None:
        now = time.monotonic()
        with self._lock:
            waiting = list(self._unschedulable.items())
        for key, (attempts, last) in waiting:
            backoff = min(BACKOFF_START * 2 ** max(0, attempts - 1), BACKOFF_MAX)
            self.queue.add_after(key, last + backoff - now)

    def keys(self) -> Iterable[Key]:
        with self._lock:  # unschedulable pods wait for a change, their back-off or the minute, not the resync
            waiting = set(self._unschedulable)
        pods = [(namespace_of(p), name_of(p)) for p in self.cache.list(PODS) if wants_scheduling(p)]
        return [key for key in pods if key not in waiting]

    # -- one pod ------------------------------------------------------------------------------
    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        pod = self.cache.get(PODS, ns, name)
        if pod is None or not wants_scheduling(pod):
            with self._lock:
                self._unschedulable.pop(key, None)
            return None
        if (pod.get("spec") or {}).get("schedulingGates"):
            self._set_scheduled(
                pod, "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates"
            )
            return None
        nodes = sorted(self.cache.list(NODES), key=name_of)
        why, delayed, selected = volume_binding.check(self.cache, pod)
        if why is not None:
            return self._unschedulable_now(key, pod, volume_binding.prefilter_message(why, len(nodes)))
        if selected is not None and delayed:  # a claim waits for its volume on the node chosen before (PreBind)
            return 0.1
        verdicts: dict[str, Verdict] = {}
        feasible: list[tuple[float, str]] = []
        for node in nodes:
            usage = self.usage(name_of(node))
            verdict = filter_node(pod, node, usage)
            if verdict is None:
                feasible.append((score_node(pod, node, usage), name_of(node)))
            else:
                verdicts[name_of(node)] = verdict
        if not feasible:
            return self._unschedulable_now(key, pod, fit_error(pod, verdicts))
        best = max(score for score, _ in feasible)
        chosen = _RANDOM.choice([n for score, n in feasible if score >= best - 1e-9])
        if selected is not None and any(n == selected for _, n in feasible):
            chosen = selected  # where its claims' volumes were made
        if delayed:
            self._select_node(delayed, chosen)
            return 0.1
        self._bind(pod, chosen)
        with self._lock:
            self._unschedulable.pop(key, None)
        return None

    def _bind(self, pod: Obj, node: str) -> None:
        """What ``POST pods/{name}/binding`` does: the node name, and ``PodScheduled=True``."""
        bound = clone(pod)
        bound["spec"]["nodeName"] = node
        put_condition(
            bound.setdefault("status", {}),
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now_stamp()},
            keep_transition=False,
        )
        bound["status"].setdefault("phase", "Pending")
        saved = self.objects.update(PODS, bound)
        record(
            self.objects,
            saved,
            "Scheduled",
            f"Successfully assigned {namespace_of(pod)}/{name_of(pod)} to {node}",
            component=NAME,
        )

    def _select_node(self, claims: list[Obj], node: str) -> None:
        """Give each WaitForFirstConsumer claim the chosen node; the pod is bound once they are."""
        for claim in claims:
            changed = clone(claim)
            changed["metadata"].setdefault("annotations", {})[volume_binding.SELECTED_NODE] = node
            self.objects.update(PVCS, changed)

    def _set_scheduled(self, pod: Obj, status: str, reason: str, message: str) -> bool:
        changed = clone(pod)
        cond = {
            "type": "PodScheduled",
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": now_stamp(),
            "reason": reason,
            "message": message,
        }
        if not put_condition(changed.setdefault("status", {}), cond):
            return False
        changed["status"].setdefault("phase", "Pending")
        self.objects.update(PODS, changed)
        return True

    def _unschedulable_now(self, key: Key, pod: Obj, message: str) -> float:
        with self._lock:  # first, so the pod's own status write below is not taken for a reason to retry
            attempts = self._unschedulable.get(key, (0, 0.0))[0] + 1
            self._unschedulable[key] = (attempts, time.monotonic())
        self._set_scheduled(pod, "False", "Unschedulable", message)
        record(self.objects, pod, "FailedScheduling", message, type="Warning", component=NAME)
        return self.ctx.settings.unschedulable_retry_s
