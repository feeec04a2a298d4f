"""The StatefulSet controller: pods ``<set>-0`` .. ``<set>-N-1`` with stable names, hostnames and
subdomain (``spec.serviceName``), each with its own claims made from ``volumeClaimTemplates``
(``<template>-<set>-<ordinal>``), which outlive the pods: a pod deleted or scaled away comes back to
the same claims and so the same data, unless ``persistentVolumeClaimRetentionPolicy`` says Delete.

``OrderedReady`` creates one pod at a time in ordinal order, each once the one before is Running and
Ready, and removes from the highest ordinal down, one at a time; ``Parallel`` does all at once.
Template changes become ControllerRevisions (``<set>-<hash>``, pods labelled
``controller-revision-hash``); ``RollingUpdate`` replaces pods from the highest ordinal down to the
``partition``, ``OnDelete`` only when a pod is deleted. Status counts replicas, ready, available,
current and updated pods and names the current and update revisions, so ``kubectl rollout status
sts`` follows a roll-out and ``kubectl scale sts`` works through ``/scale``."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable

from ...errors import ApiError
from ..events import record
from ..resources import by_plural
from .common import (
    Obj,
    available,
    clone,
    controller_ref,
    deleting,
    name_of,
    namespace_of,
    owner_ref,
    phase,
    ready,
    terminal,
    uid_of,
)
from .loop import Change, Controller, Key, api_code
from .rollout import template_hash

STS = by_plural("statefulsets", "apps")
PODS = by_plural("pods")
PVCS = by_plural("persistentvolumeclaims")
REVISIONS = by_plural("controllerrevisions", "apps")
COMPONENT = "statefulset-controller"
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal_of(sts_name: str, pod: Obj) -> int | None:
    m = re.fullmatch(re.escape(sts_name) + r"-(\d+)", name_of(pod))
    return int(m[1]) if m else None


def healthy(pod: Obj) -> bool:
    return phase(pod) == "Running" and ready(pod) and not deleting(pod)


def claim_name(template: Obj, sts: Obj, ordinal: int) -> str:
    return f"{(template.get('metadata') or {}).get('name', '')}-{name_of(sts)}-{ordinal}"


def revision_data(sts: Obj) -> Obj:
    """What a ControllerRevision keeps: the template, as the patch the controller would apply."""
    template = copy.deepcopy((sts.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_name(sts: Obj, collision: int = 0) -> str:
    template = (sts.get("spec") or {}).get("template") or {}
    return f"{name_of(sts)}-{template_hash(template, collision or None)}"


class StatefulSetController(Controller):
    name = COMPONENT

    def observe(self, change: Change) -> None:
        if change.res is STS:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
        elif change.res in (PODS, REVISIONS):
            for obj in (change.old, change.obj):
                ref = controller_ref(obj) if obj else None
                if ref and ref.get("kind") == "StatefulSet":
                    self.queue.add((namespace_of(change.obj), str(ref.get("name"))))
        elif change.res is PVCS and change.type == "DELETED":
            for sts in self.cache.list(STS, namespace_of(change.obj)):  # a claim it waited to see go
                self.queue.add((namespace_of(sts), name_of(sts)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(s), name_of(s)) for s in self.cache.list(STS)]

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        sts = self.cache.get(STS, ns, name)
        if sts is None or deleting(sts):
            return None
        pods = {}
        for pod in self.cache.list(PODS, ns):
            ref = controller_ref(pod)
            if ref is None or ref.get("uid") != uid_of(sts):
                continue
            ordinal = ordinal_of(name, pod)
            if ordinal is not None:
                pods[ordinal] = pod
        current_rev, update_rev = self._revisions(sts, pods)
        again = self._manage(sts, pods, current_rev, update_rev)
        self.cache.sync()
        sts = self.cache.get(STS, ns, name) or sts
        pods = {
            o: p
            for p in self.cache.list(PODS, ns)
            if (controller_ref(p) or {}).get("uid") == uid_of(sts) and (o := ordinal_of(name, p)) is not None
        }
        status_again = self._update_status(sts, pods, current_rev, update_rev)
        waits = [w for w in (again, status_again) if w is not None]
        return min(waits) if waits else None

    # -- revisions ----------------------------------------------------------------------------
    def _revisions(self, sts: Obj, pods: dict[int, Obj]) -> tuple[str, str]:
        """(current revision, update revision), making the update revision's ControllerRevision if new."""
        ns = namespace_of(sts)
        owned = [r for r in self.cache.list(REVISIONS, ns) if (controller_ref(r) or {}).get("uid") == uid_of(sts)]
        data = revision_data(sts)
        match = next((r for r in owned if r.get("data") == data), None)
        if match is None:
            number = max((int(r.get("revision") or 0) for r in owned), default=0) + 1
            rev: Obj = {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": {
                    "name": revision_name(sts),
                    "namespace": ns,
                    "labels": dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}),
                    "ownerReferences": [owner_ref(sts, STS)],
                },
                "data": data,
                "revision": number,
            }
            rev["metadata"]["labels"][REVISION_LABEL] = rev["metadata"]["name"]
            try:
                match = self.objects.create(REVISIONS, rev)
            except ApiError as err:
                if api_code(err) != 409:
                    raise
                match = self.objects.get(REVISIONS, ns, rev["metadata"]["name"]) or rev
            owned.append(match)
        newest = max(int(r.get("revision") or 0) for r in owned)
        if int(match.get("revision") or 0) < newest and (sts.get("status") or {}).get("updateRevision") != name_of(
            match
        ):
            bumped = clone(match)  # a template seen before (a rollback) becomes the newest revision again
            bumped["revision"] = newest + 1
            try:
                match = self.objects.update(REVISIONS, bumped)
            except ApiError as err:
                if api_code(err) not in (404, 409):
                    raise
        update_rev = name_of(match)
        current_rev = str((sts.get("status") or {}).get("currentRevision") or "")
        if not current_rev or not any(name_of(r) == current_rev for r in owned):
            current_rev = update_rev
        self._trim_history(sts, owned, {current_rev, update_rev} | {self._rev(p) for p in pods.values()})
        return current_rev, update_rev

    def _trim_history(self, sts: Obj, owned: list[Obj], live: set[str]) -> None:
        limit = int((sts.get("spec") or {}).get("revisionHistoryLimit", 10))
        old = sorted((r for r in owned if name_of(r) not in live), key=lambda r: int(r.get("revision") or 0))
        for rev in old[: max(0, len(old) - limit)]:
            try:
                self.objects.delete(REVISIONS, namespace_of(sts), name_of(rev))
            except ApiError as err:
                if api_code(err) != 404:
                    raise

    @staticmethod
    def _rev(pod: Obj) -> str:
        return str((pod.get("metadata", {}).get("labels") or {}).get(REVISION_LABEL, ""))

    # -- pods and claims ----------------------------------------------------------------------
    def _manage(self, sts: Obj, pods: dict[int, Obj], current_rev: str, update_rev: str) -> float | None:
        spec = sts.get("spec") or {}
        want = int(spec.get("replicas", 1))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        strategy = spec.get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        if self.namespace_closing(namespace_of(sts)):
            return None
        for ordinal in range(want):
            pod = pods.get(ordinal)
            if pod is not None and terminal(pod) and not deleting(pod):
                self._delete_pod(sts, pod)  # a failed pod is replaced under the same name
                if not parallel:
                    return None
                continue
            if pod is None:
                if strategy.get("type") == "OnDelete":
                    rev = update_rev
                else:
                    rev = current_rev if ordinal < partition else update_rev
                if not self._ensure_claims(sts, ordinal):
                    if not parallel:
                        return 0.5
                    continue
                self._create_pod(sts, ordinal, rev)
                if not parallel:
                    return None
                continue
            if not parallel and not healthy(pod):
                return None  # OrderedReady: the next waits for this one
        condemned = sorted((o for o in pods if o >= want), reverse=True)
        if condemned:
            if not parallel and any(not healthy(pods[o]) for o in pods if o < want):
                return None
            for ordinal in condemned:
                pod = pods[ordinal]
                if not deleting(pod):
                    self._delete_pod(sts, pod)
                if not parallel:
                    return None
            return None
        self._scaled_claims(sts, want, pods)
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            if any(not healthy(p) for p in pods.values()):
                return None
            for ordinal in sorted(pods, reverse=True):
                if ordinal < partition:
                    break
                pod = pods[ordinal]
                if self._rev(pod) != update_rev and not deleting(pod):
                    self._delete_pod(sts, pod)
                    return None
        return None

    def _scaled_claims(self, sts: Obj, want: int, pods: dict[int, Obj]) -> None:
        policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        if policy.get("whenScaled") != "Delete":
            return
        ns = namespace_of(sts)
        names = {
            (t.get("metadata") or {}).get("name", "") for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or []
        }
        for claim in self.cache.list(PVCS, ns):
            m = re.fullmatch(r"(.+)-" + re.escape(name_of(sts)) + r"-(\d+)", name_of(claim))
            if m and m[1] in names and int(m[2]) >= want and int(m[2]) not in pods and not deleting(claim):
                try:
                    self.objects.delete(PVCS, ns, name_of(claim))
                except ApiError as err:
                    if api_code(err) != 404:
                        raise
                record(
                    self.objects,
                    sts,
                    "SuccessfulDelete",
                    f"delete Claim {name_of(claim)} in StatefulSet {name_of(sts)} successful",
                    component=COMPONENT,
                )

    def _ensure_claims(self, sts: Obj, ordinal: int) -> bool:
        """Make the ordinal's claims that are missing; False while one is still being deleted."""
        spec = sts.get("spec") or {}
        ns = namespace_of(sts)
        pod_name = f"{name_of(sts)}-{ordinal}"
        when_deleted = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted")
        for template in spec.get("volumeClaimTemplates") or []:
            name = claim_name(template, sts, ordinal)
            claim = self.cache.get(PVCS, ns, name)
            if claim is not None:
                if deleting(claim):
                    return False
                continue
            meta = copy.deepcopy(template.get("metadata") or {})
            labels = {**(meta.get("labels") or {}), **((spec.get("selector") or {}).get("matchLabels") or {})}
            new: Obj = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": copy.deepcopy(template.get("spec") or {}),
            }
            if meta.get("annotations"):
                new["metadata"]["annotations"] = meta["annotations"]
            if when_deleted == "Delete":
                new["metadata"]["ownerReferences"] = [owner_ref(sts, STS, controller=False)]
            try:
                self.create(PVCS, new)
            except ApiError as err:
                if api_code(err) != 409:
                    record(
                        self.objects,
                        sts,
                        "FailedCreate",
                        f"create Claim {name} for Pod {pod_name} in StatefulSet {name_of(sts)} failed error: {err}",
                        type="Warning",
                        component=COMPONENT,
                    )
                    raise
                continue
            record(
                self.objects,
                sts,
                "SuccessfulCreate",
                f"create Claim {name} Pod {pod_name} in StatefulSet {name_of(sts)} success",
                component=COMPONENT,
            )
        return True

    def _create_pod(self, sts: Obj, ordinal: int, rev: str) -> None:
        spec = sts.get("spec") or {}
        ns = namespace_of(sts)
        template = self._template_of(sts, rev)
        tmeta = template.get("metadata") or {}
        pod_name = f"{name_of(sts)}-{ordinal}"
        labels = {
            **(tmeta.get("labels") or {}),
            REVISION_LABEL: rev,
            POD_NAME_LABEL: pod_name,
            POD_INDEX_LABEL: str(ordinal),
        }
        pspec = copy.deepcopy(template.get("spec") or {})
        pspec["hostname"] = pod_name
        if spec.get("serviceName"):
            pspec["subdomain"] = spec["serviceName"]
        volumes = [v for v in pspec.get("volumes") or []]
        for vt in spec.get("volumeClaimTemplates") or []:
            vname = (vt.get("metadata") or {}).get("name", "")
            volumes = [v for v in volumes if v.get("name") != vname]
            volumes.append({"name": vname, "persistentVolumeClaim": {"claimName": claim_name(vt, sts, ordinal)}})
        if volumes:
            pspec["volumes"] = volumes
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": ns,
                "labels": labels,
                "ownerReferences": [owner_ref(sts, STS)],
            },
            "spec": pspec,
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = dict(tmeta["annotations"])
        try:
            self.create(PODS, pod)
        except ApiError as err:
            if api_code(err) == 409:
                return
            record(
                self.objects,
                sts,
                "FailedCreate",
                f"create Pod {pod_name} in StatefulSet {name_of(sts)} failed error: {err}",
                type="Warning",
                component=COMPONENT,
            )
            raise
        record(
            self.objects,
            sts,
            "SuccessfulCreate",
            f"create Pod {pod_name} in StatefulSet {name_of(sts)} successful",
            component=COMPONENT,
        )

    def _template_of(self, sts: Obj, rev: str) -> Obj:
        """The pod template of a revision (the set's own for its update revision)."""
        stored = self.cache.get(REVISIONS, namespace_of(sts), rev)
        if stored is not None:
            template = copy.deepcopy(((stored.get("data") or {}).get("spec") or {}).get("template") or {})
            template.pop("$patch", None)
            if template:
                return template
        return copy.deepcopy((sts.get("spec") or {}).get("template") or {})

    def _delete_pod(self, sts: Obj, pod: Obj) -> None:
        try:
            self.objects.delete(PODS, namespace_of(pod), name_of(pod))
        except ApiError as err:
            if api_code(err) != 404:
                raise
            return
        record(
            self.objects,
            sts,
            "SuccessfulDelete",
            f"delete Pod {name_of(pod)} in StatefulSet {name_of(sts)} successful",
            component=COMPONENT,
        )

    # -- status -------------------------------------------------------------------------------
    def _update_status(self, sts: Obj, pods: dict[int, Obj], current_rev: str, update_rev: str) -> float | None:
        spec = sts.get("spec") or {}
        want = int(spec.get("replicas", 1))
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.ctx.now()
        live = [p for p in pods.values() if not terminal(p)]
        counted = [p for p in live if not deleting(p)]
        n_ready = sum(1 for p in counted if ready(p))
        n_available = sum(1 for p in counted if available(p, min_ready, now))
        n_current = sum(1 for p in counted if self._rev(p) == current_rev)
        n_updated = sum(1 for p in counted if self._rev(p) == update_rev)
        if n_updated >= want and n_ready >= want and len(counted) == want:
            current_rev, n_current = update_rev, n_updated  # the roll-out is complete
        old = sts.get("status") or {}
        status: Obj = {
            "observedGeneration": sts.get("metadata", {}).get("generation", 1),
            "replicas": len(counted),
            "readyReplicas": n_ready,
            "currentReplicas": n_current,
            "updatedReplicas": n_updated,
            "availableReplicas": n_available,
            "currentRevision": current_rev,
            "updateRevision": update_rev,
            "collisionCount": int(old.get("collisionCount") or 0),
        }
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"):
            if not status[k]:
                del status[k]  # zero counts are omitted, as the API server's JSON omits them
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if status != old:
            changed = clone(sts)
            changed["status"] = status
            try:
                self.objects.update(STS, changed)
            except ApiError as err:
                if api_code(err) != 404:
                    raise
        if min_ready > 0 and n_ready > n_available:
            return 1.0
        return None
