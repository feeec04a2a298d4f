"""What the API server rejects with 422 Invalid once defaults are filled in, worded as it words it:
fields that may not change on update (a Deployment's selector, a Job's template, a Service's
cluster IP, a pod's spec but its images), a node port on a ClusterIP Service. The schema and the
per-kind rules (names, labels, containers, selectors matching templates) run before, in
``schema.check``, through the bundled schemas."""

from __future__ import annotations

import json
from typing import Any

from .. import status
from ..resources import Resource

Obj = dict[str, Any]
Cause = dict[str, str]


def _go(value: Any) -> str:
    """A value as Go's %v/%q shows it in a message."""
    return (
        json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    )


def required(field: str, detail: str = "") -> Cause:
    return {
        "reason": "FieldValueRequired",
        "message": "Required value" + (f": {detail}" if detail else ""),
        "field": field,
    }


def invalid_value(field: str, value: Any, why: str) -> Cause:
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {_go(value)}: {why}", "field": field}


def _immutable(res: Resource, obj: Obj, old: Obj) -> list[Cause]:
    spec, old_spec = obj.get("spec") or {}, old.get("spec") or {}
    causes: list[Cause] = []

    def frozen(field: str, value: Any, was: Any) -> None:
        if value != was:
            causes.append(invalid_value(field, _shown(value), "field is immutable"))

    if res.kind in ("Deployment", "ReplicaSet"):
        frozen("spec.selector", spec.get("selector"), old_spec.get("selector"))
    elif res.kind == "Job":
        frozen("spec.selector", spec.get("selector"), old_spec.get("selector"))
        if spec.get("template") != old_spec.get("template") and not old_spec.get("suspend"):
            causes.append(invalid_value("spec.template", _shown(spec.get("template")), "field is immutable"))
        frozen("spec.completions", spec.get("completions"), old_spec.get("completions"))
    elif res.kind == "Service":
        was, now = old_spec.get("clusterIP"), spec.get("clusterIP")
        if was and now and was != now and old_spec.get("type") != "ExternalName":
            causes.append(invalid_value("spec.clusterIPs[0]", f'[]string{{"{now}"}}', "may not change once set"))
    elif res.kind in ("ConfigMap", "Secret") and old.get("immutable"):
        for field in ("data", "binaryData", "stringData"):
            if obj.get(field) != old.get(field):
                causes.append(
                    {
                        "reason": "FieldValueForbidden",
                        "message": "Forbidden: field is immutable when `immutable` is set",
                        "field": field,
                    }
                )
    elif res.kind == "Pod":
        causes += _pod_update(spec, old_spec)
    return causes


def _shown(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True) if not isinstance(value, str) else value


_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "schedulingGates")


def _pod_update(spec: Obj, old: Obj) -> list[Cause]:
    def strip(s: Obj) -> Obj:
        out = {k: v for k, v in s.items() if k not in _POD_MUTABLE and k != "nodeName"}
        for key in ("containers", "initContainers"):
            out[key] = [{k: v for k, v in c.items() if k != "image"} for c in s.get(key) or []]
        return out

    if strip(spec) == strip(old) and (not old.get("nodeName") or spec.get("nodeName") == old.get("nodeName")):
        return []
    return [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
            "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
            "previously negative)",
            "field": "spec",
        }
    ]


def _service(obj: Obj) -> list[Cause]:
    causes: list[Cause] = []
    spec = obj.get("spec") or {}
    if spec.get("type", "ClusterIP") == "ClusterIP":
        for i, port in enumerate(spec.get("ports") or []):
            if isinstance(port, dict) and port.get("nodePort"):
                causes.append(
                    {
                        "reason": "FieldValueForbidden",
                        "message": "Forbidden: may not be used when `type` is 'ClusterIP'",
                        "field": f"spec.ports[{i}].nodePort",
                    }
                )
    return causes


def causes_for(res: Resource, obj: Obj, old: Obj | None = None) -> list[Cause]:
    """The failures found once defaults are filled in: fields that may not change on update, and rules
    that depend on defaults (the schema and per-kind rules run earlier, in ``schema.check``)."""
    causes = _service(obj) if res.kind == "Service" else []
    if old is not None:
        causes += _immutable(res, obj, old)
    return causes


def check(res: Resource, obj: Obj, old: Obj | None = None) -> None:
    """Raise the API server's 422 when ``obj`` fails validation."""
    causes = causes_for(res, obj, old)
    if causes:
        raise status.invalid(res.kind, res.group, (obj.get("metadata") or {}).get("name", ""), causes)
