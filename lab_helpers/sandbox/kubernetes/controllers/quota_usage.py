"""What a ResourceQuota counts, as kube's quota evaluators count it: the names a quota may limit and
what one object of the namespace adds to each (a pod: ``pods``, ``requests.cpu``, ``limits.memory``,
``requests.nvidia.com/gpu``...; a claim: ``requests.storage``, ``persistentvolumeclaims``; any kind:
``count/<resource>.<group>``). Amounts are exact milli-units (``amounts.milli``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..resources import RESOURCES, Resource
from .amounts import milli

Obj = dict[str, Any]

# The names before count/<resource> existed, still accepted for these kinds.
LEGACY_COUNTS = {
    "pods": "pods",
    "services": "services",
    "configmaps": "configmaps",
    "secrets": "secrets",
    "persistentvolumeclaims": "persistentvolumeclaims",
    "replicationcontrollers": "replicationcontrollers",
    "resourcequotas": "resourcequotas",
}
# Resources whose usage a pod's containers must declare when a quota limits them.
MUST_DECLARE = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory")


def count_name(res: Resource) -> str:
    return f"count/{res.plural}.{res.group}" if res.group else f"count/{res.plural}"


def counted_kinds(names: Iterable[str]) -> set[str]:
    """The store kinds (``Resource.key``) whose objects change the usage of ``names``."""
    wanted = set(names)
    keys: set[str] = set()
    for res in RESOURCES:
        legacy = LEGACY_COUNTS.get(res.plural) if not res.group else None
        if count_name(res) in wanted or (legacy and legacy in wanted):
            keys.add(res.key)
    if any(n.startswith(("requests.", "limits.")) or n in ("cpu", "memory") for n in wanted):
        keys.update(r.key for r in RESOURCES if r.kind in ("Pod", "PersistentVolumeClaim"))
    if any(n.startswith("services.") for n in wanted):
        keys.update(r.key for r in RESOURCES if r.kind == "Service")
    return keys


def pod_counts(pod: Obj) -> bool:
    """A pod uses quota until it has ended (Succeeded/Failed)."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _sum_containers(spec: Obj, field: str) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        for name, value in (((c.get("resources") or {}).get(field)) or {}).items():
            try:
                total[name] = total.get(name, 0) + milli(value)
            except ValueError:
                continue
    for c in spec.get("initContainers") or []:  # an init container runs alone: the larger counts
        for name, value in (((c.get("resources") or {}).get(field)) or {}).items():
            try:
                total[name] = max(total.get(name, 0), milli(value))
            except ValueError:
                continue
    for name, value in (spec.get("overhead") or {}).items():
        try:
            total[name] = total.get(name, 0) + milli(value)
        except ValueError:
            continue
    return total


def object_usage(res: Resource, obj: Obj) -> dict[str, int]:
    """Every quota name ``obj`` adds to, with its amount (milli-units; a count is 1000)."""
    out: dict[str, int] = {count_name(res): 1000}
    legacy = LEGACY_COUNTS.get(res.plural) if not res.group else None
    if legacy:
        out[legacy] = 1000
    spec = obj.get("spec") or {}
    if res.kind == "Pod":
        if not pod_counts(obj):
            return {}
        for name, amount in _sum_containers(spec, "requests").items():
            out[f"requests.{name}"] = amount
            if name in ("cpu", "memory", "ephemeral-storage"):
                out[name] = amount
        for name, amount in _sum_containers(spec, "limits").items():
            out[f"limits.{name}"] = amount
    elif res.kind == "PersistentVolumeClaim":
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage is not None:
            try:
                out["requests.storage"] = milli(storage)
            except ValueError:
                pass
        if spec.get("storageClassName"):
            klass = spec["storageClassName"]
            out[f"{klass}.storageclass.storage.k8s.io/persistentvolumeclaims"] = 1000
            if "requests.storage" in out:
                out[f"{klass}.storageclass.storage.k8s.io/requests.storage"] = out["requests.storage"]
    elif res.kind == "Service":
        kind = spec.get("type") or "ClusterIP"
        if kind in ("NodePort", "LoadBalancer"):
            out["services.nodeports"] = 1000 * len(spec.get("ports") or [])
        if kind == "LoadBalancer":
            out["services.loadbalancers"] = 1000
    return out


def namespace_usage(list_kind: Callable[[Resource], list[Obj]], names: Iterable[str]) -> dict[str, int]:
    """The namespace's usage of each of ``names``; ``list_kind`` lists one kind's objects in it."""
    wanted = set(names)
    used = dict.fromkeys(wanted, 0)
    keys = counted_kinds(wanted)
    for res in RESOURCES:
        if res.key not in keys or not res.namespaced:
            continue
        for obj in list_kind(res):
            if (obj.get("metadata") or {}).get("deletionTimestamp") and res.kind != "Pod":
                continue
            for name, amount in object_usage(res, obj).items():
                if name in used:
                    used[name] += amount
    return used


def missing_declarations(pod: Obj, limited: Iterable[str]) -> str:
    """``limits.cpu for: web; requests.memory for: web,side`` for what the quota limits and a container
    does not declare ("" when every container declares it)."""
    required = sorted(set(limited) & set(MUST_DECLARE))
    spec = pod.get("spec") or {}
    missing: dict[str, set[str]] = {}
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        resources = c.get("resources") or {}
        for name in required:
            field, _, resource = name.rpartition(".")
            declared = resources.get(field or "requests") or {}
            if resource not in declared:
                missing.setdefault(name, set()).add(str(c.get("name", "")))
    return "; ".join(f"{name} for: {','.join(sorted(who))}" for name, who in sorted(missing.items()))


def _scope_matches(scope: str, operator: str, values: list[str], pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    if scope == "Terminating":
        return spec.get("activeDeadlineSeconds") is not None
    if scope == "NotTerminating":
        return spec.get("activeDeadlineSeconds") is None
    if scope in ("BestEffort", "NotBestEffort"):
        best_effort = not any(
            (c.get("resources") or {}).get(field)
            for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
            for field in ("requests", "limits")
        )
        return best_effort if scope == "BestEffort" else not best_effort
    if scope == "PriorityClass":
        name = spec.get("priorityClassName")
        if operator == "Exists":
            return bool(name)
        if operator == "DoesNotExist":
            return not name
        if operator == "NotIn":
            return name not in values
        return name in values
    return False


def in_scope(quota: Obj, res: Resource, obj: Obj) -> bool:
    """Whether ``quota`` counts ``obj``: a quota with ``scopes`` or a ``scopeSelector`` counts only the pods
    that match every scope (Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass)."""
    spec = quota.get("spec") or {}
    scopes: list[tuple[str, str, list[str]]] = [(str(s), "Exists", []) for s in spec.get("scopes") or []]
    for expr in (spec.get("scopeSelector") or {}).get("matchExpressions") or []:
        scopes.append((str(expr.get("scopeName")), str(expr.get("operator") or "In"), list(expr.get("values") or [])))
    if not scopes:
        return True
    if res.kind != "Pod":
        return False
    return all(_scope_matches(scope, op, values, obj) for scope, op, values in scopes)
