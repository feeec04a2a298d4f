"""A container's environment as the kubelet builds it: the Service variables of the pod's namespace
(``NGINX_SERVICE_HOST``, ``NGINX_PORT_80_TCP``, ...), then ``envFrom``, then ``env`` (values,
ConfigMap and Secret keys, the pod's fields, its resources), with ``$(VAR)`` references expanded,
over the image's own environment."""

from __future__ import annotations

import base64
import math
import re
from typing import Any

from ..objects import Objects
from ..resources import by_plural

CONFIGMAPS, SECRETS, SERVICES = by_plural("configmaps"), by_plural("secrets"), by_plural("services")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?([a-zA-Z]*)$")
_SUFFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_SUFFIX.update({"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60})


class ConfigError(Exception):
    """A reference that cannot be resolved yet: the container waits in ``CreateContainerConfigError``."""


def quantity(value: Any) -> float:
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(3) not in _SUFFIX:
        raise ValueError(f"not a quantity: {value!r}")
    number = float(match.group(1)) * (10.0 ** int(match.group(2)) if match.group(2) else 1.0)
    return number * _SUFFIX[match.group(3)]


def expand(text: str, env: dict[str, str]) -> str:
    """``$(VAR)`` replaced by ``env[VAR]`` where defined (kept as written otherwise); ``$$`` is ``$``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2 : end]
                    out.append(env[name] if name in env else text[i : end + 1])
                    i = end + 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


def service_variables(objects: Objects, namespace: str) -> dict[str, str]:
    """The Docker-link style variables of every Service with a cluster IP in ``namespace`` (and the
    ``kubernetes`` Service of ``default``), as the kubelet injects them when ``enableServiceLinks``."""
    services, _ = objects.list(SERVICES, namespace)
    if namespace != "default":
        master = objects.get(SERVICES, "default", "kubernetes")
        if master is not None:
            services.append(master)
    out: dict[str, str] = {}
    for svc in services:
        spec = svc.get("spec", {})
        ip = spec.get("clusterIP")
        if not ip or ip == "None" or not spec.get("ports"):
            continue
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        ports = spec["ports"]
        out[f"{prefix}_SERVICE_HOST"] = ip
        out[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                out[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
        first = ports[0]
        out[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
        for port in ports:
            proto = port.get("protocol", "TCP")
            base = f"{prefix}_PORT_{port['port']}_{proto.upper()}"
            out[base] = f"{proto.lower()}://{ip}:{port['port']}"
            out[f"{base}_PROTO"] = proto.lower()
            out[f"{base}_PORT"] = str(port["port"])
            out[f"{base}_ADDR"] = ip
    return out


def _source(objects: Objects, namespace: str, kind: str, name: str, optional: bool) -> dict[str, str] | None:
    res = CONFIGMAPS if kind == "configmap" else SECRETS
    obj = objects.get(res, namespace, name)
    if obj is None:
        if optional:
            return None
        raise ConfigError(f'{kind} "{name}" not found')
    if kind == "secret":
        out = {}
        for k, v in (obj.get("data") or {}).items():
            try:
                out[k] = base64.b64decode(v).decode("utf-8", "replace")
            except ValueError:
                out[k] = ""
        for k, v in (obj.get("stringData") or {}).items():
            out[k] = str(v)
        return out
    return {k: str(v) for k, v in (obj.get("data") or {}).items()}


def field_value(pod: dict[str, Any], path: str) -> str:
    """A ``fieldRef`` of the downward API (``metadata.name``, ``status.podIP``, ``metadata.labels['app']``)."""
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    match = re.match(r"^metadata\.(labels|annotations)\['(.+)'\]$", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        items = sorted((meta.get(path.split(".")[1]) or {}).items())
        return "\n".join(f'{k}="{v}"' for k, v in items)
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.hostIP": status.get("hostIP", ""),
        "status.hostIPs": ",".join(a.get("ip", "") for a in status.get("hostIPs", [])),
        "status.podIP": status.get("podIP", ""),
        "status.podIPs": ",".join(a.get("ip", "") for a in status.get("podIPs", [])),
    }
    if path not in simple:
        raise ConfigError(f"unsupported fieldRef {path!r}")
    return str(simple[path])


def resource_value(pod: dict[str, Any], ref: dict[str, Any], node_allocatable: dict[str, Any]) -> str:
    """A ``resourceFieldRef``: the container's limit or request divided by ``divisor`` and rounded up;
    an unset limit is the node's allocatable amount, as the kubelet reports it."""
    name = ref.get("containerName", "")
    containers = pod.get("spec", {}).get("containers", []) + pod.get("spec", {}).get("initContainers", [])
    container = next((c for c in containers if c.get("name") == name), containers[0] if containers else {})
    kind, _, resource = ref.get("resource", "").partition(".")
    amounts = (container.get("resources") or {}).get(kind, {})
    value = amounts.get(resource)
    if value is None and kind == "requests":
        value = (container.get("resources") or {}).get("limits", {}).get(resource)
    if value is None:
        value = node_allocatable.get(
            resource, "0" if kind == "requests" else {"cpu": "2", "memory": "4Gi"}.get(resource)
        )
    divisor = quantity(ref.get("divisor") or "1")
    return str(math.ceil(quantity(value) / divisor - 1e-9)) if divisor else "0"


def build(
    objects: Objects,
    pod: dict[str, Any],
    container: dict[str, Any],
    image_env: tuple[str, ...],
    node_allocatable: dict[str, Any],
) -> tuple[dict[str, str], list[str]]:
    """(the environment, warnings about skipped keys); :class:`ConfigError` when a reference is missing."""
    namespace = pod["metadata"].get("namespace", "default")
    env: dict[str, str] = {}
    warnings: list[str] = []
    if pod.get("spec", {}).get("enableServiceLinks", True) is not False:
        env.update(service_variables(objects, namespace))
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("configmap", "configMapRef"), ("secret", "secretRef")):
            ref = source.get(key)
            if ref is None:
                continue
            values = _source(objects, namespace, kind, ref.get("name", ""), bool(ref.get("optional")))
            bad = []
            for k, v in (values or {}).items():
                if _ENV_NAME.match(prefix + k):
                    env[prefix + k] = v
                else:
                    bad.append(k)
            if bad:
                warnings.append(
                    f"Keys [{', '.join(sorted(bad))}] from the EnvFrom {kind} {namespace}/{ref.get('name')} were "
                    "skipped since they are considered invalid environment variable names."
                )
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "value" in var or "valueFrom" not in var:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        frm = var["valueFrom"]
        if "configMapKeyRef" in frm or "secretKeyRef" in frm:
            kind, ref = (
                ("configmap", frm["configMapKeyRef"]) if "configMapKeyRef" in frm else ("secret", frm["secretKeyRef"])
            )
            optional = bool(ref.get("optional"))
            values = _source(objects, namespace, kind, ref.get("name", ""), optional)
            if values is None:
                continue
            if ref.get("key") not in values:
                if optional:
                    continue
                label = "ConfigMap" if kind == "configmap" else "Secret"
                raise ConfigError(f"couldn't find key {ref.get('key')} in {label} {namespace}/{ref.get('name')}")
            env[name] = values[ref["key"]]
        elif "fieldRef" in frm:
            env[name] = field_value(pod, frm["fieldRef"].get("fieldPath", ""))
        elif "resourceFieldRef" in frm:
            ref = dict(frm["resourceFieldRef"])
            ref.setdefault("containerName", container.get("name", ""))
            env[name] = resource_value(pod, ref, node_allocatable)
    merged: dict[str, str] = {}
    for item in image_env:
        k, _, v = item.partition("=")
        merged[k] = v
    merged.update(env)
    return merged, warnings
