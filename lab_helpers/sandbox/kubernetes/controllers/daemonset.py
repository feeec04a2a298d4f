"""DaemonSet: one pod on each node that fits, as the real daemon controller keeps them.

- A node should run the daemon pod when it matches the template's ``nodeSelector`` and required node
  affinity and has no NoSchedule/NoExecute taint the pod does not tolerate. Every daemon pod also
  tolerates what the real controller adds: ``not-ready`` and ``unreachable`` (NoExecute, no time
  limit), ``disk-pressure``, ``memory-pressure``, ``pid-pressure`` and ``unschedulable`` (NoSchedule;
  a cordoned node keeps and gets its daemon pod), ``network-unavailable`` for host-network pods.
  A pod already running on a node that gained a NoSchedule taint stays.
- Each pod is pinned to its node with required node affinity ``matchFields metadata.name In
  [node]`` (the scheduler binds it), labelled ``controller-revision-hash`` and
  ``pod-template-generation``; a new node gets its pod, a pod on a node that no longer fits is
  deleted (pods of deleted nodes go with the pod garbage collector), a Failed pod is replaced.
- Each template is kept as a ControllerRevision ``<name>-<hash>`` (``kubectl rollout history``).
- ``RollingUpdate``: old pods are deleted while at most ``maxUnavailable`` daemon pods are unavailable
  (one by default) and replaced by new ones; with ``maxSurge`` the new pod starts first on up to that
  many nodes and the old one goes once the new one is available. ``OnDelete``: a new pod only where
  someone deleted the old one.
- Status: desired/current/misscheduled/ready/available/updated/unavailable counts and
  ``observedGeneration``, which ``kubectl rollout status ds/<name>`` and ``kubectl get ds`` read.
"""

from __future__ import annotations

import copy
import math
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
    deleting,
    name_of,
    namespace_of,
    owner_ref,
    phase,
    pod_from_template,
    ready,
    uid_of,
)
from .fit import matches_node, node_taints, tolerates
from .loop import Change, Controller, Key, api_code
from .rollout import template_hash

DAEMONSETS = by_plural("daemonsets", "apps")
REVISIONS = by_plural("controllerrevisions", "apps")
PODS = by_plural("pods")
NODES = by_plural("nodes")
NAME = "daemonset-controller"
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"

DAEMON_TOLERATIONS: tuple[tuple[str, str], ...] = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


def daemon_pod_spec(template_spec: Obj, node: str | None) -> Obj:
    """The template's pod spec with the daemon tolerations and (for ``node``) the node pin."""
    spec = copy.deepcopy(template_spec)
    tolerations = list(spec.get("tolerations") or [])
    wanted = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    for key, effect in wanted:
        tolerations = [t for t in tolerations if not (t.get("key") == key and t.get("effect") == effect)]
        tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    spec["tolerations"] = tolerations
    if node is not None:
        pin = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
        affinity = spec.setdefault("affinity", {})
        node_affinity = affinity.setdefault("nodeAffinity", {})
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [pin]}
    return spec


def should_run(ds: Obj, node: Obj) -> tuple[bool, bool]:
    """(should run a new daemon pod there, may keep one running there)."""
    spec = daemon_pod_spec(((ds.get("spec") or {}).get("template") or {}).get("spec") or {}, None)
    probe = {"spec": spec}
    if spec.get("nodeName") and spec["nodeName"] != name_of(node):
        return False, False
    if not matches_node(probe, node):
        return False, False
    tolerations = spec.get("tolerations") or []
    run = keep = True
    for taint in node_taints(node):
        if any(tolerates(t, taint) for t in tolerations):
            continue
        if taint.get("effect") == "NoExecute":
            return False, False
        if taint.get("effect") == "NoSchedule":
            run = False
    return run, keep


def _int_or_percent(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value or 0)  # type: ignore[call-overload]


