"""``POST pods/{name}/eviction`` (policy/v1 Eviction), as the API server's eviction REST storage does it:
a pod covered by a PodDisruptionBudget leaves only while the budget allows a disruption.

- A pod that is finished, Pending, or already being deleted is deleted without asking any budget.
- No budget selects the pod: it is deleted with the eviction's DeleteOptions (its grace period).
- More than one budget selects it: 500 (a Status without a reason), as the API server refuses to choose.
- One budget: while its controller has not seen its latest generation, or it allows no disruption,
  the answer is 429 TooManyRequests ``Cannot evict pod as it would violate the pod's disruption
  budget.`` with a ``DisruptionBudget`` cause (``kubectl drain`` waits 5 s and tries again).
  Otherwise ``disruptionsAllowed`` goes down by one, the pod is recorded in ``disruptedPods`` (the
  disruption controller forgets it once the pod is gone, or after two minutes), the pod gets the
  ``DisruptionTarget`` condition, and it is deleted.
- A pod that is not Ready is deleted without spending the budget when the budget is already met
  (``unhealthyPodEvictionPolicy: IfHealthyBudget``, the default) or always (``AlwaysAllow``).
- ``dryRun`` (in the query or the eviction's DeleteOptions) checks all of this and changes nothing.
"""

from __future__ import annotations

from typing import Any

from ...errors import ApiError, json_response
from .. import status
from ..controllers.common import condition_true, now_stamp, put_condition
from ..controllers.selectors import label_selector
from ..objects import Objects
from ..resources import Resource, by_plural
from . import bodies, writes

Obj = dict[str, Any]
PDBS = by_plural("poddisruptionbudgets", "policy")
TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget."
MAX_DISRUPTED_PODS = 2000
MANY_BUDGETS = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."


def _too_many(cause: str) -> Exception:
    return status.status_error(
        429, TOO_MANY, "TooManyRequests", {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    )


def options(body: Obj, query_dry_run: bool) -> bodies.DeleteOptions:
    """The eviction's DeleteOptions (grace period, preconditions, dryRun)."""
    raw = body.get("deleteOptions") or {}
    if not isinstance(raw, dict):
        raise status.bad_request("Eviction: deleteOptions must be an object")
    grace = raw.get("gracePeriodSeconds")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
        raise status.bad_request("DeleteOptions: gracePeriodSeconds must be an integer")
    runs = raw.get("dryRun") or []
    if not isinstance(runs, list) or not all(isinstance(r, str) for r in runs):
        raise status.bad_request("DeleteOptions: dryRun must be a list of strings")
    pre = raw.get("preconditions") or {}
    if not isinstance(pre, dict):
        raise status.bad_request("DeleteOptions: preconditions must be an object")
    return bodies.DeleteOptions(
        propagation=raw.get("propagationPolicy"),
        grace_seconds=max(1, grace) if isinstance(grace, int) and grace < 0 else grace,
        dry_run=query_dry_run or bodies.dry_run(runs),
        preconditions={k: str(v) for k, v in pre.items() if k in ("uid", "resourceVersion") and v},
    )


def _budgets_of(objects: Objects, pod: Obj) -> list[Obj]:
    labels = pod.get("metadata", {}).get("labels") or {}
    items, _ = objects.list(PDBS, pod["metadata"].get("namespace", ""))
    return [p for p in items if label_selector((p.get("spec") or {}).get("selector"), labels)]


def _ignores_budgets(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def _spend(objects: Objects, pdb: Obj, pod: Obj, dry_run: bool) -> bool:
    """Take one disruption from the budget (429 when there is none); False when the pod may go without one."""
    st = pdb.get("status") or {}
    name = pdb["metadata"]["name"]
    if int(st.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 1):
        raise _too_many(f"The disruption budget {name} is still being processed by the server.")
    desired, current = int(st.get("desiredHealthy") or 0), int(st.get("currentHealthy") or 0)
    if not condition_true(pod, "Ready"):
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") or "IfHealthyBudget"
        if policy == "AlwaysAllow" or (current >= desired and desired > 0):
            return False
    allowed = int(st.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise status.forbidden_because("poddisruptionbudgets.policy", name, "pdb disruptions allowed is negative")
    if len(st.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
        raise status.forbidden_because(
            "poddisruptionbudgets.policy",
            name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        )
    if allowed == 0:
        raise _too_many(f"The disruption budget {name} needs {desired} healthy pods and has {current} currently")
    if dry_run:
        return True
    changed = dict(pdb)
    new_status = dict(st)
    new_status["disruptionsAllowed"] = allowed - 1
    if allowed - 1 == 0:
        from ..controllers.disruption import allowed_condition

        conds = [dict(c) for c in new_status.get("conditions") or []]
        holder = {"conditions": conds}
        put_condition(holder, allowed_condition(0, int(st.get("observedGeneration") or 0)))
        new_status["conditions"] = holder["conditions"]
    new_status["disruptedPods"] = {**(st.get("disruptedPods") or {}), pod["metadata"]["name"]: now_stamp()}
    changed["status"] = new_status
    objects.update(PDBS, changed)  # resourceVersion checked: a concurrent eviction gets a 409 and retries
    return True


def evict(objects: Objects, pods: Resource, namespace: str, name: str, body: Obj, caller: writes.Caller) -> Obj:
    """Evict one pod; the Status to answer with (201 Success) or the API server's refusal raised."""
    opts = options(body, caller.dry_run)
    with objects.store.tx():
        pod = objects.need(pods, namespace, name)
        if not _ignores_budgets(pod):
            budgets = _budgets_of(objects, pod)
            if len(budgets) > 1:  # the API server's own Status for this: code 500, no reason
                refusal = status.status_body(500, MANY_BUDGETS)
                del refusal["reason"]
                raise ApiError(json_response(refusal, 500))
            if budgets:
                _spend(objects, budgets[0], pod, opts.dry_run)
        if not opts.dry_run and not pod["metadata"].get("deletionTimestamp"):
            marked = dict(pod)
            marked["status"] = dict(pod.get("status") or {})
            marked["status"]["conditions"] = [dict(c) for c in marked["status"].get("conditions") or []]
            put_condition(
                marked["status"],
                {
                    "type": "DisruptionTarget",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": now_stamp(),
                    "reason": "EvictionByEvictionAPI",
                    "message": "Eviction API: evicting",
                },
            )
            objects.update(pods, marked, check_rv=False)
        writes.delete(objects, pods, namespace, name, opts, caller)
    return status.status_body(201, "", "") | {"status": "Success"}
