"""The scheduler's VolumeBinding step: a pod whose claims are missing, being deleted or unbound (with
an ``Immediate`` class) is unschedulable, worded as kube-scheduler words it; a claim of a
``WaitForFirstConsumer`` class is given the chosen node (``volume.kubernetes.io/selected-node``) and
the pod is bound to that node only once the claim is bound, as the real PreBind waits."""

from __future__ import annotations

from typing import Any

from ..resources import by_plural
from .common import Obj, deleting, name_of, namespace_of

PVCS = by_plural("persistentvolumeclaims")
CLASSES = by_plural("storageclasses", "storage.k8s.io")
SELECTED_NODE = "volume.kubernetes.io/selected-node"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


def claim_names(pod: Obj) -> list[str]:
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if "persistentVolumeClaim" in v:
            out.append(str((v["persistentVolumeClaim"] or {}).get("claimName", "")))
        elif "ephemeral" in v:
            out.append(f"{name_of(pod)}-{v.get('name', '')}")
    return out


def prefilter_message(reason: str, nodes: int) -> str:
    """A PreFilter rejection as the FailedScheduling event and PodScheduled condition say it."""
    return (
        f"0/{nodes} nodes are available: {reason}. no new claims to deallocate, preemption: "
        f"0/{nodes} nodes are available: {nodes} {NOT_HELPFUL}."
    )


def check(cache: Any, pod: Obj) -> tuple[str | None, list[Obj], str | None]:
    """(why the pod cannot be scheduled now or None, its unbound WaitForFirstConsumer claims, the node a
    claim was given to or None)."""
    ns = namespace_of(pod)
    delayed: list[Obj] = []
    selected: str | None = None
    for name in claim_names(pod):
        claim = cache.get(PVCS, ns, name)
        if claim is None:
            return f'persistentvolumeclaim "{name}" not found', [], None
        if deleting(claim):
            return f'persistentvolumeclaim "{name}" is being deleted', [], None
        node = (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if node:
            selected = node
        if (claim.get("spec") or {}).get("volumeName"):
            continue
        klass = (claim.get("spec") or {}).get("storageClassName") or ""
        sc = cache.get(CLASSES, "", klass) if klass else None
        if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            delayed.append(claim)
            continue
        return UNBOUND_IMMEDIATE, [], None
    return None, delayed, selected