class DaemonSetController(Controller):
    name = NAME

    # -- what to look at --------------------------------------------------------------------
    def observe(self, change: Change) -> None:
        if change.res is DAEMONSETS:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
        elif change.res is PODS:
            for pod in (change.old, change.obj):
                ref = controller_ref(pod) if pod else None
                if ref and ref.get("kind") == "DaemonSet":
                    self.queue.add((namespace_of(change.obj), str(ref.get("name"))))
        elif change.res is NODES:
            old, new = change.old or {}, change.obj
            if (
                change.type != "MODIFIED"
                or old.get("spec") != new.get("spec")
                or (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels")
                or _ready(old) != _ready(new)
            ):
                for ds in self.cache.list(DAEMONSETS):
                    self.queue.add((namespace_of(ds), name_of(ds)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(d), name_of(d)) for d in self.cache.list(DAEMONSETS)]

    # -- one DaemonSet ----------------------------------------------------------------------
    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        ds = self.cache.get(DAEMONSETS, ns, name)
        if ds is None or deleting(ds):
            return None
        current_hash = self._revisions(ds)
        pods = self._pods(ds)
        nodes = {name_of(n): n for n in self.cache.list(NODES)}
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            node = _target_node(pod)
            by_node.setdefault(node, []).append(pod)
        wanted = {n for n, node in nodes.items() if should_run(ds, node)[0]}
        keep = {n for n, node in nodes.items() if should_run(ds, node)[1]}
        create: list[str] = []
        delete: list[Obj] = []
        for node_name in nodes:
            here = [p for p in by_node.get(node_name, []) if not deleting(p)]
            failed = [p for p in here if phase(p) == "Failed"]
            delete += failed
            here = [p for p in here if p not in failed]
            if node_name in wanted or (node_name in keep and here):
                if not here:
                    if node_name in wanted and not failed:
                        create.append(node_name)
                elif len(here) > 1:  # keep the oldest (the real controller keeps the oldest ready one)
                    here.sort(key=lambda p: (not ready(p), p["metadata"].get("creationTimestamp", "")))
                    delete += [p for p in here[1:] if not _surge_pair(here, current_hash)]
            else:
                delete += here
        for node_name, here in by_node.items():  # pinned to a node that has gone, never bound: nothing will run it
            if node_name not in nodes:
                delete += [p for p in here if not deleting(p) and not (p.get("spec") or {}).get("nodeName")]
        if not create and not delete:
            delete += self._rolling(ds, nodes, by_node, wanted, current_hash)
        for node_name in create:
            self._create(ds, node_name, current_hash)
        for pod in delete:
            self._delete(ds, pod)
        if create or delete:
            self.cache.sync()
            pods = self._pods(ds)
        return self._status(ds, pods, nodes, wanted, current_hash)

    def _pods(self, ds: Obj) -> list[Obj]:
        selector = (ds.get("spec") or {}).get("selector")
        out = []
        for pod in self.cache.list(PODS, namespace_of(ds)):
            ref = controller_ref(pod)
            if ref is not None and ref.get("uid") == uid_of(ds):
                out.append(pod)
            elif ref is None and active(pod) and selectors.label_selector(selector, pod["metadata"].get("labels")):
                adopted = clone(pod)
                adopted["metadata"]["ownerReferences"] = [owner_ref(ds, DAEMONSETS)]
                try:
                    out.append(self.objects.update(PODS, adopted))
                except ApiError as err:
                    if api_code(err) not in (404, 409):
                        raise
        return out

    # -- revisions --------------------------------------------------------------------------
    def _revisions(self, ds: Obj) -> str:
        """The current template's hash; its ControllerRevision made (or renumbered) as the newest."""
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        collisions = (ds.get("status") or {}).get("collisionCount")
        digest = template_hash(template, collisions)
        mine = [
            r
            for r in self.cache.list(REVISIONS, namespace_of(ds))
            if (controller_ref(r) or {}).get("uid") == uid_of(ds)
        ]
        top = max((int(r.get("revision") or 0) for r in mine), default=0)
        name = f"{name_of(ds)}-{digest}"
        existing = next((r for r in mine if name_of(r) == name), None)
        if existing is None:
            labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH_LABEL: digest}
            revision = {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": {
                    "name": name,
                    "namespace": namespace_of(ds),
                    "labels": labels,
                    "ownerReferences": [owner_ref(ds, DAEMONSETS)],
                },
                "data": {"spec": {"template": {**copy.deepcopy(template), "$patch": "replace"}}},
                "revision": top + 1,
            }
            try:
                self.create(REVISIONS, revision)
            except ApiError as err:
                if api_code(err) != 409:
                    raise
        elif int(existing.get("revision") or 0) < top:  # a rollback to an older template
            bumped = clone(existing)
            bumped["revision"] = top + 1
            self.objects.update(REVISIONS, bumped)
        self._prune(ds, mine, name)
        return digest

    def _prune(self, ds: Obj, mine: list[Obj], current: str) -> None:
        limit = int((ds.get("spec") or {}).get("revisionHistoryLimit", 10))
        old = sorted((r for r in mine if name_of(r) != current), key=lambda r: int(r.get("revision") or 0))
        live = {p["metadata"].get("labels", {}).get(HASH_LABEL) for p in self._pods(ds)}
        removable = [r for r in old if (r.get("metadata", {}).get("labels") or {}).get(HASH_LABEL) not in live]
        for r in removable[: max(0, len(old) - limit)]:
            try:
                self.objects.delete(REVISIONS, namespace_of(r), name_of(r))
            except ApiError as err:
                if api_code(err) != 404:
                    raise

    # -- pods -------------------------------------------------------------------------------
    def _create(self, ds: Obj, node: str, digest: str) -> None:
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        template["spec"] = daemon_pod_spec(template.get("spec") or {}, node)
        generation = str(ds["metadata"].get("generation") or 1)
        pod = pod_from_template(
            template, ds, DAEMONSETS, f"{name_of(ds)}-", labels={HASH_LABEL: digest, GENERATION_LABEL: generation}
        )
        try:
            self.create(PODS, pod)
        except ApiError as err:
            if api_code(err) == 409:
                return
            record(self.objects, ds, "FailedCreate", f"Error creating: {err}", type="Warning", component=NAME)
            raise
        record(self.objects, ds, "SuccessfulCreate", f"Created pod: {name_of(pod)}", component=NAME)

    def _delete(self, ds: Obj, pod: Obj) -> None:
        try:
            self.objects.delete(PODS, namespace_of(pod), name_of(pod))
        except ApiError as err:
            if api_code(err) != 404:
                raise
            return
        record(self.objects, ds, "SuccessfulDelete", f"Deleted pod: {name_of(pod)}", component=NAME)

    def _rolling(
        self, ds: Obj, nodes: dict[str, Obj], by_node: dict[str, list[Obj]], wanted: set[str], digest: str
    ) -> list[Obj]:
        """The old pods to delete now (and new surge pods made) under the RollingUpdate strategy."""
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return []
        rolling = strategy.get("rollingUpdate") or {}
        desired = len(wanted)
        surge = _int_or_percent(rolling.get("maxSurge", 0), desired, True)
        max_unavailable = _int_or_percent(rolling.get("maxUnavailable", 1), desired, True)
        if surge == 0 and max_unavailable == 0:
            max_unavailable = 1
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.ctx.now()
        unavailable = 0
        old_pods: list[tuple[str, Obj, bool]] = []
        surging = 0
        for node_name in sorted(wanted):
            here = [p for p in by_node.get(node_name, []) if not deleting(p)]
            new = [p for p in here if _hash(p) == digest]
            old = [p for p in here if _hash(p) != digest]
            if not here:
                unavailable += 1
                continue
            ok = any(available(p, min_ready, now) for p in here)
            if not ok:
                unavailable += 1
            if new and old:
                surging += 1
                if any(available(p, min_ready, now) for p in new):
                    old_pods.append((node_name, old[0], True))  # its replacement is available
                continue
            for pod in old:
                old_pods.append((node_name, pod, available(pod, min_ready, now)))
        out: list[Obj] = []
        if surge > 0:
            for node_name, pod, ok in old_pods:
                here = by_node.get(node_name, [])
                if any(_hash(p) == digest and not deleting(p) for p in here):
                    out.append(pod)  # the new pod is available (or the old one is not): the old goes
                elif surging < surge or not ok:
                    surging += 1
                    self._create(ds, node_name, digest)
            return out
        for _, pod, ok in old_pods:
            if not ok:
                out.append(pod)
            elif unavailable < max_unavailable:
                unavailable += 1
                out.append(pod)
        return out

    # -- status -----------------------------------------------------------------------------
    def _status(self, ds: Obj, pods: list[Obj], nodes: dict[str, Obj], wanted: set[str], digest: str) -> float | None:
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.ctx.now()
        current = misscheduled = n_ready = n_available = updated = 0
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            if not deleting(pod):
                by_node.setdefault(_target_node(pod), []).append(pod)
        waits: list[float] = []
        for node_name, here in by_node.items():
            if node_name not in nodes:
                continue
            if node_name not in wanted:  # running where it should not start (a NoSchedule taint it kept)
                misscheduled += 1
                continue
            current += 1
            newest = sorted(here, key=lambda p: p["metadata"].get("creationTimestamp", ""))[-1]
            best = next((p for p in here if ready(p)), newest)
            if ready(best):
                n_ready += 1
                if available(best, min_ready, now):
                    n_available += 1
                else:
                    waits.append(min_ready)
            if any(_hash(p) == digest for p in here):
                updated += 1
        desired = len(wanted)
        status: Obj = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": n_ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": updated,
            "numberAvailable": n_available,
        }
        if desired - n_available > 0:
            status["numberUnavailable"] = desired - n_available
        old = ds.get("status") or {}
        for kept in ("collisionCount", "conditions"):
            if old.get(kept) is not None:
                status[kept] = old[kept]
        if status != old:
            changed = clone(ds)
            changed["status"] = status
            notes = changed["metadata"].setdefault("annotations", {})
            notes[GENERATION_ANNOTATION] = str(ds["metadata"].get("generation", 1))
            self.objects.update(DAEMONSETS, changed)
        return min(waits) + 0.05 if waits else None


def _ready(node: Obj) -> object:
    return [c.get("status") for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]


def _hash(pod: Obj) -> str:
    return str((pod["metadata"].get("labels") or {}).get(HASH_LABEL) or "")


def _surge_pair(here: list[Obj], digest: str) -> bool:
    return len(here) == 2 and len({_hash(p) == digest for p in here}) == 2


def _target_node(pod: Obj) -> str:
    """The node a daemon pod is for: where it is bound, else the node its affinity pins it to."""
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        return str(node)
    required = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return ""
