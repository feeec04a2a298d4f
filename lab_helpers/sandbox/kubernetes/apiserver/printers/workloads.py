"""``kubectl get`` columns: workloads kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {}


# -- DaemonSet and PodDisruptionBudget (the nodes' area) ---------------------------------------


def _daemonset(ds: Obj) -> list[Any]:
    from .cells import age, label_selector_text
    from .cells import containers_images as _containers_images
    from .cells import map_selector as _map_selector

    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    return [
        int(st.get("desiredNumberScheduled") or 0),
        int(st.get("currentNumberScheduled") or 0),
        int(st.get("numberReady") or 0),
        int(st.get("updatedNumberScheduled") or 0),
        int(st.get("numberAvailable") or 0),
        _map_selector(template_spec.get("nodeSelector")),
        age(ds),
        *_containers_images(template_spec),
        label_selector_text(spec.get("selector")),
    ]


def _pdb(pdb: Obj) -> list[Any]:
    from .cells import age

    spec, st = pdb.get("spec") or {}, pdb.get("status") or {}
    return [
        str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
        str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
        int(st.get("disruptionsAllowed") or 0),
        age(pdb),
    ]


PRINTERS["DaemonSet"] = (
    [
        ("Desired", "integer", 0, ""),
        ("Current", "integer", 0, ""),
        ("Ready", "integer", 0, ""),
        ("Up-to-date", "integer", 0, ""),
        ("Available", "integer", 0, ""),
        ("Node Selector", "string", 0, ""),
        ("Age", "string", 0, ""),
        ("Containers", "string", 1, ""),
        ("Images", "string", 1, ""),
        ("Selector", "string", 1, ""),
    ],
    _daemonset,
)
PRINTERS["PodDisruptionBudget"] = (
    [
        ("Min Available", "string", 0, ""),
        ("Max Unavailable", "string", 0, ""),
        ("Allowed Disruptions", "integer", 0, ""),
        ("Age", "string", 0, ""),
    ],
    _pdb,
)


# -- CronJob, HorizontalPodAutoscaler, ResourceQuota, LimitRange (schedules, autoscaling, quotas) ------


def _cronjob(cj: Obj) -> list[Any]:
    from .cells import NONE, age, label_selector_text, since
    from .cells import containers_images as _containers_images

    spec, st = cj.get("spec") or {}, cj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    last = st.get("lastScheduleTime")
    return [
        spec.get("schedule", ""),
        spec.get("timeZone") or NONE,
        "True" if spec.get("suspend") else "False",
        len(st.get("active") or []),
        since(last) if last else NONE,
        age(cj),
        *_containers_images((job_spec.get("template") or {}).get("spec") or {}),
        label_selector_text(job_spec.get("selector")),
    ]


def _metric_target(metric: Obj, current: Obj | None) -> str:
    """One metric as the TARGETS column shows it: ``cpu: 12%/50%``, ``memory: <unknown>/200Mi``."""
    from ...controllers.amounts import show

    kind = metric.get("type")
    source = metric.get("resource") or metric.get("containerResource") or {}
    if kind not in ("Resource", "ContainerResource"):
        return "<unknown>/<unknown>"
    target = source.get("target") or {}
    now = ((current or {}).get("resource") or (current or {}).get("containerResource") or {}).get("current") or {}
    name = source.get("name", "")
    if target.get("type") == "AverageValue":
        got = show(now["averageValue"]) if now.get("averageValue") is not None else "<unknown>"
        return f"{name}: {got}/{show(target.get('averageValue', ''))}"
    got = f"{now['averageUtilization']}%" if now.get("averageUtilization") is not None else "<unknown>"
    return f"{name}: {got}/{target.get('averageUtilization')}%"


def _hpa(hpa: Obj) -> list[Any]:
    from .cells import age

    spec, st = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    metrics = spec.get("metrics") or []
    currents = st.get("currentMetrics") or []
    shown = [_metric_target(m, currents[i] if i < len(currents) else None) for i, m in enumerate(metrics)]
    targets = ", ".join(shown[:2]) + (f" + {len(shown) - 2} more..." if len(shown) > 2 else "") or "<none>"
    low = spec.get("minReplicas")
    return [
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        targets,
        str(low) if low is not None else "<unset>",
        int(spec.get("maxReplicas") or 0),
        int(st.get("currentReplicas") or 0),
        age(hpa),
    ]


def _quota(quota: Obj) -> list[Any]:
    from ...controllers.amounts import show
    from .cells import age

    st = quota.get("status") or {}
    hard, used = st.get("hard") or {}, st.get("used") or {}
    request: list[str] = []
    limit: list[str] = []
    for name in sorted(hard):
        column = limit if name.split(".")[0] == "limits" and "." in name else request
        column.append(f"{name}: {show(used.get(name, '0'))}/{show(hard[name])}")
    return [age(quota), ", ".join(request), ", ".join(limit)]


def _limitrange(lr: Obj) -> list[Any]:
    return [str(lr.get("metadata", {}).get("creationTimestamp", ""))]


PRINTERS["CronJob"] = (
    [
        ("Schedule", "string", 0, ""),
        ("Timezone", "string", 0, ""),
        ("Suspend", "boolean", 0, ""),
        ("Active", "integer", 0, ""),
        ("Last Schedule", "string", 0, ""),
        ("Age", "string", 0, ""),
        ("Containers", "string", 1, ""),
        ("Images", "string", 1, ""),
        ("Selector", "string", 1, ""),
    ],
    _cronjob,
)
PRINTERS["HorizontalPodAutoscaler"] = (
    [
        ("Reference", "string", 0, ""),
        ("Targets", "string", 0, ""),
        ("MinPods", "string", 0, ""),
        ("MaxPods", "integer", 0, ""),
        ("Replicas", "integer", 0, ""),
        ("Age", "string", 0, ""),
    ],
    _hpa,
)
PRINTERS["ResourceQuota"] = (
    [("Age", "string", 0, ""), ("Request", "string", 0, ""), ("Limit", "string", 0, "")],
    _quota,
)
PRINTERS["LimitRange"] = ([("Created At", "date", 0, "")], _limitrange)


def _controller_revision(rev: Obj) -> list[Any]:
    from .cells import NONE, age

    owner = next((r for r in rev.get("metadata", {}).get("ownerReferences") or [] if r.get("controller")), None)
    controller = NONE
    if owner is not None:
        group = str(owner.get("apiVersion", "")).rpartition("/")[0]
        kind = str(owner.get("kind", "")).lower()
        controller = f"{kind}.{group}/{owner.get('name', '')}" if group else f"{kind}/{owner.get('name', '')}"
    return [controller, int(rev.get("revision") or 0), age(rev)]


PRINTERS["ControllerRevision"] = (
    [("Controller", "string", 0, ""), ("Revision", "integer", 0, ""), ("Age", "string", 0, "")],
    _controller_revision,
)
