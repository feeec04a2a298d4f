"""What the API server's validation rejects with 422 Invalid, worded as it words it: names that are
not DNS names, label syntax, a pod without containers or images, a Deployment whose selector does
not match its template, a Job that would restart forever, a Service without ports, immutable
fields changed on update. (Unknown fields and wrong types are the schemas' 400s: ``schema.py``.)"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import status
from ..resources import Resource

Obj = dict[str, Any]
Cause = dict[str, str]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

SUBDOMAIN_WHY = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_WHY = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_WHY = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_WHY = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
QUALIFIED_WHY = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
CONFIG_KEY_WHY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


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


def unsupported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    listed = ", ".join(f'"{s}"' for s in supported)
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {_go(value)}: supported values: {listed}",
        "field": field,
    }


def _name_rule(res: Resource) -> tuple[re.Pattern[str], str]:
    if res.kind == "Service":
        return _DNS1035, DNS1035_WHY
    if res.kind == "Namespace":
        return _LABEL, LABEL_WHY
    return _SUBDOMAIN, SUBDOMAIN_WHY


def _metadata(res: Resource, obj: Obj, creating: bool) -> list[Cause]:
    meta = obj.get("metadata") or {}
    causes: list[Cause] = []
    name = meta.get("name", "")
    pattern, why = _name_rule(res)
    if name and (len(name) > (63 if pattern is not _SUBDOMAIN else 253) or not pattern.match(name)):
        causes.append(invalid_value("metadata.name", name, why))
    if creating and not name and meta.get("generateName"):
        pass
    for key, value in (meta.get("labels") or {}).items():
        causes += _label_key("metadata.labels", key)
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(invalid_value("metadata.labels", value, LABEL_VALUE_WHY))
    for key in meta.get("annotations") or {}:
        causes += _label_key("metadata.annotations", key)
    return causes


def _label_key(field: str, key: str) -> list[Cause]:
    prefix, _, name = key.rpartition("/")
    if not name or len(name) > 63 or not _QUALIFIED.match(name):
        return [invalid_value(field, key, QUALIFIED_WHY)]
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        return [invalid_value(field, key, "prefix part " + SUBDOMAIN_WHY)]
    return []


def _containers(spec: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        causes.append(required(f"{path}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            where = f"{path}.{key}[{i}]"
            name = c.get("name", "")
            if not name:
                causes.append(required(f"{where}.name"))
            elif not _LABEL.match(name) or len(name) > 63:
                causes.append(invalid_value(f"{where}.name", name, LABEL_WHY))
            elif name in seen:
                causes.append(
                    {"reason": "FieldValueDuplicate", "message": f'Duplicate value: "{name}"', "field": f"{where}.name"}
                )
            seen.add(name)
            if not c.get("image"):
                causes.append(required(f"{where}.image"))
            for j, port in enumerate(c.get("ports") or []):
                number = port.get("containerPort")
                if not isinstance(number, int) or not 0 < number < 65536:
                    causes.append(
                        invalid_value(
                            f"{where}.ports[{j}].containerPort", number, "must be between 1 and 65535, inclusive"
                        )
                    )
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in ("Always", "OnFailure", "Never"):
        causes.append(unsupported(f"{path}.restartPolicy", policy, ("Always", "OnFailure", "Never")))
    return causes


def _selector_matches(selector: Obj, labels: Obj) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _workload(res: Resource, obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        causes.append(invalid_value("spec.replicas", replicas, "must be greater than or equal to 0"))
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if res.kind != "Job" or spec.get("manualSelector"):
        if not selector:
            causes.append(required("spec.selector"))
        elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.append(invalid_value("spec.selector", "{}", "empty selector is invalid for deployment"))
        elif not _selector_matches(selector, labels):
            shown = "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {shown}: `selector` does not match template `labels`",
                    "field": "spec.template.metadata.labels",
                }
            )
    tspec = template.get("spec") or {}
    causes += _containers(tspec, "spec.template.spec")
    if res.kind == "Job":
        policy = tspec.get("restartPolicy")
        if policy not in ("OnFailure", "Never"):
            causes.append(
                required("spec.template.spec.restartPolicy", 'valid values: "OnFailure", "Never"')
                if policy is None
                else unsupported("spec.template.spec.restartPolicy", policy, ("OnFailure", "Never"))
            )
        for key in ("parallelism", "completions", "backoffLimit"):
            value = spec.get(key)
            if isinstance(value, int) and value < 0:
                causes.append(invalid_value(f"spec.{key}", value, "must be greater than or equal to 0"))
    elif res.kind == "Deployment" and (spec.get("template") or {}).get("spec", {}).get("restartPolicy") not in (
        None,
        "Always",
    ):
        policy = tspec.get("restartPolicy")
        causes.append(unsupported("spec.template.spec.restartPolicy", policy, ("Always",)))
    return causes


def _service(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    kind = spec.get("type", "ClusterIP")
    kinds = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
    if kind not in kinds:
        causes.append(unsupported("spec.type", kind, kinds))
    ports = spec.get("ports") or []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(required("spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        number = port.get("port")
        if not isinstance(number, int) or not 0 < number < 65536:
            causes.append(invalid_value(f"spec.ports[{i}].port", number, "must be between 1 and 65535, inclusive"))
        name = port.get("name", "")
        if len(ports) > 1 and not name:
            causes.append(required(f"spec.ports[{i}].name"))
        elif name in names:
            causes.append(
                {
                    "reason": "FieldValueDuplicate",
                    "message": f'Duplicate value: "{name}"',
                    "field": f"spec.ports[{i}].name",
                }
            )
        names.add(name)
        node_port = port.get("nodePort")
        if node_port is not None and kind == "ClusterIP":
            causes.append(
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: may not be used when `type` is 'ClusterIP'",
                    "field": f"spec.ports[{i}].nodePort",
                }
            )
        elif isinstance(node_port, int) and not 30000 <= node_port <= 32767:
            causes.append(
                invalid_value(
                    f"spec.ports[{i}].nodePort",
                    node_port,
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                )
            )
    if kind == "ExternalName" and not spec.get("externalName"):
        causes.append(required("spec.externalName"))
    return causes


def _config(obj: Obj, field: str) -> list[Cause]:
    causes = []
    for key in (obj.get(field) or {}) if isinstance(obj.get(field), dict) else {}:
        if len(key) > 253 or not _CONFIG_KEY.match(key):
            causes.append(invalid_value(f"{field}[{key}]", key, CONFIG_KEY_WHY))
    return causes


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


def causes_for(res: Resource, obj: Obj, old: Obj | None = None) -> list[Cause]:
    """Every validation failure of ``obj`` (a create, or an update of ``old``)."""
    causes = _metadata(res, obj, old is None)
    kind = res.kind
    if kind == "Pod":
        causes += _containers(obj.get("spec") or {}, "spec")
    elif kind in ("Deployment", "ReplicaSet", "Job"):
        causes += _workload(res, obj)
    elif kind == "Service":
        causes += _service(obj)
    elif kind == "ConfigMap":
        causes += _config(obj, "data") + _config(obj, "binaryData")
    elif kind == "Secret":
        causes += _config(obj, "data")
    if old is not None:
        causes += _immutable(res, obj, old)
    return causes


def check(res: Resource, obj: Obj, old: Obj | None = None) -> None:
    """Raise the API server's 422 when ``obj`` fails validation."""
    causes = causes_for(res, obj, old)
    if causes:
        raise status.invalid(res.kind, res.group, (obj.get("metadata") or {}).get("name", ""), causes)
