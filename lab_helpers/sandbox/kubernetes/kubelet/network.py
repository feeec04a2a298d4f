"""The sandbox cluster's network on the host's loopback: addresses for nodes and pods, a real TCP
listener for every Service port (what kube-proxy's rules do in a real cluster), NodePorts, and
the names pods resolve.

- Each node has an index (its sandbox's random slot of 8, then in order of first sight), the
  InternalIP ``127.243.<index>.1`` and the pod CIDR ``127.244.<index>.0/24``; each pod takes the
  next free address of its node's CIDR (one no process of the machine listens on). Linux routes
  all of 127.0.0.0/8 to ``lo``, so a process can listen on its pod's own address.
- Each Service with a cluster IP (``127.96.0.0/16``, allocated by the API server) listens on
  ``clusterIP:port`` and forwards each connection to one ready endpoint, in turn (round robin),
  on its target port. NodePort and LoadBalancer Services also listen on ``127.0.0.1:nodePort``
  and on every node's InternalIP. With no ready endpoint a connection is refused (reset), as
  kube-proxy's reject rule does.
- Names: a pod's ``/etc/hosts`` (when containers have their own root) lists every Service as
  ``SVC.NS``, ``SVC.NS.svc`` and ``SVC.NS.svc.cluster.local``, plus ``SVC`` for the pod's own
  namespace, and is rewritten in place as Services change. There is no DNS server: programs that
  query DNS directly (``nslookup``) do not see these names.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import random
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from .. import status
from ..objects import Objects
from ..resources import by_plural

PODS, SERVICES, NODES = by_plural("pods"), by_plural("services"), by_plural("nodes")
ENDPOINTS = by_plural("endpoints")
log = logging.getLogger("lab_helpers.sandbox.kubelet")


# -- addresses -----------------------------------------------------------------------------
def _slot(objects: Objects) -> int:
    """This sandbox's place in the address blocks, chosen at random once (and kept), so that two
    sandboxes on one machine (two test runs) rarely hand out the same addresses."""
    store = objects.store
    with store.tx():
        found = store.meta("k8s_net_slot")
        if found is None:
            busy = {ip.split(".")[2] for ip in host_listening_ips() if ip.startswith("127.244.")}
            free = [s for s in range(32) if not any(str(s * 8 + k) in busy for k in range(8))]
            found = str(random.choice(free or list(range(32))))
            store.set_meta("k8s_net_slot", found)
        return int(found)


def node_index(objects: Objects, name: str) -> int:
    """A small number per node, kept in the store: the node's addresses derive from it."""
    store = objects.store
    slot = _slot(objects)
    with store.tx():
        found = store.meta(f"k8s_node_index:{name}")
        if found is not None:
            return int(found)
        count = int(store.meta("k8s_node_index_next") or 0)
        store.set_meta("k8s_node_index_next", str(count + 1))
        index = (slot * 8 + count) % 256
        store.set_meta(f"k8s_node_index:{name}", str(index))
        return index


def node_ip(index: int) -> str:
    """Node ``index``'s InternalIP: ``127.243.<index>.1``."""
    return f"127.243.{index % 256}.1"


def pod_cidr(index: int) -> str:
    return f"127.244.{index % 256}.0/24"


def host_listening_ips() -> set[str]:
    """The IPv4 addresses something on this machine listens on (Linux; empty elsewhere)."""
    out: set[str] = set()
    try:
        lines = open("/proc/net/tcp", encoding="ascii").read().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A":  # LISTEN
            hex_ip = parts[1].split(":")[0]
            out.add(socket.inet_ntoa(struct.pack("<I", int(hex_ip, 16))))
    return out


def pick_pod_ip(cidr: str, taken: set[str]) -> str:
    """The first free address of ``cidr`` from ``.2`` (``.1`` is the node's bridge in a real cluster),
    skipping any address a process on this machine already listens on."""
    net = ipaddress.ip_network(cidr, strict=False)
    busy = host_listening_ips()
    for host in itertools.islice(net.hosts(), 1, None):
        if str(host) not in taken and str(host) not in busy:
            return str(host)
    raise RuntimeError(f"no free pod address left in {cidr}")


