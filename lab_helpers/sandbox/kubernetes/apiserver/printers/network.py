"""``kubectl get`` columns: network kinds (Ingress, IngressClass, NetworkPolicy), as the API server's
printers compute them.

One difference, on purpose: an Ingress's PORTS. A real cluster prints ``80`` (``80, 443`` with TLS),
the ports its load balancer listens on; the sandbox's ingress proxy listens on loopback ports of its
own (HTTP, and HTTPS for an Ingress with TLS), which the Ingress controller writes into
``status.loadBalancer.ingress[].ports``. When the status holds ports, PORTS shows them, so
``kubectl get ingress`` says where to send requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cells import NONE, age, label_selector_text

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format

LOAD_BALANCER_WIDTH = 16  # kubectl's printer cuts a longer ADDRESS to 13 characters and "..."
MAX_HOSTS = 3


def ingress_hosts(rules: Any) -> str:
    """The first three hosts, then ``+ N more...``; ``*`` when no rule names a host."""
    rules = rules if isinstance(rules, list) else []
    shown: list[str] = []
    more = False
    for rule in rules:
        if len(shown) == MAX_HOSTS:
            more = True
        host = rule.get("host") if isinstance(rule, dict) else None
        if not more and host:
            shown.append(str(host))
    if not shown:
        return "*"
    text = ",".join(shown)
    return f"{text} + {len(rules) - MAX_HOSTS} more..." if more else text


def ingress_address(status: Any, wide: bool = False) -> str:
    entries = ((status or {}).get("loadBalancer") or {}).get("ingress") or [] if isinstance(status, dict) else []
    found = sorted({str(e.get("ip") or e.get("hostname")) for e in entries if e.get("ip") or e.get("hostname")})
    text = ",".join(found)
    if not wide and len(text) > LOAD_BALANCER_WIDTH:
        text = text[: LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def ingress_ports(obj: Obj) -> str:
    entries = (obj.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    ports = sorted({int(p["port"]) for e in entries for p in e.get("ports") or [] if isinstance(p.get("port"), int)})
    if ports:
        return ", ".join(str(p) for p in ports)
    return "80, 443" if obj.get("spec", {}).get("tls") else "80"


def _ingress(obj: Obj) -> list[Any]:
    spec = obj.get("spec", {})
    return [
        spec.get("ingressClassName") or NONE,
        ingress_hosts(spec.get("rules")),
        ingress_address(obj.get("status")),
        ingress_ports(obj),
        age(obj),
    ]


def _ingress_class(obj: Obj) -> list[Any]:
    spec = obj.get("spec", {})
    params = spec.get("parameters")
    shown = NONE
    if isinstance(params, dict):
        shown = str(params.get("kind", ""))
        if params.get("apiGroup") is not None:
            shown += "." + str(params["apiGroup"])
        shown += "/" + str(params.get("name", ""))
    return [spec.get("controller", ""), shown, age(obj)]


def _network_policy(obj: Obj) -> list[Any]:
    return [label_selector_text(obj.get("spec", {}).get("podSelector")), age(obj)]


PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "Ingress": (
        [
            ("Class", "string", 0, ""),
            ("Hosts", "string", 0, ""),
            ("Address", "string", 0, ""),
            ("Ports", "string", 0, ""),
            ("Age", "string", 0, ""),
        ],
        _ingress,
    ),
    "IngressClass": (
        [("Controller", "string", 0, ""), ("Parameters", "string", 0, ""), ("Age", "string", 0, "")],
        _ingress_class,
    ),
    "NetworkPolicy": ([("Pod-Selector", "string", 0, ""), ("Age", "string", 0, "")], _network_policy),
}
