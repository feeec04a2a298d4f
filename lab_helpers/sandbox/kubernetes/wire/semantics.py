"""What the API server validates beyond the schema, for the kinds the sandbox serves: names, labels,
containers and their images, ports, restart policies, selectors matching templates, Service types.
Each rule reports causes worded as the API server words them; values of a wrong type are left to
the schema check."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .validation import Cause, go_value

SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_1123_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_1123_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
    "is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
RESTART_POLICIES = ("Always", "Never", "OnFailure")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")


def _required(field: str, detail: str = "") -> Cause:
    return {
        "reason": "FieldValueRequired",
        "message": "Required value" + (f": {detail}" if detail else ""),
        "field": field,
    }


def _invalid(field: str, value: Any, detail: str) -> Cause:
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {go_value(value)}: {detail}", "field": field}


def _unsupported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    listed = ", ".join(f'"{s}"' for s in supported)
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {go_value(value)}: supported values: {listed}",
        "field": field,
    }


def _duplicate(field: str, value: Any) -> Cause:
    return {"reason": "FieldValueDuplicate", "message": f"Duplicate value: {go_value(value)}", "field": field}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dns_name(field: str, value: str, style: str) -> list[Cause]:
    """``style``: ``subdomain`` (most kinds), ``label`` (RFC 1123: namespaces, containers), ``1035`` (Services),
    ``path`` (a path segment: the RBAC kinds, whose names hold ``:`` as in ``system:basic-user``)."""
    if style == "path":
        if value in (".", ".."):
            return [_invalid(field, value, f"may not be '{value}'")]
        return [_invalid(field, value, f"may not contain '{c}'") for c in ("/", "%") if c in value]
    causes = []
    limit = 253 if style == "subdomain" else 63
    if len(value) > limit:
        causes.append(_invalid(field, value, f"must be no more than {limit} characters"))
    regex, message = {
        "subdomain": (SUBDOMAIN_RE, SUBDOMAIN_MSG),
        "label": (LABEL_1123_RE, LABEL_1123_MSG),
        "1035": (LABEL_1035_RE, LABEL_1035_MSG),
    }[style]
    if not regex.match(value):
        causes.append(_invalid(field, value, message))
    return causes


def _qualified_name(field: str, key: str) -> list[Cause]:
    prefix, _, name = key.rpartition("/")
    causes = []
    if prefix and (len(prefix) > 253 or not SUBDOMAIN_RE.match(prefix)):
        causes.append(_invalid(field, key, "prefix part " + SUBDOMAIN_MSG))
    if not name or len(name) > 63 or not QUALIFIED_NAME_RE.match(name):
        causes.append(_invalid(field, key, QUALIFIED_NAME_MSG if name else "name part must be non-empty"))
    return causes


def metadata(obj: dict[str, Any], name_style: str) -> list[Cause]:
    meta = _dict(obj.get("metadata"))
    causes: list[Cause] = []
    name, generate = meta.get("name"), meta.get("generateName")
    if not name and not generate:
        causes.append(_required("metadata.name", "name or generateName is required"))
    elif isinstance(name, str) and name:
        causes += dns_name("metadata.name", name, name_style)
    for key, value in _dict(meta.get("labels")).items():
        causes += _qualified_name("metadata.labels", key)
        if isinstance(value, str) and (len(value) > 63 or not LABEL_VALUE_RE.match(value)):
            causes.append(_invalid("metadata.labels", value, LABEL_VALUE_MSG))
    for key in _dict(meta.get("annotations")):
        causes += _qualified_name("metadata.annotations", key)
    return causes


def _port(field: str, value: Any) -> list[Cause]:
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        return [_invalid(field, value, "must be between 1 and 65535, inclusive")]
    return []


def pod_spec(spec: Any, path: str, restart: tuple[str, ...] = RESTART_POLICIES) -> list[Cause]:
    spec = _dict(spec)
    causes: list[Cause] = []
    volumes: set[str] = set()
    for i, volume in enumerate(_list(spec.get("volumes"))):
        vname = _dict(volume).get("name")
        field = f"{path}.volumes[{i}].name"
        if not vname:
            causes.append(_required(field))
        elif isinstance(vname, str):
            if vname in volumes:
                causes.append(_duplicate(field, vname))
            causes += dns_name(field, vname, "label")
            volumes.add(vname)
    if spec.get("containers") in (None, []):
        causes.append(_required(f"{path}.containers"))
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, container in enumerate(_list(spec.get(group))):
            causes += _container(_dict(container), f"{path}.{group}[{i}]", names, volumes)
    policy = spec.get("restartPolicy")
    if isinstance(policy, str) and policy not in restart:
        causes.append(_unsupported(f"{path}.restartPolicy", policy, restart))
    return causes


def _container(container: dict[str, Any], path: str, names: set[str], volumes: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = container.get("name")
    if not name:
        causes.append(_required(f"{path}.name"))
    elif isinstance(name, str):
        if name in names:
            causes.append(_duplicate(f"{path}.name", name))
        causes += dns_name(f"{path}.name", name, "label")
        names.add(name)
    if not container.get("image"):
        causes.append(_required(f"{path}.image"))
    for j, port in enumerate(_list(container.get("ports"))):
        port = _dict(port)
        causes += _port(f"{path}.ports[{j}].containerPort", port.get("containerPort"))
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in PROTOCOLS:
            causes.append(_unsupported(f"{path}.ports[{j}].protocol", protocol, PROTOCOLS))
    for j, mount in enumerate(_list(container.get("volumeMounts"))):
        mname = _dict(mount).get("name")
        if isinstance(mname, str) and mname not in volumes:
            field = f"{path}.volumeMounts[{j}].name"
            causes.append({"reason": "FieldValueNotFound", "message": f"Not found: {go_value(mname)}", "field": field})
    return causes


def selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    for label, value in _dict(selector.get("matchLabels")).items():
        if labels.get(label) != value:
            return False
    for item in _list(selector.get("matchExpressions")):
        expr = _dict(item)
        key, op, values = str(expr.get("key")), expr.get("operator"), _list(expr.get("values"))
        present = key in labels
        if op == "In" and (not present or labels[key] not in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _go_map(labels: dict[str, Any]) -> str:
    inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
    return "map[string]string{" + inner + "}"


def _workload(obj: dict[str, Any], restart: tuple[str, ...], is_job: bool = False) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 0:
        causes.append(_invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
    template = _dict(spec.get("template"))
    labels = _dict(_dict(template.get("metadata")).get("labels"))
    selector = spec.get("selector")
    if not is_job and isinstance(selector, dict):
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            causes.append(_invalid("spec.selector", "", "empty selector is invalid for deployment"))
        elif not selector_matches(selector, labels):
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {_go_map(labels)}: `selector` does not match template `labels`",
                    "field": "spec.template.metadata.labels",
                }
            )
    if "spec" in template:
        template_spec = _dict(template.get("spec"))
        causes += pod_spec(template_spec, "spec.template.spec", restart)
        if is_job and not template_spec.get("restartPolicy"):
            listed = ", ".join(f'"{r}"' for r in restart)
            causes.append(_required("spec.template.spec.restartPolicy", f"valid values: {listed}"))
    return causes


def _service(obj: dict[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    kind = spec.get("type", "ClusterIP")
    if isinstance(kind, str) and kind not in SERVICE_TYPES:
        causes.append(_unsupported("spec.type", kind, SERVICE_TYPES))
    ports = _list(spec.get("ports"))
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(_required("spec.ports"))
    seen: set[str] = set()
    for i, port in enumerate(ports):
        port = _dict(port)
        field = f"spec.ports[{i}]"
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.append(_required(f"{field}.name"))
        elif isinstance(name, str) and name:
            if name in seen:
                causes.append(_duplicate(f"{field}.name", name))
            seen.add(name)
        causes += _port(f"{field}.port", port.get("port"))
        target = port.get("targetPort")
        if isinstance(target, int):
            causes += _port(f"{field}.targetPort", target)
        node_port = port.get("nodePort")
        if (
            isinstance(node_port, int)
            and not isinstance(node_port, bool)
            and node_port
            and not 30000 <= node_port <= 32767
        ):
            causes.append(
                _invalid(
                    f"{field}.nodePort",
                    node_port,
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                )
            )
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in PROTOCOLS:
            causes.append(_unsupported(f"{field}.protocol", protocol, PROTOCOLS))
    return causes


def _config_keys(obj: dict[str, Any]) -> list[Cause]:
    causes = []
    for field in ("data", "binaryData", "stringData"):
        for key in _dict(obj.get(field)):
            if len(key) > 253 or not CONFIG_KEY_RE.match(key):
                causes.append(_invalid(f"{field}[{key}]", key, CONFIG_KEY_MSG))
    return causes


def _cronjob(obj: dict[str, Any]) -> list[Cause]:
    from ..controllers.cron_schedule import ScheduleError, expression, zone

    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(_required("spec.schedule"))
    elif isinstance(schedule, str):
        try:
            expression(schedule)
        except ScheduleError as err:
            causes.append(_invalid("spec.schedule", schedule, str(err)))
    tz = spec.get("timeZone")
    if isinstance(tz, str):
        try:
            zone(tz)
            if not tz:
                raise ScheduleError(f"unknown time zone {tz}")
        except ScheduleError as err:
            causes.append(_invalid("spec.timeZone", tz, str(err)))
    policy = spec.get("concurrencyPolicy")
    if policy is not None and policy not in ("Allow", "Forbid", "Replace"):
        causes.append(_unsupported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")))
    for field in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = spec.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            causes.append(_invalid(f"spec.{field}", value, "must be greater than or equal to 0"))
    template = _dict(_dict(_dict(spec.get("jobTemplate")).get("spec")).get("template"))
    if "spec" in template:
        template_spec = _dict(template.get("spec"))
        causes += pod_spec(template_spec, "spec.jobTemplate.spec.template.spec", ("OnFailure", "Never"))
    return causes


def _hpa(obj: dict[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(low, int) and low < 1:
        causes.append(_invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
    if isinstance(high, int) and high < 1:
        causes.append(_invalid("spec.maxReplicas", high, "must be greater than 0"))
    elif isinstance(low, int) and isinstance(high, int) and high < low:
        causes.append(_invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
    ref = _dict(spec.get("scaleTargetRef"))
    if not ref.get("kind"):
        causes.append(_required("spec.scaleTargetRef.kind"))
    if not ref.get("name"):
        causes.append(_required("spec.scaleTargetRef.name"))
    return causes


RULES: dict[str, Callable[[dict[str, Any]], list[Cause]]] = {
    "CronJob": _cronjob,
    "HorizontalPodAutoscaler": _hpa,
    "Pod": lambda obj: pod_spec(obj.get("spec"), "spec"),
    "Deployment": lambda obj: _workload(obj, ("Always",)),
    "ReplicaSet": lambda obj: _workload(obj, ("Always",)),
    "Job": lambda obj: _workload(obj, ("OnFailure", "Never"), is_job=True),
    "Service": _service,
    "ConfigMap": _config_keys,
    "Secret": _config_keys,
}
NAME_STYLES = {"Namespace": "label", "Service": "1035", "Node": "subdomain", "Role": "path", "ClusterRole": "path",
               "RoleBinding": "path", "ClusterRoleBinding": "path"}  # fmt: skip


def check(obj: dict[str, Any], rules: dict[str, Callable[[dict[str, Any]], list[Cause]]] | None = None) -> list[Cause]:
    """The API server's semantic validation of one object of a served kind (``rules``: by kind, default
    this module's; ``rulebook`` adds the other areas')."""
    kind = obj.get("kind", "")
    causes = metadata(obj, NAME_STYLES.get(kind, "subdomain"))
    rule = (RULES if rules is None else rules).get(kind)
    if rule is not None:
        causes += rule(obj)
    return causes