def used_pod_ips(objects: Objects) -> set[str]:
    """The addresses of pods that still hold one (a finished pod's address is free again)."""
    pods, _ = objects.list(PODS)
    return {
        p.get("status", {}).get("podIP", "")
        for p in pods
        if p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
    } - {""}


# -- names ---------------------------------------------------------------------------------
HOSTS_HEADER = (
    "# Kubernetes-managed hosts file (the sandbox kubelet's).\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


def service_names(objects: Objects) -> list[tuple[str, str, str]]:
    """(address, service name, namespace) of every Service a pod may resolve; a headless Service
    gives one line per ready endpoint."""
    services, _ = objects.list(SERVICES)
    out = []
    for svc in services:
        meta, spec = svc["metadata"], svc.get("spec", {})
        ip = spec.get("clusterIP") or ""
        if ip == "None":
            for addr, _port in ready_endpoints(objects, meta["namespace"], meta["name"], None):
                out.append((addr, meta["name"], meta["namespace"]))
        elif ip:
            out.append((ip, meta["name"], meta["namespace"]))
    return out


def hosts_file(pod: dict[str, Any], names: list[tuple[str, str, str]]) -> str:
    meta, spec = pod["metadata"], pod.get("spec", {})
    ns = meta.get("namespace", "default")
    lines = [HOSTS_HEADER]
    ip = pod.get("status", {}).get("podIP", "")
    hostname = spec.get("hostname") or meta["name"]
    if ip:
        fqdn = f"{hostname}.{spec['subdomain']}.{ns}.svc.cluster.local\t" if spec.get("subdomain") else ""
        lines.append(f"{ip}\t{fqdn}{hostname}\n")
    for alias in spec.get("hostAliases") or []:
        lines.append(f"{alias.get('ip', '')}\t{' '.join(alias.get('hostnames') or [])}\n")
    lines.append("# Services of the sandbox cluster (a real cluster's DNS answers these names)\n")
    for addr, name, svc_ns in names:
        short = f"{name} " if svc_ns == ns and name != hostname else ""  # the pod's own name stays its own
        lines.append(f"{addr}\t{short}{name}.{svc_ns} {name}.{svc_ns}.svc {name}.{svc_ns}.svc.cluster.local\n")
    return "".join(lines)


def resolv_conf(namespace: str) -> str:
    return (
        f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 127.0.0.1\n"
        "options ndots:5 attempts:1 timeout:1\n"
    )


# -- endpoints -----------------------------------------------------------------------------
def _pod_ready(pod: dict[str, Any]) -> bool:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in pod.get("status", {}).get("conditions") or []
    )


