"""The HorizontalPodAutoscaler controller (autoscaling/v2), as kube-controller-manager's in Kubernetes
1.35: every sync period it measures the target's pods, computes the replica count the real way and
writes it to the target's ``spec.replicas`` (the Deployment, StatefulSet or ReplicaSet behind
``scaleTargetRef``).

Metrics are ``Resource`` (and ``ContainerResource``) ``cpu`` and ``memory``, with ``Utilization``
(percent of the pods' requests) or ``AverageValue`` targets, measured on the pods' real processes
(``kubelet.usage``) instead of a metrics-server. The arithmetic is the replica calculator's:
``desired = ceil(ready pods * usage / target)`` unless the ratio is within the 10% tolerance; missing
pods count as 0% on a scale-up and 100% on a scale-down, unready pods as 0% on a scale-up. Then
``behavior``: the stabilization windows (scale-down 300 s unless the spec says otherwise; scale-up 0)
and the rate policies (up: 4 pods or 100% per 15 s; down: 100% per 15 s), ``minReplicas`` and
``maxReplicas``, with the conditions AbleToScale, ScalingActive and ScalingLimited and the events
SuccessfulRescale and FailedGetResourceMetric worded as the real ones.

The sync period is 15 s (``--horizontal-pod-autoscaler-sync-period``); the sandbox reads
``LAB_HPA_SYNC_S`` so tests can shorten it. Recent recommendations and scale events are kept in
memory, as the real controller keeps them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...errors import ApiError
from ..events import record
from ..resources import by_plural, resource_of_kind
from .amounts import canonical, milli
from .common import Obj, clone, condition, name_of, namespace_of, parse_time
from .loop import Change, Context, Controller, Key, api_code

HPAS = by_plural("horizontalpodautoscalers", "autoscaling")
PODS = by_plural("pods")
COMPONENT = "horizontal-pod-autoscaler"
TOLERANCE = 0.1
DEFAULT_SCALE_DOWN_WINDOW_S = 300
CPU_INITIALIZATION_S = 300
DELAY_OF_INITIAL_READINESS_S = 30
SCALE_UP_RULES: Obj = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
UP_STABILIZED = "recent recommendations were lower than current one, applying the lowest recent recommendation"
DOWN_STABILIZED = "recent recommendations were higher than current one, applying the highest recent recommendation"
SCALING_DISABLED = "scaling is disabled since the replica count of the target is zero"
UNABLE_TO_GET_SCALE = "the HPA controller was unable to get the target's current scale: "
UNABLE_TO_UPDATE = "the HPA controller was unable to update the target scale: "
RESCALED = "the HPA controller was able to update the target scale to "
UNABLE_TO_COMPUTE = "the HPA was unable to compute the replica count: "
VALID_METRIC = "the HPA was able to successfully calculate a replica count from "
SCALE_DOWN_RULES: Obj = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def sync_period_s() -> float:
    """``LAB_HPA_SYNC_S``; a value that is not a number keeps the default (a controller has no one to ask)."""
    from ....config import DEFAULT_HPA_SYNC_S, hpa_sync_seconds
    from ....errors import UsageError

    try:
        return hpa_sync_seconds()
    except UsageError:
        return DEFAULT_HPA_SYNC_S


class MetricError(Exception):
    """A metric that could not be computed (the message is the real controller's)."""


# -- the replica calculator (pure) ----------------------------------------------------------------
@dataclass(frozen=True)
class Proposal:
    replicas: int
    utilization: int | None  # percent of requests (Utilization targets)
    average_milli: int  # the average usage per pod, in milli-units


def _ratio_utilization(usage: dict[str, int], requests: dict[str, int], target: int) -> tuple[float, int, int]:
    total = sum(usage[p] for p in usage if p in requests)
    asked = sum(requests[p] for p in usage if p in requests)
    entries = sum(1 for p in usage if p in requests)
    if asked == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = total * 100 // asked
    return utilization / target, utilization, total // max(entries, 1)


def replicas_for_utilization(
    current: int,
    usage: dict[str, int],
    requests: dict[str, int],
    target: int,
    *,
    missing: Iterable[str] = (),
    unready: Iterable[str] = (),
    tolerance: float = TOLERANCE,
) -> Proposal:
    """``GetResourceReplicas``: ``usage`` of the ready pods with metrics, ``requests`` of every pod (milli-units)."""
    missing, unready = list(missing), list(unready)
    if not usage:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    ratio, utilization, average = _ratio_utilization(usage, requests, target)
    up_with_unready = bool(unready) and ratio > 1.0
    if not up_with_unready and not missing:
        if abs(ratio - 1.0) <= tolerance:
            return Proposal(current, utilization, average)
        return Proposal(math.ceil(ratio * len(usage)), utilization, average)
    filled = dict(usage)
    if missing:
        if ratio < 1.0:
            fallback = max(100, target)
            for pod in missing:
                filled[pod] = requests.get(pod, 0) * fallback // 100
        elif ratio > 1.0:
            for pod in missing:
                filled[pod] = 0
    if up_with_unready:
        for pod in unready:
            filled[pod] = 0
    new_ratio, _, _ = _ratio_utilization(filled, requests, target)
    if abs(new_ratio - 1.0) <= tolerance or (ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < ratio):
        return Proposal(current, utilization, average)
    desired = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1.0 and desired > current) or (new_ratio > 1.0 and desired < current):
        return Proposal(current, utilization, average)
    return Proposal(desired, utilization, average)


