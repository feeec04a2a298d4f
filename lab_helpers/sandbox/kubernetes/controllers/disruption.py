"""PodDisruptionBudget: how many of the pods it selects may be disrupted now, as the real disruption
controller works it out.

- ``minAvailable: N``: N pods must stay healthy; the pods expected are the pods selected.
- ``minAvailable: P%`` and ``maxUnavailable`` (N or P%): the pods expected are the scale of the pods'
  controllers (a Deployment's replicas for its ReplicaSets' pods, a ReplicaSet's, a StatefulSet's);
  percentages round up. A selected pod without such a controller makes the budget fail safe: no
  disruptions allowed, ``DisruptionAllowed=False`` ``SyncFailed``.
- Healthy: Ready, not being deleted, and not just evicted (``disruptedPods`` holds the pods the
  eviction API let go; an entry leaves when its pod is gone or being deleted, or after two minutes).
- ``disruptionsAllowed = currentHealthy - desiredHealthy`` (never below 0), with the condition
  ``DisruptionAllowed`` True ``SufficientPods`` or False ``InsufficientPods``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..events import record
from ..resources import by_plural
from . import selectors
from .common import (
    Obj,
    clone,
    condition,
    controller_ref,
    deleting,
    name_of,
    namespace_of,
    now_stamp,
    parse_time,
    ready,
)
from .loop import Change, Controller, Key

PDBS = by_plural("poddisruptionbudgets", "policy")
PODS = by_plural("pods")
RS = by_plural("replicasets", "apps")
DEPLOYMENTS = by_plural("deployments", "apps")
STATEFULSETS = by_plural("statefulsets", "apps")
DELETION_TIMEOUT_S = 120.0  # how long an evicted pod may take to start deleting before it counts again
NAME = "disruption-controller"


class SyncFailed(Exception):
    """The budget cannot be worked out (the message goes in its condition)."""


def allowed_condition(allowed: int, generation: int, message: str = "", reason: str = "") -> Obj:
    """The ``DisruptionAllowed`` condition for ``allowed`` disruptions (``reason`` overrides, for SyncFailed)."""
    return {
        "type": "DisruptionAllowed",
        "status": "True" if allowed > 0 and not reason else "False",
        "observedGeneration": generation,
        "lastTransitionTime": now_stamp(),
        "reason": reason or ("SufficientPods" if allowed > 0 else "InsufficientPods"),
        "message": message,
    }


def scaled(value: object, total: int) -> int:
    """An IntOrString against ``total`` (a percentage rounds up, as the controller rounds it)."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            return math.ceil(int(value[:-1]) * total / 100)
        except ValueError:
            raise SyncFailed(f"invalid value for IntOrString: invalid value {value!r}") from None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise SyncFailed(
            f"invalid value for IntOrString: invalid type: string is not a percentage: {value!r}"
        ) from None


