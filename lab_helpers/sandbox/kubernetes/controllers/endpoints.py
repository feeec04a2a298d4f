"""The endpoints and EndpointSlice controllers: for each Service with a selector, the addresses of
the pods it selects and the ports they serve (a named ``targetPort`` looked up in each pod's
containers). Endpoints lists ready pods under ``addresses`` and the rest under
``notReadyAddresses`` (terminating pods left out); EndpointSlices (one per set of ports, owned by
the Service) keep terminating pods with their ``ready``/``serving``/``terminating`` conditions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...errors import ApiError
from ..resources import by_plural
from .common import (
    Obj,
    clone,
    deleting,
    name_of,
    namespace_of,
    owner_ref,
    random_suffix,
    ready,
    terminal,
    uid_of,
)
from .loop import Change, Controller, Key, api_code
from .selectors import map_selector

SERVICES = by_plural("services")
ENDPOINTS = by_plural("endpoints")
SLICES = by_plural("endpointslices", "discovery.k8s.io")
PODS = by_plural("pods")
NODES = by_plural("nodes")
SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
HEADLESS = "service.kubernetes.io/headless"

PortKey = tuple[tuple[str, int, str, str], ...]  # (name, port, protocol, appProtocol)


def container_port(pod: Obj, name: str, protocol: str) -> int | None:
    """A named port's number in the pod's containers (``podutil.FindPort``)."""
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == name and (p.get("protocol") or "TCP") == protocol:
                return int(p["containerPort"])
    return None


def pod_ports(service: Obj, pod: Obj) -> PortKey | None:
    """The Service's ports as this pod serves them; None when it serves none of them."""
    out = []
    ports = (service.get("spec") or {}).get("ports") or []
    for port in ports:
        protocol = port.get("protocol") or "TCP"
        target: Any = port.get("targetPort", port.get("port"))
        if isinstance(target, str) and not target.isdigit():
            number = container_port(pod, target, protocol)
            if number is None:
                continue
        else:
            number = int(target)
        out.append((str(port.get("name") or ""), number, protocol, str(port.get("appProtocol") or "")))
    if ports and not out:
        return None
    return tuple(sorted(out))


def _port_dicts(key: PortKey) -> list[Obj]:
    out = []
    for name, number, protocol, app in key:
        entry: Obj = {"name": name, "port": number, "protocol": protocol}
        if app:
            entry["appProtocol"] = app
        out.append(entry)
    return out