def replicas_for_average(
    current: int, usage: dict[str, int], target_milli: int, *, tolerance: float = TOLERANCE
) -> Proposal:
    """``GetRawResourceReplicas`` (an AverageValue target): the same rule on raw usage per pod."""
    if not usage:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    total = sum(usage.values())
    ratio = total / (target_milli * len(usage))
    average = total // len(usage)
    if abs(ratio - 1.0) <= tolerance:
        return Proposal(current, None, average)
    return Proposal(math.ceil(ratio * len(usage)), None, average)


def _changed_in(period_s: float, events: list[tuple[float, int]], now: float) -> int:
    return sum(n for t, n in events if t > now - period_s)


def scale_up_limit(
    current: int, rules: Obj, ups: list[tuple[float, int]], downs: list[tuple[float, int]], now: float
) -> int:
    if rules.get("selectPolicy") == "Disabled":
        return current
    pick = min if rules.get("selectPolicy") == "Min" else max
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = float(policy.get("periodSeconds") or 15)
        start = current - _changed_in(period, ups, now) + _changed_in(period, downs, now)
        value = int(policy.get("value") or 0)
        proposed = start + value if policy.get("type") == "Pods" else math.ceil(start * (1 + value / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result


def scale_down_limit(
    current: int, rules: Obj, ups: list[tuple[float, int]], downs: list[tuple[float, int]], now: float
) -> int:
    if rules.get("selectPolicy") == "Disabled":
        return current
    pick = max if rules.get("selectPolicy") == "Min" else min
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = float(policy.get("periodSeconds") or 15)
        start = current - _changed_in(period, ups, now) + _changed_in(period, downs, now)
        value = int(policy.get("value") or 0)
        proposed = start - value if policy.get("type") == "Pods" else int(start * (1 - value / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result


@dataclass
class Memory:
    """What the controller remembers of one HPA: recent recommendations and scale events."""

    recommendations: list[tuple[float, int]] = field(default_factory=list)
    ups: list[tuple[float, int]] = field(default_factory=list)
    downs: list[tuple[float, int]] = field(default_factory=list)


def stabilize(
    memory: Memory, current: int, desired: int, up_window: float, down_window: float, now: float
) -> tuple[int, str, str]:
    """``stabilizeRecommendationWithBehaviors``: the lowest recent recommendation bounds a scale-up, the
    highest a scale-down; records ``desired``."""
    up, down = desired, desired
    for t, rec in memory.recommendations:
        if t > now - up_window:
            up = min(up, rec)
        if t > now - down_window:
            down = max(down, rec)
    horizon = max(up_window, down_window)
    memory.recommendations = [(t, r) for t, r in memory.recommendations if t > now - horizon]
    memory.recommendations.append((now, desired))
    recommendation = max(current, up)
    recommendation = min(recommendation, down)
    if desired >= current:
        return (
            recommendation,
            "ScaleUpStabilized",
            UP_STABILIZED,
        )
    return (
        recommendation,
        "ScaleDownStabilized",
        DOWN_STABILIZED,
    )


def limit_rate(
    memory: Memory, current: int, desired: int, low: int, high: int, behavior: Obj, now: float
) -> tuple[int, str, str]:
    """``convertDesiredReplicasWithBehaviorRate``: the rate policies, then min/maxReplicas."""
    if desired > current:
        limit = max(scale_up_limit(current, behavior["scaleUp"], memory.ups, memory.downs, now), current)
        if high > limit:
            ceiling, reason, message = (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        else:
            ceiling, reason, message = (
                high,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        if desired > ceiling:
            return ceiling, reason, message
    elif desired < current:
        limit = min(scale_down_limit(current, behavior["scaleDown"], memory.ups, memory.downs, now), current)
        if low < limit:
            floor, reason, message = (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        else:
            floor, reason, message = (
                low,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        if desired < floor:
            return floor, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def behavior_of(spec: Obj) -> Obj:
    """The spec's behavior with the defaults filled in (a missing one is the default behavior)."""
    given = spec.get("behavior") or {}
    out = {
        "scaleUp": {**SCALE_UP_RULES, **(given.get("scaleUp") or {})},
        "scaleDown": {**SCALE_DOWN_RULES, **(given.get("scaleDown") or {})},
    }
    if out["scaleDown"].get("stabilizationWindowSeconds") is None:
        out["scaleDown"]["stabilizationWindowSeconds"] = DEFAULT_SCALE_DOWN_WINDOW_S
    return out


# -- the controller ---------------------------------------------------------------------------------
def _selector_matches(selector: Obj, labels: dict[str, Any]) -> bool:
    from ..wire.semantics import selector_matches

    return bool(selector) and selector_matches(selector, labels)


def _selector_text(selector: Obj) -> str:
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(expr.get("values") or [])
        if op in ("In", "NotIn"):
            parts.append(f"{key} {op.lower()} ({','.join(values)})")
        else:
            parts.append(key if op == "Exists" else f"!{key}")
    return ",".join(sorted(parts))


def metric_name(metric: Obj) -> str:
    source = metric.get("resource") or metric.get("containerResource") or {}
    target = source.get("target") or {}
    if target.get("type") == "Utilization":
        return f"{source.get('name')} resource utilization (percentage of request)"
    return f"{source.get('name')} resource"


class HorizontalPodAutoscalerController(Controller):
    name = COMPONENT

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock = time.time
        self._memory: dict[str, Memory] = {}
        self._lock = threading.Lock()

    def observe(self, change: Change) -> None:
        if change.res is HPAS and change.type != "DELETED":
            old_spec = (change.old or {}).get("spec")
            if change.old is None or old_spec != change.obj.get("spec"):
                self.queue.add((namespace_of(change.obj), name_of(change.obj)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(h), name_of(h)) for h in self.cache.list(HPAS)]

    def memory(self, hpa: Obj) -> Memory:
        with self._lock:
            return self._memory.setdefault(str(hpa["metadata"].get("uid", "")), Memory())

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        hpa = self.cache.get(HPAS, ns, name)
        if hpa is None or hpa["metadata"].get("deletionTimestamp"):
            return None
        _Pass(self, hpa).run()
        return sync_period_s()


class _Pass:
    """One sync of one HPA."""

    def __init__(self, ctl: HorizontalPodAutoscalerController, hpa: Obj) -> None:
        self.ctl = ctl
        self.hpa = hpa
        self.spec = hpa.get("spec") or {}
        self.status: Obj = clone(hpa.get("status") or {})
        self.now = ctl.clock()

    def event(self, reason: str, message: str, type: str = "Normal") -> None:
        record(self.ctl.objects, self.hpa, reason, message, type=type, component=COMPONENT)

    def set_condition(self, kind: str, status: str, reason: str, message: str) -> None:
        conds = self.status.setdefault("conditions", [])
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now))
        for i, old in enumerate(conds):
            if old.get("type") == kind:
                keep = old.get("lastTransitionTime") if old.get("status") == status else stamp
                conds[i] = {
                    "type": kind,
                    "status": status,
                    "lastTransitionTime": keep,
                    "reason": reason,
                    "message": message,
                }
                return
        conds.append(
            {"type": kind, "status": status, "lastTransitionTime": stamp, "reason": reason, "message": message}
        )

    def target(self) -> tuple[Any, Obj] | None:
        ref = self.spec.get("scaleTargetRef") or {}
        api_version, kind, name = (
            str(ref.get("apiVersion") or "apps/v1"),
            str(ref.get("kind") or ""),
            str(ref.get("name")),
        )
        res = resource_of_kind(api_version, kind)
        obj = None
        if res is not None and "scale" in res.subresources:
            obj = self.ctl.cache.get(res, namespace_of(self.hpa), name)
        if obj is None:
            group = api_version.split("/")[0] if "/" in api_version else ""
            plural = res.plural if res is not None else f"{kind.lower()}s"
            why = f'{plural}/scale{"." + group if group else ""} "{name}" not found'
            self.set_condition("AbleToScale", "False", "FailedGetScale", UNABLE_TO_GET_SCALE + why)
            self.event("FailedGetScale", why, "Warning")
            self.save()
            return None
        return res, obj

    def run(self) -> None:
        found = self.target()
        if found is None:
            return
        res, target = found
        current = int((target.get("spec") or {}).get("replicas", 1) or 0)
        low = int(self.spec.get("minReplicas") or 1)
        high = int(self.spec.get("maxReplicas") or 1)
        desired, rescale_reason = 0, ""
        metrics_status: list[Obj] | None = None
        if current == 0 and low != 0:
            self.set_condition("ScalingActive", "False", "ScalingDisabled", SCALING_DISABLED)
        elif current > high:
            desired, rescale_reason = high, "Current number of replicas above Spec.MaxReplicas"
        elif current < low:
            desired, rescale_reason = low, "Current number of replicas below Spec.MinReplicas"
        else:
            computed = self.compute(target, current)
            if computed is None:
                return
            proposal, name, metrics_status = computed
            desired = max(0, proposal)
            if desired > current:
                rescale_reason = f"{name} above target"
            if desired < current:
                rescale_reason = "All metrics below target"
            desired = self.normalize(current, desired, low, high)
        rescale = desired != current and not (current == 0 and low != 0)  # a target scaled to zero is left alone
        if rescale:
            changed = clone(target)
            changed["spec"]["replicas"] = desired
            try:
                self.ctl.objects.update(res, changed)
            except ApiError as err:
                if api_code(err) == 409:
                    raise
                self.event("FailedRescale", f"New size: {desired}; reason: {rescale_reason}; error: {err}", "Warning")
                self.set_condition(
                    "AbleToScale",
                    "False",
                    "FailedUpdateScale",
                    f"{UNABLE_TO_UPDATE}{err}",
                )
                self.save()
                return
            self.set_condition(
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"{RESCALED}{desired}",
            )
            self.event("SuccessfulRescale", f"New size: {desired}; reason: {rescale_reason}")
            memory = self.ctl.memory(self.hpa)
            (memory.ups if desired > current else memory.downs).append((self.now, abs(desired - current)))
            horizon = self.now - 600
            memory.ups = [e for e in memory.ups if e[0] > horizon]
            memory.downs = [e for e in memory.downs if e[0] > horizon]
            self.status["lastScaleTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now))
        self.status["currentReplicas"] = current
        self.status["desiredReplicas"] = desired
        if metrics_status is not None:
            self.status["currentMetrics"] = metrics_status
        self.save()

    def normalize(self, current: int, desired: int, low: int, high: int) -> int:
        behavior = behavior_of(self.spec)
        memory = self.ctl.memory(self.hpa)
        up_w = float(behavior["scaleUp"].get("stabilizationWindowSeconds") or 0)
        down_w = float(behavior["scaleDown"].get("stabilizationWindowSeconds") or 0)
        stabilized, reason, message = stabilize(memory, current, desired, up_w, down_w, self.now)
        if stabilized != desired:
            self.set_condition("AbleToScale", "True", reason, message)
        else:
            self.set_condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        final, reason, message = limit_rate(memory, current, stabilized, low, high, behavior, self.now)
        self.set_condition("ScalingLimited", "False" if final == stabilized else "True", reason, message)
        return final

    # -- metrics ----------------------------------------------------------------------------
    def compute(self, target: Obj, current: int) -> tuple[int, str, list[Obj]] | None:
        selector = (target.get("spec") or {}).get("selector") or {}
        pods = [
            p
            for p in self.ctl.cache.list(PODS, namespace_of(self.hpa))
            if _selector_matches(selector, (p.get("metadata") or {}).get("labels") or {})
        ]
        rivals = self.controlling(pods)
        if len(rivals) > 1:
            why = f"pods by selector {_selector_text(selector)} are controlled by multiple HPAs: [{' '.join(rivals)}]"
            self.event("AmbiguousSelector", why, "Warning")
            self.set_condition("ScalingActive", "False", "AmbiguousSelector", why)
            self.status["currentReplicas"] = current
            self.save()
            return None
        metrics = self.spec.get("metrics") or []
        best, best_name, statuses, errors = -1, "", [], []
        for metric in metrics:
            try:
                proposal, status = self.one_metric(metric, pods, current)
            except MetricError as err:
                source = metric.get("resource") or metric.get("containerResource") or {}
                what = source.get("name", "")
                utilization = (source.get("target") or {}).get("type") == "Utilization"
                wrapped = (
                    f"failed to get {what} utilization: {err}" if utilization else f"failed to get {what} usage: {err}"
                )
                self.event("FailedGetResourceMetric", wrapped, "Warning")
                errors.append((wrapped, what))
                statuses.append({"type": ""})
                continue
            statuses.append(status)
            if proposal > best:
                best, best_name = proposal, metric_name(metric)
        if errors and (len(errors) >= len(metrics) or best < current):
            first, what = errors[0]
            self.set_condition(
                "ScalingActive",
                "False",
                "FailedGetResourceMetric",
                f"{UNABLE_TO_COMPUTE}{first}",
            )
            message = (
                f"invalid metrics ({len(errors)} invalid out of {len(metrics)}), "
                f"first error is: failed to get {what} resource metric value: {first}"
            )
            self.event("FailedComputeMetricsReplicas", message, "Warning")
            self.status["currentReplicas"] = current
            self.status["desiredReplicas"] = int(self.status.get("desiredReplicas") or current)
            kept = [s for s in statuses if s.get("type")]
            if kept:
                self.status["currentMetrics"] = kept
            else:
                self.status.pop("currentMetrics", None)
            self.save()
            return None
        self.set_condition(
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"{VALID_METRIC}{best_name}",
        )
        return best, best_name, [s for s in statuses if s.get("type")]

    def controlling(self, pods: list[Obj]) -> list[str]:
        """``namespace/name`` of every HPA in the namespace whose target selects any of ``pods``."""
        names = []
        ns = namespace_of(self.hpa)
        for other in self.ctl.cache.list(HPAS, ns):
            ref = (other.get("spec") or {}).get("scaleTargetRef") or {}
            res = resource_of_kind(str(ref.get("apiVersion") or "apps/v1"), str(ref.get("kind") or ""))
            target = self.ctl.cache.get(res, ns, str(ref.get("name"))) if res is not None else None
            selector = ((target or {}).get("spec") or {}).get("selector") or {}
            if any(_selector_matches(selector, (p.get("metadata") or {}).get("labels") or {}) for p in pods):
                names.append(f"{ns}/{name_of(other)}")
        return sorted(names)

    def one_metric(self, metric: Obj, pods: list[Obj], current: int) -> tuple[int, Obj]:
        from ..kubelet.usage import pods_usage

        kind = metric.get("type")
        if kind not in ("Resource", "ContainerResource"):
            raise MetricError(f"the sandbox measures Resource and ContainerResource metrics only, not {kind}")
        source = metric.get(kind[0].lower() + kind[1:]) or {}
        resource = str(source.get("name") or "")
        only = source.get("container") if kind == "ContainerResource" else None
        target = source.get("target") or {}
        if not pods:
            raise MetricError("no pods returned by selector while calculating replica count")
        usage: dict[str, int] = {}
        requests: dict[str, int] = {}
        missing: list[str] = []
        unready: list[str] = []
        measured_at: dict[str, float] = {}
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        measured = pods_usage(self.ctl.ctx.state_dir, running)
        for pod in pods:
            pname = name_of(pod)
            phase = (pod.get("status") or {}).get("phase")
            if pod["metadata"].get("deletionTimestamp") or phase == "Failed":
                continue
            for c in (pod.get("spec") or {}).get("containers") or []:
                if only and c.get("name") != only:
                    continue
                asked = ((c.get("resources") or {}).get("requests") or {}).get(resource)
                if asked is None:
                    if target.get("type") == "Utilization":
                        raise MetricError(f"missing request for {resource} in container {c.get('name')} of Pod {pname}")
                    continue
                requests[pname] = requests.get(pname, 0) + milli(asked)
            if phase == "Pending":
                unready.append(pname)
                continue
            got = measured.get(str(pod["metadata"].get("uid", "")))
            if not got:
                missing.append(pname)
                continue
            amounts = [
                (u.cpu * 1000 if resource == "cpu" else u.memory * 1000)
                for n, u in got.items()
                if not only or n == only
            ]
            usage[pname] = math.ceil(sum(amounts))
            measured_at[pname] = max(u.at - u.window for u in got.values())
            if resource == "cpu" and self._unready(pod, measured_at[pname]):
                unready.append(pname)
                del usage[pname]
        if target.get("type") == "Utilization":
            percent = int(target.get("averageUtilization") or 80)
            proposal = replicas_for_utilization(current, usage, requests, percent, missing=missing, unready=unready)
            current_value: Obj = {
                "averageUtilization": proposal.utilization,
                "averageValue": canonical(proposal.average_milli),
            }
        else:
            want = milli(target.get("averageValue") or "0")
            if want <= 0:
                raise MetricError("the target's averageValue must be greater than 0")
            proposal = replicas_for_average(current, usage, want)
            current_value = {"averageValue": canonical(proposal.average_milli)}
        field_name = "resource" if kind == "Resource" else "containerResource"
        body: Obj = {"name": resource, "current": current_value}
        if only:
            body["container"] = only
        return proposal.replicas, {"type": kind, field_name: body}

    def _unready(self, pod: Obj, window_start: float) -> bool:
        cond = condition(pod, "Ready")
        started = parse_time((pod.get("status") or {}).get("startTime"))
        if cond is None or started is None:
            return True
        since = parse_time(cond.get("lastTransitionTime")) or 0.0
        if started + CPU_INITIALIZATION_S > self.now:
            return cond.get("status") != "True" or window_start < since
        return cond.get("status") == "False" and started + DELAY_OF_INITIAL_READINESS_S > since

    def save(self) -> None:
        self.status["observedGeneration"] = self.hpa["metadata"].get("generation", 1)
        order = {"AbleToScale": 0, "ScalingActive": 1, "ScalingLimited": 2}
        self.status.get("conditions", []).sort(key=lambda c: order.get(str(c.get("type")), 3))
        if self.status == (self.hpa.get("status") or {}):
            return
        changed = clone(self.hpa)
        changed["status"] = self.status
        self.hpa = self.ctl.objects.update(HPAS, changed)
