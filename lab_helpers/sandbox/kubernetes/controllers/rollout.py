"""The arithmetic of a Deployment's rollout, as the real controller's ``deploymentutil`` does it: the
pod-template hash, template equality ignoring it, maxSurge/maxUnavailable (ints or percentages,
rounded the real way), revisions and their annotations, and the proportions a scaled Deployment
spreads over its ReplicaSets."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from ..apiserver import defaults
from .common import created, deleting, name_of, now_stamp, parse_time

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
# Annotations a Deployment does not pass on to its ReplicaSets (kubectl skips the same ones on undo).
NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def replicas(obj: Obj | None) -> int:
    """``spec.replicas`` (1 when unset, as the API server defaults it; 0 for no object)."""
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas", 1)
    return int(value if value is not None else 1)


def status_of(obj: Obj | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def notes_of(obj: Obj) -> dict[str, str]:
    return obj.get("metadata", {}).get("annotations") or {}


# -- the template hash ------------------------------------------------------------------------
def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: Obj, collision_count: int | None = None) -> str:
    """The ``pod-template-hash`` label: FNV-32a of the template (and the collision count), written in the
    API server's safe alphabet as the real controller writes it (``5d9c7b6f8``)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += int(collision_count).to_bytes(4, "little")
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in str(_fnv32a(data)).encode())


