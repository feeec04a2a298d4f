"""The kubelet of every node: pods' containers run as local processes; logs, probes, restarts,
volumes; node readiness from the node's VM; the registry's images; Service addresses.

One :class:`Kubelet` per sandbox service follows the object journal (pods, nodes, Services,
endpoints, ConfigMaps, Secrets) and gives each pod bound to one of its nodes a worker thread
(``pods.py``). Its state lives under ``<sandbox>/kubelet/``: the image layers it wrote and one
folder per pod (volumes, ``/etc/hosts``, each container's log and shim state). When the service
stops, every container is stopped with it; when the service was killed instead, the next kubelet
kills what the last one left running and starts those containers again (restart count + 1).

Modules: ``pods`` (a pod's life) and ``pod_status`` (the status it posts), ``process`` and
``shim`` (containers as processes, isolation), ``registry`` (images), ``environment``,
``volumes``, ``probes``, ``logs`` (``kubectl logs``), ``execs`` (``kubectl exec``), ``nodes``
(node status, leases), ``network`` (addresses, names, endpoints) and ``proxy`` (Service
listeners).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ....config import pod_start_seconds
from ...errors import ApiError
from ..objects import Objects
from . import execs, network, nodes, process, registry
from .network import NODES, PODS
from .pods import PodWorker
from .proxy import ServiceProxy

log = logging.getLogger("lab_helpers.sandbox.kubelet")

WATCHED = ("Pod", "Node", "Service", "Endpoints", "EndpointSlice", "ConfigMap", "Secret")
SHUTDOWN_GRACE_S = 2.0  # how long containers get to exit when the sandbox stops, before SIGKILL


class Kubelet:
    def __init__(self, objects: Objects, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
        self.objects = objects
        self.state_dir = Path(state_dir)
        registry.use_state_dir(self.state_dir)  # the images builds pushed to this sandbox's registry
        self.root = self.state_dir / "kubelet"
        self.pods_dir = self.root / "pods"
        self.pods_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        os.chmod(self.pods_dir, 0o755)
        self.watch_file = self.state_dir / "cloud.sqlite"
        self.urls = dict(urls)
        self.stopping = stopping
        self.start_s = pod_start_seconds()
        self.isolation = process.Isolation("none", "not probed yet")
        self.workers: dict[str, PodWorker] = {}
        self.finished: set[str] = set()
        self.lock = threading.RLock()
        self.machines: dict[str, str] = {}
        self.images: dict[str, dict[str, int]] = {}
        self.ips: dict[str, str] = {}
        self.layers: dict[str, Path] = {}
        self.proxy = ServiceProxy(objects, self.urls.get("kubernetes", ""))
        self._names: list[tuple[str, str, str]] | None = None

    # -- what pod workers ask --------------------------------------------------------------
    def machine(self, node: str) -> str:
        with self.lock:
            return self.machines.get(node, "down")

    def node_ip(self, node: str) -> str:
        return network.node_ip(network.node_index(self.objects, node))

    def allocatable(self, node: str) -> dict[str, Any]:
        obj = self.objects.get(NODES, "", node) or {}
        return dict((obj.get("status") or {}).get("allocatable") or {})

    def allocate_ip(self, node: str, uid: str) -> str:
        with self.lock:
            if uid in self.ips:
                return self.ips[uid]
            obj = self.objects.get(NODES, "", node) or {}
            cidr = obj.get("spec", {}).get("podCIDR") or network.pod_cidr(network.node_index(self.objects, node))
            taken = network.used_pod_ips(self.objects) | set(self.ips.values())
            ip = network.pick_pod_ip(cidr, taken)
            self.ips[uid] = ip
            return ip

    def release_ip(self, uid: str) -> None:
        with self.lock:
            self.ips.pop(uid, None)

    def has_image(self, node: str, ref: str) -> bool:
        with self.lock:
            return ref in self.images.get(node, {})

    def add_image(self, node: str, ref: str, image: registry.Image) -> None:
        with self.lock:
            self.images.setdefault(node, {})[ref] = image.size

    def node_images(self, node: str) -> list[dict[str, Any]]:
        with self.lock:
            held = dict(self.images.get(node, {}))
        out = []
        for ref, size in sorted(held.items()):
            parsed = registry.parse(ref)
            out.append({"names": [registry.image_id(parsed), ref], "sizeBytes": size})
        return out

    def layer(self, image: registry.Image) -> Path:
        """The image's files, written once per kubelet run."""
        with self.lock:
            if image.layer_name not in self.layers:
                own = self.isolation.own_root
                busybox = shutil.which("busybox")
                if image.course_python and not own and os.geteuid() == 0:
                    # plain processes run as uid 65534 in the host's files: let it reach the course's
                    # interpreter (search permission on the folders above it, as for the state folder)
                    process.open_path(Path(os.path.realpath(sys.executable)).parent)
                self.layers[image.layer_name] = registry.materialize(
                    image,
                    self.root / "images",
                    process.image_python(own),
                    inside=own,
                    busybox=os.path.realpath(busybox) if busybox else None,
                    course_python=sys.executable,
                )
            return self.layers[image.layer_name]

    def python_prefixes(self, image: registry.Image) -> list[str]:
        """The installed Python folders a container of ``image`` needs in its own root: the base
        interpreter's (stand-ins), and the course's environment (its ``python: course`` and packages)."""
        out = [os.path.realpath(sys.base_prefix)] if image.needs_python or image.needs_course_packages else []
        if image.needs_course_packages and os.path.realpath(sys.prefix) not in out:
            out.append(os.path.realpath(sys.prefix))
        package = Path(__file__).resolve().parents[3]  # a checkout's lab_helpers (and data/) is outside the environment
        if image.course_python and not package.is_relative_to(os.path.realpath(sys.prefix)):
            out += [str(p) for p in (package, package.parent / "data") if p.is_dir()]
        return out

    def ca_bytes(self) -> bytes:
        try:
            return (self.state_dir / "pki" / "ca.crt").read_bytes()
        except OSError:
            return b""

    def simulated_note(self) -> str:
        return self.isolation.summary()

    def service_names(self) -> list[tuple[str, str, str]]:
        with self.lock:
            if self._names is None:
                self._names = network.service_names(self.objects)
            return list(self._names)

    def exec_in(self, proc: process.Process, argv: list[str], timeout: float) -> tuple[int, bytes]:
        """Run ``argv`` inside the running container of ``proc`` (exec probes): exit code and output."""
        done = execs.in_process(proc, argv, timeout)
        return done.code, done.stdout + done.stderr

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.isolation = process.isolation(self.root)
            log.info("kubelet: containers isolated as %r %s", self.isolation.mode, self.isolation.why)
            if not self.isolation.own_root and os.geteuid() == 0:
                process.open_path(self.pods_dir)
            left = process.stop_leftovers(self.pods_dir)
            if left:
                log.info("kubelet: stopped %d containers a killed service left running", len(left))
            self._recover_images()
            self._collect_folders()
            rv = self.objects.current_rv()
            self._resync()
            last_beat = last_machines = time.monotonic()
            while not self.stopping.is_set():
                if self.objects.wait(rv, 1.0):
                    try:
                        changes = self.objects.changes_since(rv)
                    except ApiError:  # the journal moved on (410): look at everything again
                        rv = self.objects.current_rv()
                        self._resync()
                        continue
                    kinds: set[str] = set()
                    for new_rv, _kind, obj in changes:
                        rv = max(rv, new_rv)
                        kind = obj.get("kind", "")
                        if kind in WATCHED:
                            kinds.add(kind)
                            self._dispatch(kind, obj)
                    self._after(kinds)
                now = time.monotonic()
                if now - last_machines > 2.0:
                    last_machines = now
                    self._sync_nodes(force=False)
                if now - last_beat > nodes.HEARTBEAT_S:
                    last_beat = now
                    self._sync_nodes(force=True)
        except Exception:  # noqa: BLE001
            log.exception("kubelet loop")
        finally:
            self._shutdown()

    def _recover_images(self) -> None:
        found, _ = self.objects.list(NODES)
        with self.lock:
            for node in found:
                held = self.images.setdefault(node["metadata"]["name"], {})
                for entry in (node.get("status") or {}).get("images") or []:
                    names = [n for n in entry.get("names") or [] if "@" not in n]
                    for name in names:
                        held[name] = int(entry.get("sizeBytes") or 0)

    def _resync(self) -> None:
        self._sync_nodes(force=True)
        self.proxy.sync()
        pods, _ = self.objects.list(PODS)
        for pod in pods:
            self._pod(pod)

    def _dispatch(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "Pod":
            latest = self.objects.get(PODS, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            uid = obj["metadata"].get("uid", "")
            worker = self.workers.get(uid)
            if worker is not None:
                worker.notify()
            if latest is not None:
                self._pod(latest)
            elif worker is None or worker.done.is_set():
                self._forget(uid)  # a pod removed after its worker ended (a finished one): its folder goes
        elif kind in ("ConfigMap", "Secret"):
            ns = obj["metadata"].get("namespace", "")
            for worker in list(self.workers.values()):
                if worker.namespace == ns:
                    worker.notify()
        elif kind == "Node":
            self._sync_node(obj["metadata"]["name"], force=False)
            pods, _ = self.objects.list(PODS)
            for pod in pods:
                if pod.get("spec", {}).get("nodeName") == obj["metadata"]["name"]:
                    self._pod(pod)

    def _after(self, kinds: set[str]) -> None:
        if kinds & {"Service", "Endpoints", "EndpointSlice", "Node"}:
            self.proxy.sync()
        if kinds & {"Service", "Endpoints", "EndpointSlice"}:
            with self.lock:
                self._names = None
            names = self.service_names()
            for worker in list(self.workers.values()):
                worker.refresh_names(names)

    def _pod(self, pod: dict[str, Any]) -> None:
        meta, spec = pod["metadata"], pod.get("spec", {})
        uid, node = meta.get("uid", ""), spec.get("nodeName")
        with self.lock:
            worker = self.workers.get(uid)
            if worker is not None:
                if not worker.done.is_set():
                    return
                self.workers.pop(uid)
                self.ips.pop(uid, None)
                if not worker.crashed:
                    self.finished.add(uid)
                    return
                if time.monotonic() - worker.ended < 5.0:
                    self.workers[uid] = worker  # a worker that failed is tried again, not at once
                    return
            if not node or uid in self.finished or self.stopping.is_set():
                return
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                self.finished.add(uid)
                return
            if self.objects.get(NODES, "", node) is None:
                return
            if node not in self.machines:
                self._sync_node(node, force=False)
            worker = PodWorker(self, pod)
            if worker.pod_ip:
                self.ips[uid] = worker.pod_ip
            self.workers[uid] = worker
        worker.start()

    def _forget(self, uid: str) -> None:
        with self.lock:
            self.workers.pop(uid, None)
            self.finished.discard(uid)
            self.ips.pop(uid, None)
        shutil.rmtree(self.pods_dir / uid, ignore_errors=True)

    def _collect_folders(self) -> None:
        """Remove the folders of pods that no longer exist (removed while the service was down)."""
        pods, _ = self.objects.list(PODS)
        alive = {p["metadata"].get("uid") for p in pods}
        for folder in self.pods_dir.iterdir() if self.pods_dir.is_dir() else []:
            if folder.name not in alive:
                shutil.rmtree(folder, ignore_errors=True)

    def _sync_nodes(self, force: bool) -> None:
        found, _ = self.objects.list(NODES)
        names = {n["metadata"]["name"] for n in found}
        for name in names:
            self._sync_node(name, force)
        with self.lock:
            for gone in [n for n in self.machines if n not in names]:
                self.machines.pop(gone)
        retry = []
        with self.lock:
            for uid, worker in list(self.workers.items()):
                if worker.done.is_set() and not worker.crashed:
                    self.workers.pop(uid)
                    self.finished.add(uid)
                    self.ips.pop(uid, None)
                elif worker.done.is_set() and time.monotonic() - worker.ended > 5.0:
                    retry.append(worker)
                elif self.machines.get(worker.node) != "up":
                    worker.notify()
        for worker in retry:
            pod = self.objects.get(PODS, worker.namespace, worker.name)
            if pod is not None:
                self._pod(pod)

    def _sync_node(self, name: str, force: bool) -> None:
        try:
            state = nodes.sync(self.objects, name, self.node_images(name), self.simulated_note(), force)
        except ApiError:
            return
        if force and state == "up":
            try:
                nodes.renew_lease(self.objects, name)
            except ApiError:
                pass
        with self.lock:
            before = self.machines.get(name)
            self.machines[name] = state
        if before is not None and before != state:
            for worker in list(self.workers.values()):
                if worker.node == name:
                    worker.notify()

    def _shutdown(self) -> None:
        """Stop every container (SIGTERM, then SIGKILL after a moment) and every Service listener."""
        self.proxy.close()
        running: list[process.Process] = []
        for worker in list(self.workers.values()):
            running += worker.stop_processes()
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        for proc in running:
            if not proc.wait(max(0.0, deadline - time.monotonic())):
                proc.kill()
        for proc in running:
            proc.wait(2.0)


def start(objects: Objects, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
    """Start the kubelet's threads; they stop (and stop their pods' processes) when ``stopping`` is set.

    The main thread is not a daemon: the service process waits for it to have stopped the
    containers before it exits."""
    kubelet = Kubelet(objects, state_dir, urls, stopping)
    threading.Thread(target=kubelet.run, name="kubelet", daemon=False).start()
