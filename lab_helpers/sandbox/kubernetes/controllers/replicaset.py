"""The ReplicaSet controller: as many active pods as ``spec.replicas``, made from the template and
owned by the ReplicaSet; orphans that match its selector adopted, owned pods that stop matching
released; the pods to remove chosen as the real controller ranks them (unscheduled, pending,
not ready, lower deletion cost, doubled up on a node, newest ready, most restarts, newest);
status with ready, available (``minReadySeconds``) and terminating counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ...errors import ApiError
from ..events import record
from ..resources import by_plural
from . import selectors
from .common import (
    Obj,
    active,
    available,
    clone,
    controller_ref,
    created,
    deleting,
    name_of,
    namespace_of,
    owner_ref,
    parse_time,
    phase,
    pod_from_template,
    ready,
    ready_since,
    restarts,
    terminating,
    uid_of,
)
from .loop import Change, Controller, Key, api_code

RS = by_plural("replicasets", "apps")
PODS = by_plural("pods")
BURST = 500  # pods created or deleted in one pass, as the real controller's burstReplicas
COMPONENT = "replicaset-controller"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """Active pods, the first to delete first (``controller.ActivePodsWithRanks``)."""
    on_node = Counter((p.get("spec") or {}).get("nodeName") for p in pods)

    def rank(pod: Obj) -> tuple[float, ...]:
        node = (pod.get("spec") or {}).get("nodeName")
        try:
            cost = int((pod.get("metadata", {}).get("annotations") or {}).get(DELETION_COST, "0"))
        except ValueError:
            cost = 0
        since = ready_since(pod) if ready(pod) else None
        return (
            1 if node else 0,
            {"Pending": 0, "Unknown": 1, "Running": 2}.get(phase(pod), 0),
            1 if ready(pod) else 0,
            cost,
            -(on_node[node] if node else 0),
            -(since or 0.0),
            -restarts(pod),
            -(parse_time(created(pod)) or 0.0),
        )

    return sorted(pods, key=rank)


class ReplicaSetController(Controller):
    name = COMPONENT

    def observe(self, change: Change) -> None:
        if change.res is RS:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
        elif change.res is PODS:
            ns = namespace_of(change.obj)
            for pod in (change.old, change.obj):
                ref = controller_ref(pod) if pod else None
                if ref and ref.get("kind") == "ReplicaSet":
                    self.queue.add((ns, str(ref.get("name"))))
            pod = change.obj
            if change.type != "DELETED" and controller_ref(pod) is None and active(pod):
                labels = pod.get("metadata", {}).get("labels") or {}
                for rs in self.cache.list(RS, ns):  # an orphan: whichever ReplicaSet selects it may adopt it
                    if selectors.label_selector((rs.get("spec") or {}).get("selector"), labels):
                        self.queue.add((ns, name_of(rs)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(rs), name_of(rs)) for rs in self.cache.list(RS)]

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        rs = self.cache.get(RS, ns, name)
        if rs is None:
            return None
        owned = self._claim(rs)
        live = [p for p in owned if active(p)]
        if not deleting(rs):
            self._manage(rs, live)
            self.cache.sync()
            rs = self.cache.get(RS, ns, name) or rs  # a Deployment may have rescaled it meanwhile
            owned = self._claim(rs)
            live = [p for p in owned if active(p)]
        return self._update_status(rs, owned, live)

    # -- ownership ------------------------------------------------------------------------------
    def _claim(self, rs: Obj) -> list[Obj]:
        """The pods this ReplicaSet controls, adopting matching orphans and releasing pods that stopped matching."""
        selector = (rs.get("spec") or {}).get("selector")
        owned = []
        for pod in self.cache.list(PODS, namespace_of(rs)):
            ref = controller_ref(pod)
            matches = selectors.label_selector(selector, pod.get("metadata", {}).get("labels"))
            if ref is not None and ref.get("uid") == uid_of(rs):
                if matches or not active(pod):
                    owned.append(pod)
                else:
                    self._set_owner(pod, None, uid_of(rs))
            elif ref is None and matches and active(pod) and not deleting(rs):
                adopted = self._set_owner(pod, rs, "")
                if adopted is not None:
                    owned.append(adopted)
        return owned

    def _set_owner(self, pod: Obj, rs: Obj | None, drop_uid: str) -> Obj | None:
        changed = clone(pod)
        refs = [r for r in changed["metadata"].get("ownerReferences") or [] if r.get("uid") != drop_uid]
        if rs is not None:
            refs.append(owner_ref(rs, RS))
        changed["metadata"]["ownerReferences"] = refs
        if not refs:
            del changed["metadata"]["ownerReferences"]
        try:
            return self.objects.update(PODS, changed)
        except ApiError as err:
            if api_code(err) in (404, 409):
                return None
            raise

    # -- replicas -------------------------------------------------------------------------------
    def _manage(self, rs: Obj, live: list[Obj]) -> None:
        ns = namespace_of(rs)
        want = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(live) - want
        if diff < 0:
            if self.namespace_closing(ns):
                return
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(min(-diff, BURST)):
                self._create_pod(rs, template)
        elif diff > 0:
            for pod in deletion_order(live)[: min(diff, BURST)]:
                try:
                    self.objects.delete(PODS, ns, name_of(pod))
                except ApiError as err:
                    if api_code(err) != 404:
                        raise
                    continue
                record(self.objects, rs, "SuccessfulDelete", f"Deleted pod: {name_of(pod)}", component=COMPONENT)

    def _create_pod(self, rs: Obj, template: Obj) -> None:
        for _ in range(3):  # a generated name may be taken
            pod = pod_from_template(template, rs, RS, f"{name_of(rs)}-")
            try:
                self.create(PODS, pod)
            except ApiError as err:
                if api_code(err) == 409:
                    continue
                record(self.objects, rs, "FailedCreate", f"Error creating: {err}", type="Warning", component=COMPONENT)
                raise
            record(self.objects, rs, "SuccessfulCreate", f"Created pod: {name_of(pod)}", component=COMPONENT)
            return

    def _update_status(self, rs: Obj, owned: list[Obj], live: list[Obj]) -> float | None:
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.ctx.now()
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        labelled = sum(
            1
            for p in live
            if all((p.get("metadata", {}).get("labels") or {}).get(k) == v for k, v in template_labels.items())
        )
        n_ready = sum(1 for p in live if ready(p))
        n_available = sum(1 for p in live if available(p, min_ready, now))
        status: Obj = {"replicas": len(live)}
        if labelled:
            status["fullyLabeledReplicas"] = labelled
        if n_ready:
            status["readyReplicas"] = n_ready
        if n_available:
            status["availableReplicas"] = n_available
        status["terminatingReplicas"] = sum(1 for p in owned if terminating(p))
        status["observedGeneration"] = rs.get("metadata", {}).get("generation", 1)
        old = rs.get("status") or {}
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if status != old:
            changed = clone(rs)
            changed["status"] = status
            self.objects.update(RS, changed)
        if min_ready > 0 and n_ready > n_available:
            waits = [
                (ready_since(p) or now) + min_ready - now for p in live if ready(p) and not available(p, min_ready, now)
            ]
            return max(0.05, min(waits) + 0.05)
        return None