def _plain(value: Any) -> Any:
    """A value with empty maps, empty lists and nulls dropped (``apiequality.Semantic`` treats them alike)."""
    if isinstance(value, dict):
        out = {k: _plain(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def without_hash(template: Obj) -> Obj:
    out = copy.deepcopy(template or {})
    labels = (out.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return out


def _defaulted(template: Obj) -> Obj:
    out = without_hash(template)
    defaults.pod_spec(out.setdefault("spec", {}))
    return out


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    """Whether two pod templates are the same but for the hash label (and for defaults one of them lacks)."""
    return bool(_plain(_defaulted(a)) == _plain(_defaulted(b)))


# -- maxSurge and maxUnavailable ----------------------------------------------------------------
def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent against ``total`` (``intstr.GetScaledValueFromIntOrPercent``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            fraction = float(text[:-1]) * total / 100
            return int(math.ceil(fraction) if round_up else math.floor(fraction))
        return int(text)
    return int(value or 0)


def rolling(d: Obj) -> bool:
    return ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def fenceposts(d: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved; both 0 would stall a rollout, so unavailable becomes 1."""
    params = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas(d)
    surge = scaled_value(params.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(params.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    return fenceposts(d)[0] if rolling(d) else 0


def max_unavailable(d: Obj) -> int:
    if not rolling(d) or replicas(d) == 0:
        return 0
    return min(fenceposts(d)[1], replicas(d))


# -- revisions ---------------------------------------------------------------------------------
def revision(rs: Obj) -> int:
    try:
        return int(notes_of(rs).get(REVISION, "0"))
    except ValueError:
        return 0


def by_age(items: list[Obj]) -> list[Obj]:
    return sorted(items, key=lambda o: (parse_time(created(o)) or 0.0, name_of(o)))


def find_new(d: Obj, rs_list: list[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template is the Deployment's (ignoring the hash label)."""
    template = (d.get("spec") or {}).get("template") or {}
    for rs in by_age(rs_list):
        if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template):
            return rs
    return None


def copy_annotations(d: Obj, rs: Obj) -> bool:
    """The Deployment's annotations onto its ReplicaSet (those kubectl's undo copies back); True when any changed."""
    target = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in notes_of(d).items():
        if key in NOT_COPIED or target.get(key) == value:
            continue
        target[key] = value
        changed = True
    return changed


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    notes = rs["metadata"].setdefault("annotations", {})
    changed = notes.get(DESIRED) != str(desired) or notes.get(MAX_REPLICAS) != str(maximum)
    notes[DESIRED], notes[MAX_REPLICAS] = str(desired), str(maximum)
    return changed


def replicas_annotations_stale(rs: Obj, desired: int, maximum: int) -> bool:
    notes = notes_of(rs)
    return notes.get(DESIRED) != str(desired) or notes.get(MAX_REPLICAS) != str(maximum)


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> bool:
    """Revision, revision history (a rollback keeps the revisions it had) and, for a new one, the replica counts."""
    changed = copy_annotations(d, rs)
    notes = rs["metadata"].setdefault("annotations", {})
    old_text = notes.get(REVISION, "")
    old = int(old_text) if old_text.isdigit() else 0
    if old < new_revision:
        notes[REVISION] = str(new_revision)
        changed = True
        if old_text:
            history = [h for h in notes.get(REVISION_HISTORY, "").split(",") if h]
            notes[REVISION_HISTORY] = ",".join([*history, old_text])
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


# -- proportional scaling ---------------------------------------------------------------------------
def active(rs_list: list[Obj]) -> list[Obj]:
    return [rs for rs in rs_list if replicas(rs) > 0]


def total(rs_list: list[Obj], field: str = "") -> int:
    """Sum of ``spec.replicas`` (no field) or of a status field."""
    return sum(status_of(rs, field) if field else replicas(rs) for rs in rs_list)


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """How many of ``to_add`` this ReplicaSet takes when a Deployment is scaled mid-rollout."""
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    if replicas(d) == 0:
        fraction = -replicas(rs)
    else:
        allowed_total = replicas(d) + max_surge(d)
        try:
            annotated = int(notes_of(rs).get(MAX_REPLICAS, ""))
        except ValueError:
            annotated = status_of(d, "replicas")
        size = replicas(rs) * allowed_total / annotated if annotated else float(replicas(rs))
        fraction = int(math.floor(size + 0.5)) - replicas(rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def new_rs_replicas(d: Obj, all_rs: list[Obj], new_rs: Obj) -> int:
    """How far the new ReplicaSet may grow now (within maxSurge), or all the way for Recreate."""
    if not rolling(d):
        return replicas(d)
    current = total(all_rs)
    most = replicas(d) + max_surge(d)
    if current >= most:
        return replicas(new_rs)
    return replicas(new_rs) + min(most - current, replicas(d) - replicas(new_rs))


def saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    try:
        desired = int(notes_of(rs).get(DESIRED, ""))
    except ValueError:
        return False
    return desired == replicas(d) == replicas(rs) and status_of(rs, "availableReplicas") == replicas(d)


def alive(rs_list: list[Obj]) -> list[Obj]:
    return [rs for rs in rs_list if not deleting(rs)]


# -- conditions ----------------------------------------------------------------------------------
def deployment_condition(kind: str, status: str, reason: str, message: str) -> Obj:
    now = now_stamp()
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def set_deployment_condition(status: Obj, cond: Obj) -> None:
    """``SetDeploymentCondition``: nothing when status and reason are the same; the transition time kept when
    only the reason changed; the condition moved to the end."""
    conds = status.get("conditions") or []
    current = next((c for c in conds if c.get("type") == cond["type"]), None)
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    status["conditions"] = [c for c in conds if c.get("type") != cond["type"]] + [cond]


def condition_of(status: Obj, kind: str) -> Obj | None:
    return next((dict(c) for c in status.get("conditions") or [] if c.get("type") == kind), None)


def remove_condition(status: Obj, kind: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != kind]


def complete(d: Obj, status: Obj) -> bool:
    """``DeploymentComplete``: every replica updated and available, and the latest spec observed."""
    want = replicas(d)
    return (
        int(status.get("updatedReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
        and int(status.get("observedGeneration") or 0) >= int(d.get("metadata", {}).get("generation") or 0)
    )


def progressing(d: Obj, status: Obj) -> bool:
    old = d.get("status") or {}

    def n(s: Obj, key: str) -> int:
        return int(s.get(key) or 0)

    old_olds = n(old, "replicas") - n(old, "updatedReplicas")
    new_olds = n(status, "replicas") - n(status, "updatedReplicas")
    return (
        n(status, "updatedReplicas") > n(old, "updatedReplicas")
        or new_olds < old_olds
        or n(status, "readyReplicas") > n(old, "readyReplicas")
        or n(status, "availableReplicas") > n(old, "availableReplicas")
    )


def progress_deadline(d: Obj) -> int | None:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
    return None if value is None or int(value) >= 2**31 - 1 else int(value)


def timed_out(d: Obj, status: Obj, now: float) -> bool:
    deadline = progress_deadline(d)
    cond = condition_of(status, "Progressing")
    if deadline is None or cond is None:
        return False
    if cond.get("reason") == "ProgressDeadlineExceeded":
        return True
    if cond.get("reason") == "NewReplicaSetAvailable":
        return False
    since = parse_time(cond.get("lastUpdateTime"))
    return since is not None and since + deadline < now
