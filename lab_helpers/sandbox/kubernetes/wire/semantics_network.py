"""What the API server validates beyond the schema for Ingress, IngressClass and NetworkPolicy, worded
as its networking validation words it (``spec.rules[0].http.paths[0].pathType: Required value:
pathType must be specified``)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, TypeGuard

from .semantics import SUBDOMAIN_RE, _dict, _invalid, _list, _required, _unsupported, dns_name
from .validation import Cause

PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
BAD_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
BAD_SUFFIXES = ("/..", "/.")
WILDCARD_RE = re.compile(r"^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of "
    "lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', "
    "regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"
POLICY_TYPES = ("Ingress", "Egress")
PROTOCOLS = ("TCP", "UDP", "SCTP")
LEGACY_CLASS = "kubernetes.io/ingress.class"


def _forbidden(field: str, detail: str) -> Cause:
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def port_name(field: str, name: str) -> list[Cause]:
    """``IsValidPortName``: an IANA service name."""
    causes = []
    if len(name) > 15:
        causes.append(_invalid(field, name, "must be no more than 15 characters"))
    if not re.fullmatch(r"[-a-z0-9]+", name):
        causes.append(_invalid(field, name, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
    if not re.search(r"[a-z]", name):
        causes.append(_invalid(field, name, "must contain at least one letter (a-z)"))
    if "--" in name:
        causes.append(_invalid(field, name, "must not contain consecutive hyphens"))
    if name.startswith("-") or name.endswith("-"):
        causes.append(_invalid(field, name, "must not begin or end with a hyphen"))
    return causes


def _port_number(field: str, value: Any) -> list[Cause]:
    return [] if not _is_int(value) or 1 <= value <= 65535 else [_invalid(field, value, PORT_RANGE_MSG)]


def _host(field: str, host: str) -> list[Cause]:
    try:
        ipaddress.ip_address(host)
        return [_invalid(field, host, "must be a DNS name, not an IP address")]
    except ValueError:
        pass
    if "*" in host:
        causes = []
        if len(host) > 253:
            causes.append(_invalid(field, host, "must be no more than 253 characters"))
        if not WILDCARD_RE.match(host):
            causes.append(_invalid(field, host, WILDCARD_MSG))
        return causes
    return dns_name(field, host, "subdomain")


def _backend(field: str, raw: Any) -> list[Cause]:
    backend = _dict(raw)
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [_invalid(field, "", "cannot set both resource and service backends")]
    if resource is not None:
        res = _dict(resource)
        causes = []
        for key in ("kind", "name"):
            if not res.get(key):
                causes.append(_required(f"{field}.resource.{key}"))
        return causes
    if service is None:
        return [_invalid(field, "", "resource or service backend is required")]
    svc = _dict(service)
    causes = []
    name = svc.get("name")
    if not name:
        causes.append(_required(f"{field}.service.name"))
    elif isinstance(name, str):
        causes += dns_name(f"{field}.service.name", name, "1035")
    port = _dict(svc.get("port"))
    pname, number = port.get("name") or "", port.get("number") or 0
    if pname and number:
        causes.append(_invalid(field, "", "cannot set both port name & port number"))
    elif pname and isinstance(pname, str):
        causes += port_name(f"{field}.service.port.name", pname)
    elif number:
        causes += _port_number(f"{field}.service.port.number", number)
    else:
        causes.append(_required(field, "port name or number is required"))
    return causes


def _path(field: str, raw: Any) -> list[Cause]:
    entry = _dict(raw)
    causes: list[Cause] = []
    kind, path = entry.get("pathType"), entry.get("path")
    path = path if isinstance(path, str) else ""
    if kind is None:
        causes.append(_required(f"{field}.pathType", "pathType must be specified"))
    elif kind not in PATH_TYPES:
        causes.append(_unsupported(f"{field}.pathType", kind, PATH_TYPES))
    elif kind in ("Exact", "Prefix"):
        if not path.startswith("/"):
            causes.append(_invalid(f"{field}.path", path, "must be an absolute path"))
        if path:
            causes += [
                _invalid(f"{field}.path", path, f"must not contain '{seq}'") for seq in BAD_SEQUENCES if seq in path
            ]
            causes += [
                _invalid(f"{field}.path", path, f"must not end with '{suf}'")
                for suf in BAD_SUFFIXES
                if path.endswith(suf)
            ]
    elif path and not path.startswith("/"):
        causes.append(_invalid(f"{field}.path", path, "must be an absolute path"))
    return causes + _backend(f"{field}.backend", entry.get("backend"))


def ingress(obj: dict[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes: list[Cause] = []
    rules = _list(spec.get("rules"))
    if not rules and spec.get("defaultBackend") is None:
        causes.append(_invalid("spec", None, "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        causes += _backend("spec.defaultBackend", spec.get("defaultBackend"))
    for i, raw in enumerate(rules):
        rule = _dict(raw)
        field = f"spec.rules[{i}]"
        host = rule.get("host")
        if isinstance(host, str) and host:
            causes += _host(f"{field}.host", host)
        http = rule.get("http")
        if http is None:
            continue
        paths = _list(_dict(http).get("paths"))
        if not paths:
            causes.append(_required(f"{field}.http.paths"))
        for j, entry in enumerate(paths):
            causes += _path(f"{field}.http.paths[{j}]", entry)
    for i, raw in enumerate(_list(spec.get("tls"))):
        for j, host in enumerate(_list(_dict(raw).get("hosts"))):
            if isinstance(host, str):
                causes += _host(f"spec.tls[{i}].hosts[{j}]", host)
    name = spec.get("ingressClassName")
    if isinstance(name, str):
        causes += dns_name("spec.ingressClassName", name, "subdomain")
        legacy = _dict(_dict(obj.get("metadata")).get("annotations")).get(LEGACY_CLASS)
        if isinstance(legacy, str) and legacy != name:
            causes.append(
                _invalid(f"annotations.{LEGACY_CLASS}", legacy, "must match `ingressClassName` when both are specified")
            )
    return causes


def ingress_class(obj: dict[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    controller = spec.get("controller")
    field = "spec.controller"
    if not controller:
        return [_required(field)]
    if not isinstance(controller, str):
        return []
    causes = []
    if len(controller) > 250:
        causes.append(_invalid(field, controller, "must be no more than 250 characters"))
    domain, slash, path = controller.partition("/")
    if not slash or not path:
        causes.append(_invalid(field, controller, 'must be a domain-prefixed path (such as "acme.io/foo")'))
    elif not SUBDOMAIN_RE.match(domain):
        causes += dns_name(field, domain, "subdomain")
    params = spec.get("parameters")
    if isinstance(params, dict):
        for key in ("kind", "name"):
            if not params.get(key):
                causes.append(_required(f"spec.parameters.{key}"))
        scope = params.get("scope")
        if scope is not None and scope not in ("Cluster", "Namespace"):
            causes.append(_unsupported("spec.parameters.scope", scope, ("Cluster", "Namespace")))
        if scope == "Namespace" and not params.get("namespace"):
            causes.append(_required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'"))
    return causes


def _selector(field: str, raw: Any) -> list[Cause]:
    causes = []
    for i, expr in enumerate(_list(_dict(raw).get("matchExpressions"))):
        expr = _dict(expr)
        op, values = expr.get("operator"), _list(expr.get("values"))
        where = f"{field}.matchExpressions[{i}]"
        if op in ("In", "NotIn") and not values:
            causes.append(_required(f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist") and values:
            causes.append(
                _forbidden(f"{where}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
            )
        elif op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            causes.append(_invalid(f"{where}.operator", op, "not a valid selector operator"))
    return causes


def _policy_port(field: str, raw: Any) -> list[Cause]:
    port = _dict(raw)
    causes = []
    protocol = port.get("protocol")
    if isinstance(protocol, str) and protocol not in PROTOCOLS:
        causes.append(_unsupported(f"{field}.protocol", protocol, PROTOCOLS))
    number, end = port.get("port"), port.get("endPort")
    if _is_int(number):
        causes += _port_number(f"{field}.port", number)
        if _is_int(end):
            if end < number:
                causes.append(_invalid(f"{field}.endPort", number, "must be greater than or equal to `port`"))
            causes += _port_number(f"{field}.endPort", end)
    elif isinstance(number, str):
        if end is not None:
            causes.append(_invalid(f"{field}.endPort", end, "may not be specified when `port` is non-numeric"))
        causes += port_name(f"{field}.port", number)
    elif end is not None:
        causes.append(_invalid(f"{field}.endPort", end, "may not be specified when `port` is not specified"))
    return causes


def _ip_block(field: str, raw: Any) -> list[Cause]:
    block = _dict(raw)
    cidr = block.get("cidr")
    if not cidr:
        return [_required(f"{field}.cidr")]
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return [_invalid(f"{field}.cidr", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
    causes = []
    for i, item in enumerate(_list(block.get("except"))):
        where = f"{field}.except[{i}]"
        try:
            inner = ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            causes.append(_invalid(where, item, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
            continue
        if inner.version != net.version or not inner.subnet_of(net) or inner.prefixlen <= net.prefixlen:  # type: ignore[arg-type]
            causes.append(_invalid(where, item, "must be a strict subset of `cidr`"))
    return causes


def _peer(field: str, raw: Any) -> list[Cause]:
    peer = _dict(raw)
    causes: list[Cause] = []
    count = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            causes += _selector(f"{field}.{key}", peer[key])
    if peer.get("ipBlock") is not None:
        count += 1
        causes += _ip_block(f"{field}.ipBlock", peer["ipBlock"])
    if count == 0:
        causes.append(_required(field, "must specify a peer"))
    elif count > 1 and peer.get("ipBlock") is not None:
        causes.append(_forbidden(field, "may not specify both ipBlock and another peer"))
    return causes


def network_policy(obj: dict[str, Any]) -> list[Cause]:
    spec = _dict(obj.get("spec"))
    causes = _selector("spec.podSelector", spec.get("podSelector"))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, raw in enumerate(_list(spec.get(direction))):
            rule = _dict(raw)
            for j, port in enumerate(_list(rule.get("ports"))):
                causes += _policy_port(f"spec.{direction}[{i}].ports[{j}]", port)
            for j, peer in enumerate(_list(rule.get(peers))):
                causes += _peer(f"spec.{direction}[{i}].{peers}[{j}]", peer)
    types = _list(spec.get("policyTypes"))
    for i, kind in enumerate(types):
        if kind not in POLICY_TYPES:
            causes.append(_unsupported(f"spec.policyTypes[{i}]", kind, POLICY_TYPES))
    if len(types) > 2:
        causes.append(_invalid("spec.policyTypes", types, "may not specify more than two policyTypes"))
    return causes


RULES = {"Ingress": ingress, "IngressClass": ingress_class, "NetworkPolicy": network_policy}