class DisruptionController(Controller):
    name = NAME

    # -- what to look at --------------------------------------------------------------------
    def observe(self, change: Change) -> None:
        if change.res is PDBS:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
        elif change.res is PODS:
            ns = namespace_of(change.obj)
            labels = [((p or {}).get("metadata") or {}).get("labels") or {} for p in (change.old, change.obj)]
            for pdb in self.cache.list(PDBS, ns):
                sel = (pdb.get("spec") or {}).get("selector")
                if any(selectors.label_selector(sel, lab) for lab in labels):
                    self.queue.add((ns, name_of(pdb)))
        elif change.res in (RS, DEPLOYMENTS, STATEFULSETS):
            old_spec = ((change.old or {}).get("spec") or {}).get("replicas")
            if change.type != "MODIFIED" or old_spec != (change.obj.get("spec") or {}).get("replicas"):
                ns = namespace_of(change.obj)
                for pdb in self.cache.list(PDBS, ns):
                    self.queue.add((ns, name_of(pdb)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(p), name_of(p)) for p in self.cache.list(PDBS)]

    # -- one budget ------------------------------------------------------------------------
    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        pdb = self.cache.get(PDBS, ns, name)
        if pdb is None or deleting(pdb):
            return None
        spec = pdb.get("spec") or {}
        pods = [
            p
            for p in self.cache.list(PODS, ns)
            if selectors.label_selector(spec.get("selector"), (p.get("metadata") or {}).get("labels"))
        ]
        try:
            expected, desired = self._expected(pdb, pods)
        except SyncFailed as why:
            self._fail_safe(pdb, str(why))
            return None
        now = self.ctx.now()
        disrupted, recheck = self._disrupted(pdb, pods, now)
        healthy = sum(
            1
            for p in pods
            if not deleting(p)
            and not ((parse_time(disrupted.get(name_of(p))) or -1e18) + DELETION_TIMEOUT_S > now)
            and ready(p)
        )
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        if not pods and not (pdb.get("status") or {}).get("observedGeneration"):
            record(self.objects, pdb, "NoPods", "No matching pods found", component=NAME)
        generation = int(pdb["metadata"].get("generation") or 1)
        status: Obj = {
            "observedGeneration": generation,
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
        }
        if disrupted:
            status["disruptedPods"] = disrupted
        self._write(pdb, status, allowed_condition(allowed, generation))
        return None if recheck is None else max(0.05, recheck - now + 0.05)

    def _expected(self, pdb: Obj, pods: list[Obj]) -> tuple[int, int]:
        """(expectedPods, desiredHealthy)."""
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            expected = self._scale(pods)
            return expected, max(0, expected - scaled(spec["maxUnavailable"], expected))
        minimum = spec.get("minAvailable")
        if minimum is None:
            return len(pods), 0
        if isinstance(minimum, int):
            return len(pods), minimum
        expected = self._scale(pods)
        return expected, scaled(minimum, expected)

    def _scale(self, pods: list[Obj]) -> int:
        """The replicas the pods' controllers want, each controller once."""
        scales: dict[str, int] = {}
        for pod in pods:
            ref = controller_ref(pod)
            if ref is None:
                raise SyncFailed(f'found no controller ref for pod "{name_of(pod)}"')
            found = self._controller_scale(namespace_of(pod), ref)
            if found is None:
                raise SyncFailed(f'found no controllers for pod "{name_of(pod)}"')
            uid, replicas = found
            scales[uid] = replicas
        return sum(scales.values())

    def _controller_scale(self, ns: str, ref: Obj) -> tuple[str, int] | None:
        kind, name, uid = ref.get("kind"), str(ref.get("name") or ""), ref.get("uid")
        res = {"ReplicaSet": RS, "StatefulSet": STATEFULSETS}.get(str(kind))
        if res is None:
            return None
        owner = self.cache.get(res, ns, name)
        if owner is None or owner["metadata"].get("uid") != uid:
            return None
        if kind == "ReplicaSet":
            parent = controller_ref(owner)
            if parent is not None and parent.get("kind") == "Deployment":
                deployment = self.cache.get(DEPLOYMENTS, ns, str(parent.get("name") or ""))
                if deployment is not None and deployment["metadata"].get("uid") == parent.get("uid"):
                    return str(parent.get("uid")), int((deployment.get("spec") or {}).get("replicas", 1))
        return str(uid), int((owner.get("spec") or {}).get("replicas", 1))

    def _disrupted(self, pdb: Obj, pods: list[Obj], now: float) -> tuple[dict[str, str], float | None]:
        """The ``disruptedPods`` entries still pending, and when the next one runs out."""
        old = (pdb.get("status") or {}).get("disruptedPods") or {}
        kept: dict[str, str] = {}
        recheck: float | None = None
        by_name = {name_of(p): p for p in pods}
        for pod_name, stamp in old.items():
            pod = by_name.get(pod_name)
            if pod is None or deleting(pod):
                continue
            due = (parse_time(stamp) or now) + DELETION_TIMEOUT_S
            if due < now:
                record(
                    self.objects,
                    pod,
                    "NotDeleted",
                    f"Pod was expected by PDB {namespace_of(pdb)}/{name_of(pdb)} to be deleted but it wasn't",
                    type="Warning",
                    component=NAME,
                )
                continue
            kept[pod_name] = stamp
            recheck = due if recheck is None else min(recheck, due)
        return kept, recheck

    def _fail_safe(self, pdb: Obj, message: str) -> None:
        old = pdb.get("status") or {}
        status = {k: v for k, v in old.items() if k != "conditions"}
        status["disruptionsAllowed"] = 0
        generation = int(old.get("observedGeneration") or 0)
        self._write(pdb, status, allowed_condition(0, generation, message, "SyncFailed"))

    def _write(self, pdb: Obj, status: Obj, cond: Obj) -> None:
        old = pdb.get("status") or {}
        prev = condition(pdb, "DisruptionAllowed")
        if prev is not None and all(prev.get(k) == cond.get(k) for k in ("status", "reason", "message")):
            cond = {
                **cond,
                "lastTransitionTime": prev.get("lastTransitionTime"),
                "observedGeneration": prev.get("observedGeneration", cond["observedGeneration"]),
            }
            if prev.get("observedGeneration") != status.get("observedGeneration", prev.get("observedGeneration")):
                cond["observedGeneration"] = status.get("observedGeneration")
        elif prev is not None and prev.get("status") == cond.get("status"):
            cond = {**cond, "lastTransitionTime": prev.get("lastTransitionTime")}
        others = [c for c in old.get("conditions") or [] if c.get("type") != "DisruptionAllowed"]
        status["conditions"] = [*others, cond]
        if status == old:
            return
        changed = clone(pdb)
        changed["status"] = status
        self.objects.update(PDBS, changed)
