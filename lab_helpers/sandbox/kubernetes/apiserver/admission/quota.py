"""Admission plugins LimitRanger and ResourceQuota, as the API server runs them.

LimitRanger (``mutate`` then ``validate``): a new pod's containers get the namespace's LimitRange
defaults (``defaultRequest``, ``default``) where they declare nothing, noted in the annotation
``kubernetes.io/limit-ranger``; then every ``Container``, ``Pod`` and ``PersistentVolumeClaim`` item's
``min``/``max``/``maxLimitRequestRatio`` is enforced with the real 403 messages.

ResourceQuota (``validate``): a create (or an update that adds usage: a claim grown) that would take the
namespace past a quota's ``hard`` is refused
(``exceeded quota: ...``), and a pod that does not declare a cpu or memory amount a quota limits is
refused (``failed quota: ...: must specify ...``). Usage is counted from the stored objects inside the
write's store transaction, so two creates at once cannot both take the last unit; a dry run is checked
but changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ....errors import ApiError
from ... import status
from ...controllers.amounts import binary, canonical, milli, show
from ...controllers.quota_usage import in_scope, missing_declarations, namespace_usage, object_usage
from ...resources import Resource, by_plural
from .request import Request

Obj = dict[str, Any]
QUOTAS = by_plural("resourcequotas")
LIMITRANGES = by_plural("limitranges")
LIMIT_RANGER_NOTE = "kubernetes.io/limit-ranger"


class Refused(ApiError):
    """The plugin's 403, whose text is the Status message: what a controller's FailedCreate event quotes
    (``Error creating: pods "web-..." is forbidden: exceeded quota: ...``)."""

    def __init__(self, group_resource: str, name: str, why: str) -> None:
        super().__init__(status.forbidden_because(group_resource, name, why).response)
        subject = f'{group_resource} "{name}"' if name else group_resource
        self.message = f"{subject} is forbidden: {why}"

    def __str__(self) -> str:
        return self.message


def _namespace(req: Request) -> str:
    return str((req.obj.get("metadata") or {}).get("namespace") or "")


def _name(req: Request) -> str:
    return str((req.obj.get("metadata") or {}).get("name") or (req.obj.get("metadata") or {}).get("generateName") or "")


def _ranges(req: Request) -> list[Obj]:
    return req.objects.list(LIMITRANGES, _namespace(req))[0]


# -- LimitRanger ----------------------------------------------------------------------------
def mutate(req: Request) -> None:
    if req.old is not None or req.res.kind != "Pod" or req.sub:
        return
    items = [
        i for lr in _ranges(req) for i in (lr.get("spec") or {}).get("limits") or [] if i.get("type") == "Container"
    ]
    if not items:
        return
    want_requests: dict[str, Any] = {}
    want_limits: dict[str, Any] = {}
    for item in items:
        want_requests.update(item.get("defaultRequest") or {})
        want_limits.update(item.get("default") or {})
    notes: list[str] = []
    spec = req.obj.setdefault("spec", {})
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        resources = c.setdefault("resources", {})
        set_req = [k for k in want_requests if k not in (resources.get("requests") or {})]
        set_lim = [k for k in want_limits if k not in (resources.get("limits") or {})]
        for k in set_lim:
            resources.setdefault("limits", {})[k] = want_limits[k]
        for k in set_req:
            resources.setdefault("requests", {})[k] = want_requests[k]
        if set_req:
            notes.append(f"{', '.join(sorted(set_req))} request for container {c.get('name', '')}")
        if set_lim:
            notes.append(f"{', '.join(sorted(set_lim))} limit for container {c.get('name', '')}")
    if notes:
        annotations = req.obj.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[LIMIT_RANGER_NOTE] = "LimitRanger plugin set: " + "; ".join(notes)
        from .. import defaults

        if isinstance(req.obj.get("status"), dict):
            req.obj["status"]["qosClass"] = defaults.qos_class(spec)


def _value(v: Any) -> int:
    try:
        return milli(v)
    except ValueError:
        return 0


def _min(kind: str, name: str, enforced: Any, requests: Obj, limits: Obj) -> str:
    floor = _value(enforced)
    if name not in requests:
        return f"minimum {name} usage per {kind} is {show(enforced)}.  No request is specified"
    if _value(requests[name]) < floor:
        return f"minimum {name} usage per {kind} is {show(enforced)}, but request is {show(requests[name])}"
    if name in limits and _value(limits[name]) < floor:
        return f"minimum {name} usage per {kind} is {show(enforced)}, but limit is {show(limits[name])}"
    return ""


def _max(kind: str, name: str, enforced: Any, requests: Obj, limits: Obj) -> str:
    ceiling = _value(enforced)
    if name not in limits:
        return f"maximum {name} usage per {kind} is {show(enforced)}.  No limit is specified"
    if _value(limits[name]) > ceiling:
        return f"maximum {name} usage per {kind} is {show(enforced)}, but limit is {show(limits[name])}"
    if name in requests and _value(requests[name]) > ceiling:
        return f"maximum {name} usage per {kind} is {show(enforced)}, but request is {show(requests[name])}"
    return ""


def _ratio(kind: str, name: str, enforced: Any, requests: Obj, limits: Obj) -> str:
    request, limit = _value(requests.get(name, 0)), _value(limits.get(name, 0))
    if not request:
        return f"{name} max limit to request ratio per {kind} is {show(enforced)}, but no request is specified or request is 0"
    if not limit:
        return (
            f"{name} max limit to request ratio per {kind} is {show(enforced)}, but no limit is specified or limit is 0"
        )
    ratio = limit / request
    if ratio * 1000 > _value(enforced):
        return f"{name} max limit to request ratio per {kind} is {show(enforced)}, but provided ratio is {ratio:f}"
    return ""


def _check_item(kind: str, item: Obj, requests: Obj, limits: Obj, errors: list[str]) -> None:
    for name, v in sorted((item.get("min") or {}).items()):
        errors.append(_min(kind, name, v, requests, limits))
    for name, v in sorted((item.get("max") or {}).items()):
        errors.append(_max(kind, name, v, requests, limits))
    for name, v in sorted((item.get("maxLimitRequestRatio") or {}).items()):
        errors.append(_ratio(kind, name, v, requests, limits))


def _pod_totals(spec: Obj, field: str) -> Obj:
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        for name, v in (((c.get("resources") or {}).get(field)) or {}).items():
            total[name] = total.get(name, 0) + _value(v)
    return {k: canonical(v, False) for k, v in total.items()}


def _limit_ranger(req: Request) -> None:
    kind = req.res.kind
    if req.old is not None or kind not in ("Pod", "PersistentVolumeClaim") or req.sub:
        return
    errors: list[str] = []
    spec = req.obj.get("spec") or {}
    for lr in _ranges(req):
        for item in (lr.get("spec") or {}).get("limits") or []:
            if kind == "Pod" and item.get("type") == "Container":
                for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
                    resources = c.get("resources") or {}
                    _check_item(
                        "Container", item, resources.get("requests") or {}, resources.get("limits") or {}, errors
                    )
            elif kind == "Pod" and item.get("type") == "Pod":
                _check_item("Pod", item, _pod_totals(spec, "requests"), _pod_totals(spec, "limits"), errors)
            elif kind == "PersistentVolumeClaim" and item.get("type") == "PersistentVolumeClaim":
                requests = (spec.get("resources") or {}).get("requests") or {}
                for name, v in sorted((item.get("min") or {}).items()):
                    errors.append(_min(kind, name, v, requests, {}))
                for name, v in sorted((item.get("max") or {}).items()):
                    if name not in requests:
                        errors.append(f"maximum {name} usage per {kind} is {show(v)}.  No request is specified")
                    elif _value(requests[name]) > _value(v):
                        errors.append(
                            f"maximum {name} usage per {kind} is {show(v)}, but request is {show(requests[name])}"
                        )
    errors = [e for e in errors if e]
    if errors:
        why = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise Refused(req.res.group_resource, _name(req), why)


# -- ResourceQuota --------------------------------------------------------------------------
def _pretty(values: dict[str, int], formats: dict[str, bool]) -> str:
    return ",".join(f"{k}={canonical(v, formats.get(k, False))}" for k, v in sorted(values.items()))


def _scoped_lister(req: Request, ns: str, quota: Obj) -> Callable[[Resource], list[Obj]]:
    def listed(res: Resource) -> list[Obj]:
        return [o for o in req.objects.list(res, ns)[0] if in_scope(quota, res, o)]

    return listed


def _resource_quota(req: Request) -> None:
    if req.sub:
        return
    ns = _namespace(req)
    if not req.res.namespaced or not ns:
        return
    with req.objects.store.tx():
        quotas = sorted(req.objects.list(QUOTAS, ns)[0], key=lambda q: q["metadata"]["name"])
        if not quotas:
            return
        adds = object_usage(req.res, req.obj)
        if req.old is not None:  # an update is charged what it adds (a claim grown, a Service made a NodePort)
            before = object_usage(req.res, req.old)
            adds = {k: v - before.get(k, 0) for k, v in adds.items() if v > before.get(k, 0)}
            if not adds:
                return
        for quota in quotas:
            if not in_scope(quota, req.res, req.obj):
                continue
            hard = (quota.get("spec") or {}).get("hard") or {}
            limited = [k for k in hard if k in adds]
            if req.res.kind == "Pod" and req.old is None:
                missing = missing_declarations(req.obj, hard)
                if missing:
                    why = f"failed quota: {quota['metadata']['name']}: must specify {missing}"
                    raise Refused(req.res.group_resource, _name(req), why)
            if not limited:
                continue
            used = namespace_usage(_scoped_lister(req, ns, quota), limited)
            over = [k for k in limited if used[k] + adds[k] > _value(hard[k])]
            if over:
                formats = {k: binary(hard[k]) for k in over}
                why = (
                    f"exceeded quota: {quota['metadata']['name']}, "
                    f"requested: {_pretty({k: adds[k] for k in over}, formats)}, "
                    f"used: {_pretty({k: used[k] for k in over}, formats)}, "
                    f"limited: {_pretty({k: _value(hard[k]) for k in over}, formats)}"
                )
                raise Refused(req.res.group_resource, _name(req), why)


def validate(req: Request) -> None:
    _limit_ranger(req)
    _resource_quota(req)