class EndpointsController(Controller):
    name = "endpoint-controller"

    def observe(self, change: Change) -> None:
        obj = change.obj
        ns = namespace_of(obj)
        if change.res is SERVICES:
            self.queue.add((ns, name_of(obj)))
        elif change.res is PODS:
            labels = [(p.get("metadata", {}).get("labels") or {}) for p in (change.old, obj) if p]
            for svc in self.cache.list(SERVICES, ns):
                selector = (svc.get("spec") or {}).get("selector")
                if any(map_selector(selector, lab) for lab in labels):
                    self.queue.add((ns, name_of(svc)))
        elif change.res is ENDPOINTS:
            if self.cache.get(SERVICES, ns, name_of(obj)) is not None:
                self.queue.add((ns, name_of(obj)))
        elif change.res is SLICES:
            owner = (obj.get("metadata", {}).get("labels") or {}).get(SERVICE_NAME)
            if owner:
                self.queue.add((ns, str(owner)))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(s), name_of(s)) for s in self.cache.list(SERVICES)]

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        svc = self.cache.get(SERVICES, ns, name)
        slices = [
            s
            for s in self.cache.list(SLICES, ns)
            if (s.get("metadata", {}).get("labels") or {}).get(SERVICE_NAME) == name
            and (s.get("metadata", {}).get("labels") or {}).get(MANAGED_BY) == SLICE_CONTROLLER
        ]
        spec = (svc or {}).get("spec") or {}
        if svc is None or deleting(svc) or not spec.get("selector") or spec.get("type") == "ExternalName":
            if svc is None:
                self._delete(ENDPOINTS, ns, name)
            for s in slices:
                self._delete(SLICES, ns, name_of(s))
            return None
        if self.namespace_closing(ns):
            return None
        groups = self._groups(svc)
        self._write_endpoints(svc, groups)
        self._write_slices(svc, groups, slices)
        return None

    def _delete(self, res: Any, ns: str, name: str) -> None:
        try:
            self.objects.delete(res, ns, name)
        except ApiError as err:
            if api_code(err) != 404:
                raise

    def _groups(self, svc: Obj) -> dict[PortKey, list[tuple[Obj, bool, bool]]]:
        """Pods by the ports they serve: (pod, ready, terminating)."""
        spec = svc.get("spec") or {}
        publish = bool(spec.get("publishNotReadyAddresses"))
        groups: dict[PortKey, list[tuple[Obj, bool, bool]]] = {}
        pods = sorted(self.cache.list(PODS, namespace_of(svc)), key=name_of)
        for pod in pods:
            if not map_selector(spec.get("selector"), pod.get("metadata", {}).get("labels")):
                continue
            if not (pod.get("status") or {}).get("podIP") or terminal(pod):
                continue
            ports = pod_ports(svc, pod)
            if ports is None:
                continue
            groups.setdefault(ports, []).append((pod, ready(pod) or publish, deleting(pod)))
        return groups

    def _labels(self, svc: Obj) -> dict[str, str]:
        labels = dict(svc.get("metadata", {}).get("labels") or {})
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS] = ""
        return labels

    @staticmethod
    def _address(pod: Obj, svc: Obj) -> Obj:
        pod_spec = pod.get("spec") or {}
        address: Obj = {"ip": pod["status"]["podIP"]}
        if pod_spec.get("hostname") and pod_spec.get("subdomain") == name_of(svc):
            address["hostname"] = pod_spec["hostname"]
        if pod_spec.get("nodeName"):
            address["nodeName"] = pod_spec["nodeName"]
        address["targetRef"] = {"kind": "Pod", "namespace": namespace_of(pod), "name": name_of(pod), "uid": uid_of(pod)}
        return address

    def _write_endpoints(self, svc: Obj, groups: dict[PortKey, list[tuple[Obj, bool, bool]]]) -> None:
        ns, name = namespace_of(svc), name_of(svc)
        subsets = []
        for ports, members in sorted(groups.items()):
            up = [self._address(p, svc) for p, ok, gone in members if ok and not gone]
            down = [self._address(p, svc) for p, ok, gone in members if not ok and not gone]
            if not up and not down:
                continue
            subset: Obj = {}
            if up:
                subset["addresses"] = sorted(up, key=lambda a: a["ip"])
            if down:
                subset["notReadyAddresses"] = sorted(down, key=lambda a: a["ip"])
            if ports:
                subset["ports"] = [{k: v for k, v in p.items() if k != "appProtocol" or v} for p in _port_dicts(ports)]
            subsets.append(subset)
        labels = self._labels(svc)
        current = self.cache.get(ENDPOINTS, ns, name)
        if current is None:
            body: Obj = {"metadata": {"name": name, "namespace": ns, "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            try:
                self.create(ENDPOINTS, body)
            except ApiError as err:
                if api_code(err) != 409:
                    raise
            return
        if (current.get("subsets") or []) == subsets and (current["metadata"].get("labels") or {}) == labels:
            return
        changed = clone(current)
        changed["metadata"]["labels"] = labels
        changed.pop("subsets", None)
        if subsets:
            changed["subsets"] = subsets
        self.objects.update(ENDPOINTS, changed)

    def _write_slices(self, svc: Obj, groups: dict[PortKey, list[tuple[Obj, bool, bool]]], slices: list[Obj]) -> None:
        ns = namespace_of(svc)
        labels = {**self._labels(svc), SERVICE_NAME: name_of(svc), MANAGED_BY: SLICE_CONTROLLER}
        nodes = {name_of(n): n for n in self.cache.list(NODES)}
        wanted: dict[PortKey | None, list[Obj]] = {}
        for ports, members in groups.items():
            wanted[ports] = [self._endpoint(pod, ok, gone, nodes) for pod, ok, gone in members]
        if not wanted:
            wanted[None] = []  # a placeholder slice, as the real controller keeps one

        def ports_of(s: Obj) -> PortKey | None:
            if s.get("ports") is None:
                return None
            return tuple(
                sorted(
                    (
                        str(p.get("name") or ""),
                        int(p.get("port") or 0),
                        p.get("protocol") or "TCP",
                        p.get("appProtocol") or "",
                    )
                    for p in s["ports"]
                )
            )

        unused = list(slices)
        for key, endpoints in sorted(wanted.items(), key=lambda kv: str(kv[0])):
            endpoints.sort(key=lambda e: e["addresses"][0])
            body: Obj = {"addressType": "IPv4", "endpoints": endpoints}
            if key is not None:
                body["ports"] = _port_dicts(key)
            match = next((s for s in unused if ports_of(s) == key), None)
            if match is not None:
                unused.remove(match)
                same = all(match.get(k) == v for k, v in body.items()) and ("ports" in body) == ("ports" in match)
                if same and (match["metadata"].get("labels") or {}) == labels:
                    continue
                changed = clone(match)
                changed.pop("ports", None)
                changed.update(body)
                changed["metadata"]["labels"] = labels
                self.objects.update(SLICES, changed)
                continue
            meta = {
                "name": f"{name_of(svc)}-{random_suffix()}",
                "generateName": f"{name_of(svc)}-",
                "namespace": ns,
                "labels": labels,
                "ownerReferences": [owner_ref(svc, SERVICES)],
            }
            self.create(SLICES, {"metadata": meta, **body})
        for s in unused:
            self._delete(SLICES, ns, name_of(s))

    @staticmethod
    def _endpoint(pod: Obj, ok: bool, gone: bool, nodes: dict[str, Obj]) -> Obj:
        node = (pod.get("spec") or {}).get("nodeName")
        entry: Obj = {
            "addresses": [pod["status"]["podIP"]],
            "conditions": {"ready": ok and not gone, "serving": ready(pod), "terminating": gone},
            "targetRef": {"kind": "Pod", "namespace": namespace_of(pod), "name": name_of(pod), "uid": uid_of(pod)},
        }
        if node:
            entry["nodeName"] = node
            zone = ((nodes.get(node) or {}).get("metadata", {}).get("labels") or {}).get("topology.kubernetes.io/zone")
            if zone:
                entry["zone"] = zone
        return entry
