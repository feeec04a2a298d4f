"""What several controllers read the same way: a pod's state (active, ready, available), owner
references, conditions, times, generated names, and a pod made from a template."""

from __future__ import annotations

import calendar
import copy
import random
import time
from typing import Any

from ..objects import rfc3339
from ..resources import Resource

Obj = dict[str, Any]

# The API server's alphabet for generated names (no vowels, no look-alike characters).
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_RANDOM = random.SystemRandom()


def random_suffix(length: int = 5) -> str:
    return "".join(_RANDOM.choice(ALPHANUMS) for _ in range(length))


def parse_time(stamp: str | None) -> float | None:
    """An RFC 3339 timestamp (as ``rfc3339`` writes it, fractions allowed) as seconds since the epoch."""
    if not stamp:
        return None
    try:
        base = stamp.rstrip("Z").split(".")[0]
        return float(calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def clone(obj: Obj) -> Obj:
    """A private copy of a cached object, to change and write back."""
    return copy.deepcopy(obj)


def name_of(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def namespace_of(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("namespace", ""))


def uid_of(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("uid", ""))


def deleting(obj: Obj) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def created(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("creationTimestamp", ""))


# -- owners ---------------------------------------------------------------------------------
def owner_ref(owner: Obj, res: Resource, *, controller: bool = True) -> Obj:
    """The ownerReference a controller puts on what it makes (``blockOwnerDeletion`` as the real ones set it)."""
    return {
        "apiVersion": res.api_version,
        "kind": res.kind,
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_ref(obj: Obj) -> Obj | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == uid_of(owner)


# -- conditions -----------------------------------------------------------------------------
def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def condition_true(obj: Obj, kind: str) -> bool:
    cond = condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


def put_condition(status: Obj, cond: Obj, *, keep_transition: bool = True) -> bool:
    """Set ``cond`` in ``status.conditions`` (replacing its type); False when one with the same status,
    reason and message is there already. The transition time stays when only the reason or message changed."""
    conds = status.setdefault("conditions", [])
    for i, old in enumerate(conds):
        if old.get("type") != cond["type"]:
            continue
        same = all(old.get(k) == cond.get(k) for k in ("status", "reason", "message"))
        if same:
            return False
        if keep_transition and old.get("status") == cond.get("status") and old.get("lastTransitionTime"):
            cond = {**cond, "lastTransitionTime": old["lastTransitionTime"]}
        conds[i] = cond
        return True
    conds.append(cond)
    return True


# -- pods -----------------------------------------------------------------------------------
def phase(pod: Obj) -> str:
    return str(pod.get("status", {}).get("phase") or "Pending")


def terminal(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def active(pod: Obj) -> bool:
    """Neither finished nor being deleted (``controller.IsPodActive``)."""
    return not terminal(pod) and not deleting(pod)


def terminating(pod: Obj) -> bool:
    return deleting(pod) and not terminal(pod)


def ready(pod: Obj) -> bool:
    return condition_true(pod, "Ready")


def ready_since(pod: Obj) -> float | None:
    cond = condition(pod, "Ready")
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime")) or 0.0


def available(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """Ready for at least ``minReadySeconds`` (``podutil.IsPodAvailable``)."""
    since = ready_since(pod)
    if since is None:
        return False
    return min_ready_seconds <= 0 or since + min_ready_seconds <= now


def restarts(pod: Obj) -> int:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def pod_from_template(
    template: Obj,
    owner: Obj,
    owner_res: Resource,
    prefix: str,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    finalizers: list[str] | None = None,
) -> Obj:
    """A new pod as a controller creates it: named ``prefix`` and five random characters (as ``generateName``
    makes them), the template's metadata and spec, the owner as its controller."""
    tmeta = template.get("metadata") or {}
    pod_meta: Obj = {
        "name": prefix + random_suffix(),
        "generateName": prefix,
        "namespace": namespace_of(owner),
        "labels": {**(tmeta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_ref(owner, owner_res)],
    }
    notes = {**(tmeta.get("annotations") or {}), **(annotations or {})}
    if notes:
        pod_meta["annotations"] = notes
    all_finalizers = list(tmeta.get("finalizers") or []) + list(finalizers or [])
    if all_finalizers:
        pod_meta["finalizers"] = all_finalizers
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": copy.deepcopy(template.get("spec") or {})}


def now_stamp() -> str:
    return rfc3339()