def _target_port(pod: dict[str, Any], target: Any) -> int | None:
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in pod.get("spec", {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p.get("containerPort", 0))
    return None


def ready_endpoints(
    objects: Objects, namespace: str, name: str, svc_port: dict[str, Any] | None
) -> list[tuple[str, int]]:
    """(address, port) of every ready endpoint of a Service's port (any port when ``svc_port`` is None):
    from its Endpoints object (the endpoints controller's), else from the ready pods its selector picks."""
    ep = objects.get(ENDPOINTS, namespace, name)
    if ep is not None:
        out = []
        for subset in ep.get("subsets") or []:
            ports = subset.get("ports") or []
            if svc_port is None:
                port = ports[0] if ports else {"port": 0}
            else:
                port = next((p for p in ports if p.get("name", "") == svc_port.get("name", "")), None)
                if port is None and len(ports) == 1:
                    port = ports[0]
            if port is None:
                continue
            out += [(a["ip"], int(port.get("port", 0))) for a in subset.get("addresses") or [] if a.get("ip")]
        return out
    svc = objects.get(SERVICES, namespace, name)
    selector = (svc or {}).get("spec", {}).get("selector") or {}
    if not selector:
        return []
    pods, _ = objects.list(PODS, namespace)
    out = []
    for pod in pods:
        labels = pod.get("metadata", {}).get("labels") or {}
        if not all(labels.get(k) == v for k, v in selector.items()) or not _pod_ready(pod):
            continue
        ip = pod.get("status", {}).get("podIP")
        target = (svc_port or {}).get("targetPort", (svc_port or {}).get("port", 0))
        port = _target_port(pod, target)
        if ip and port:
            out.append((ip, port))
    return out


_turns: dict[tuple[str, str, str], itertools.count[int]] = {}
_turns_lock = threading.Lock()


def _next_turn(key: tuple[str, str, str]) -> int:
    with _turns_lock:
        return next(_turns.setdefault(key, itertools.count()))


def _service_port(svc: dict[str, Any], port: str) -> dict[str, Any] | None:
    ports = svc.get("spec", {}).get("ports") or []
    if not port:
        return ports[0] if ports else None
    for p in ports:
        if p.get("name") == port or str(p.get("port")) == port:
            return dict(p)
    return None


def pick(objects: Objects, namespace: str, name: str, svc_port: dict[str, Any]) -> tuple[str, int] | None:
    """One ready endpoint of the Service's port, in turn; None when it has none."""
    found = ready_endpoints(objects, namespace, name, svc_port)
    if not found:
        return None
    found.sort()
    return found[_next_turn((namespace, name, str(svc_port.get("port")))) % len(found)]


def service_target(objects: Objects, namespace: str, name: str, port: str) -> tuple[str, int]:
    """Where the API server's service proxy sends a request for ``services/NAME:PORT/proxy``:
    a ready endpoint's (address, port). 404 for an unknown Service, 503 when nothing is ready."""
    svc = objects.need(SERVICES, namespace, name)
    svc_port = _service_port(svc, port)
    if svc_port is None:
        raise status.status_error(503, f'no service port "{port}" found for service "{name}"', "ServiceUnavailable")
    target = pick(objects, namespace, name, svc_port)
    if target is None:
        raise status.status_error(503, f'no endpoints available for service "{name}"', "ServiceUnavailable")
    return target


# -- Service listeners ---------------------------------------------------------------------
def _reset(conn: socket.socket) -> None:
    """Close with a reset: the client sees "connection refused/reset", as with kube-proxy's reject rule."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until both sides have closed (half-closes passed on)."""
    sel = selectors.DefaultSelector()
    peer = {a: b, b: a}
    for s in (a, b):
        sel.register(s, selectors.EVENT_READ)
    open_reads = 2
    try:
        while open_reads:
            for key, _ in sel.select(timeout=3600):
                src = key.fileobj
                assert isinstance(src, socket.socket)
                try:
                    data = src.recv(65536)
                except OSError:
                    return
                if not data:
                    sel.unregister(src)
                    open_reads -= 1
                    try:
                        peer[src].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                try:
                    peer[src].sendall(data)
                except OSError:
                    return
    finally:
        sel.close()
        a.close()
        b.close()


class PortListener:
    """One listening address:port of a Service; each connection goes to ``route()``'s endpoint."""

    def __init__(self, address: str, port: int, route: Callable[[], tuple[str, int] | None]) -> None:
        self.address, self.port, self.route = address, port, route
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((address, port))
            self.sock.listen(128)
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(0.5)
        self.closed = threading.Event()
        threading.Thread(target=self._serve, name=f"svc-{address}:{port}", daemon=True).start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _forward(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        try:
            target = self.route()
        except Exception:  # noqa: BLE001 - a broken lookup refuses this connection only
            log.exception("service route for %s:%s", self.address, self.port)
            target = None
        if target is None:
            _reset(conn)
            return
        try:
            upstream = socket.create_connection(target, timeout=5)
        except OSError:
            _reset(conn)
            return
        upstream.settimeout(None)
        for sock in (conn, upstream):  # a relay passes each piece on at once, as the kernel's NAT would
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _pump(conn, upstream)

    def close(self) -> None:
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept loop now, so the port is free at once
        except OSError:
            pass
        self.sock.close()


def listen_error_hint(port: int, exc: OSError) -> str:
    if isinstance(exc, PermissionError) and port < 1024:
        return (
            f"ports below 1024 need privileges; to let the sandbox listen on {port}, run once: "
            f"sudo sysctl -w net.ipv4.ip_unprivileged_port_start={port}"
        )
    return str(exc)
