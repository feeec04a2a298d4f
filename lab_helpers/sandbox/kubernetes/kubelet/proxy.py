"""What kube-proxy does, with real listeners: every TCP port of every Service with a cluster IP is
a socket on ``clusterIP:port``; NodePort and LoadBalancer Services also get ``127.0.0.1:nodePort``
and ``<node InternalIP>:nodePort``. Re-synced whenever a Service, its endpoints or a node change;
closed when the sandbox stops. A port the service process may not open (below 1024 for a normal
user) is a Warning event on the Service that says the one-line fix."""

from __future__ import annotations

import functools
import threading
from typing import Any
from urllib.parse import urlsplit

from .. import events
from ..objects import Objects
from . import network
from .network import NODES, SERVICES, PortListener

Key = tuple[str, int]


class ServiceProxy:
    def __init__(self, objects: Objects, api_url: str = "") -> None:
        self.objects = objects
        self.listeners: dict[Key, PortListener] = {}
        self.routes: dict[Key, tuple[str, str, dict[str, Any]]] = {}
        self.reported: set[tuple[Key, str]] = set()
        self.lock = threading.Lock()
        parts = urlsplit(api_url) if api_url else None
        self.api = (parts.hostname or "127.0.0.1", parts.port or 443) if parts and parts.port else None

    def wanted(self) -> dict[Key, tuple[str, str, dict[str, Any]]]:
        services, _ = self.objects.list(SERVICES)
        nodes, _ = self.objects.list(NODES)
        node_ips = ["127.0.0.1"] + [
            a["address"]
            for n in nodes
            for a in n.get("status", {}).get("addresses") or []
            if a.get("type") == "InternalIP" and str(a.get("address", "")).startswith("127.")
        ]
        out: dict[Key, tuple[str, str, dict[str, Any]]] = {}
        for svc in services:
            meta, spec = svc["metadata"], svc.get("spec", {})
            kind = spec.get("type") or "ClusterIP"
            if kind == "ExternalName":
                continue
            ip = spec.get("clusterIP") or ""
            for port in spec.get("ports") or []:
                if (port.get("protocol") or "TCP") != "TCP" or not port.get("port"):
                    continue
                route = (meta["namespace"], meta["name"], port)
                if ip and ip != "None" and ip.startswith("127."):
                    out[(ip, int(port["port"]))] = route
                if kind in ("NodePort", "LoadBalancer") and port.get("nodePort"):
                    for addr in node_ips:
                        out[(addr, int(port["nodePort"]))] = route
        return out

    def route(self, key: Key) -> tuple[str, int] | None:
        found = self.routes.get(key)
        if found is None:
            return None
        namespace, name, port = found
        target = network.pick(self.objects, namespace, name, port)
        if target is None and (namespace, name) == ("default", "kubernetes") and self.api:
            if self.objects.get(network.ENDPOINTS, namespace, name) is None:
                return self.api  # the API server itself, when nothing else says where it is
        return target

    def sync(self) -> None:
        with self.lock:
            wanted = self.wanted()
            self.routes = wanted
            for key in [k for k in self.listeners if k not in wanted]:
                self.listeners.pop(key).close()
            for key, (namespace, name, _port) in wanted.items():
                if key in self.listeners:
                    continue
                try:
                    self.listeners[key] = PortListener(key[0], key[1], functools.partial(self.route, key))
                except OSError as exc:
                    self._report(key, namespace, name, exc)

    def _report(self, key: Key, namespace: str, name: str, exc: OSError) -> None:
        svc = self.objects.get(SERVICES, namespace, name)
        if svc is None or (key, svc["metadata"].get("uid", "")) in self.reported:
            return
        self.reported.add((key, svc["metadata"].get("uid", "")))
        hint = network.listen_error_hint(key[1], exc)
        events.record(
            self.objects,
            svc,
            "FailedToListen",
            f"the sandbox cannot listen on {key[0]}:{key[1]} for this Service: {hint}",
            type="Warning",
            component="kube-proxy",
        )

    def close(self) -> None:
        with self.lock:
            for listener in self.listeners.values():
                listener.close()
            self.listeners.clear()
