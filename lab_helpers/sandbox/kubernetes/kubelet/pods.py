"""One pod's life on its node, as the kubelet's pod worker drives it, on a thread of its own.

``Pending`` with every container waiting in ``ContainerCreating`` for the configured start delay
(``LAB_POD_START_S``: the sandbox and the image pull), volumes set up (a missing ConfigMap is a
``FailedMount`` event and a wait), the pod's address; then each image "pulled" from the registry
(``Pulling``/``Pulled``, or ``ErrImagePull`` then ``ImagePullBackOff``), the init containers in
order, then every container started as a process (``Created``/``Started``). Exits are real exit
codes; ``restartPolicy`` decides what happens next, with the kubelet's back-off: the first restart
at once, then 10 s, doubling to 5 minutes (``CrashLoopBackOff``), reset after 10 minutes without a
crash. Probes gate ``ready`` and restart a container that fails liveness. Deletion sends the
image's stop signal (SIGTERM, nginx's SIGQUIT), waits for the grace period, kills what is left,
posts the final status and removes the pod (grace 0).

The status is written only when it changed, as a whole (``status`` of the pod), in one store
transaction, so the API's writers and this thread never overwrite each other's fields.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from ...errors import ApiError
from .. import events
from ..objects import Objects, rfc3339
from . import environment, network, registry, volumes
from .logs import recent
from .network import PODS
from .pod_status import (
    Container,
    container_id,
    init_failed,
    low_port,
    pod_status,
    should_restart,
    stamp,
    without_times,
)
from .probes import Prober
from .process import NOBODY, SIMULATED_KEY, Isolation, Process

log = logging.getLogger("lab_helpers.sandbox.kubelet")

BACKOFF_START_S = 10.0
BACKOFF_MAX_S = 300.0
ERR_IMAGE_PULL_SHOWN_S = 1.0  # how long a failed pull shows ErrImagePull before ImagePullBackOff
DEFAULT_CAPS = (
    "chown",
    "dac_override",
    "fsetid",
    "fowner",
    "mknod",
    "net_raw",
    "setgid",
    "setuid",
    "setfcap",
    "setpcap",
    "net_bind_service",
    "sys_chroot",
    "kill",
    "audit_write",
)
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGQUIT": signal.SIGQUIT, "SIGINT": signal.SIGINT, "SIGKILL": signal.SIGKILL}
SYSTEM_TOPS = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/etc/", "/opt/")


class Host(Protocol):
    """What a pod worker asks of its kubelet (``kubelet.Kubelet``)."""

    objects: Objects
    pods_dir: Path
    watch_file: Path
    start_s: float
    isolation: Isolation
    stopping: threading.Event

    def machine(self, node: str) -> str: ...
    def node_ip(self, node: str) -> str: ...
    def allocatable(self, node: str) -> dict[str, Any]: ...
    def allocate_ip(self, node: str, uid: str) -> str: ...
    def release_ip(self, uid: str) -> None: ...
    def has_image(self, node: str, ref: str) -> bool: ...
    def add_image(self, node: str, ref: str, image: registry.Image) -> None: ...
    def layer(self, image: registry.Image) -> Path: ...
    def python_prefixes(self, image: registry.Image) -> list[str]: ...
    def ca_bytes(self) -> bytes: ...
    def simulated_note(self) -> str: ...
    def service_names(self) -> list[tuple[str, str, str]]: ...
    def exec_in(self, proc: Process, argv: list[str], timeout: float) -> tuple[int, bytes]: ...


class PodWorker:
    def __init__(self, kubelet: Host, pod: dict[str, Any]) -> None:
        self.kubelet = kubelet
        self.objects = kubelet.objects
        meta = pod["metadata"]
        self.uid, self.namespace, self.name = meta["uid"], meta.get("namespace", "default"), meta["name"]
        self.node = pod["spec"]["nodeName"]
        self.pod = pod
        self.wake = threading.Event()
        self.done = threading.Event()
        self.dir = kubelet.pods_dir / self.uid
        spec = pod.get("spec", {})
        self.inits = [Container(c, True) for c in spec.get("initContainers") or []]
        self.mains = [Container(c, False) for c in spec.get("containers") or []]
        self.created_at: float | None = None
        self.sandbox_ready = False
        self.pod_ip = ""
        self.folders: dict[str, Path] | None = None
        self.last_status: dict[str, Any] | None = None
        self.start_time: str | None = None
        self.mount_reported = 0.0
        self.machine_down = False
        self.crashed = False
        self.ended = 0.0
        self._recover(pod)
        self.thread = threading.Thread(target=self._run, name=f"pod-{self.namespace}/{self.name}", daemon=True)

    # -- recovery after the service restarted ----------------------------------------------
    def _recover(self, pod: dict[str, Any]) -> None:
        """Pick up a pod this kubelet ran before the service stopped: its address, its containers'
        restart counts and last exits; their processes are gone, so they start again (count + 1)."""
        st = pod.get("status") or {}
        if not st.get("podIP") or not st.get("startTime"):
            return
        self.created_at = 0.0
        self.sandbox_ready = True
        self.pod_ip = st["podIP"]
        self.start_time = st["startTime"]
        by_name = {
            cs.get("name"): cs for cs in (st.get("containerStatuses") or []) + (st.get("initContainerStatuses") or [])
        }
        resumed = False
        for c in self.inits + self.mains:
            cs = by_name.get(c.name)
            if not cs:
                continue
            state = cs.get("state") or {}
            c.instance = int(cs.get("restartCount") or 0)
            c.last_terminated = (cs.get("lastState") or {}).get("terminated")
            c.ever_started = bool(state.get("running") or state.get("terminated") or c.last_terminated)
            if cs.get("imageID"):
                c.pulled_image = c.spec.get("image", "")
            if state.get("terminated"):
                c.terminated = dict(state["terminated"])
            elif state.get("waiting") and c.last_terminated:
                c.terminated, c.last_terminated = dict(c.last_terminated), None
            elif state.get("running"):
                shim = Process(self.dir / "containers" / c.name, c.instance).state()
                c.terminated = {
                    "exitCode": int(shim.get("exitCode", 137)),
                    "reason": "Error" if int(shim.get("exitCode", 137)) else "Completed",
                    "startedAt": state["running"].get("startedAt"),
                    "finishedAt": stamp(shim.get("finishedAt") or time.time()),
                    "containerID": cs.get("containerID", ""),
                }
                resumed = True
        if resumed:
            self.note_event("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")

    # -- the loop --------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def notify(self) -> None:
        self.wake.set()

    def _run(self) -> None:
        try:
            while True:
                self.wake.clear()
                pod = self.objects.get(PODS, self.namespace, self.name)
                if pod is None or pod["metadata"].get("uid") != self.uid:
                    self._kill_all(0)
                    self._cleanup()
                    return
                self.pod = pod
                if self.kubelet.stopping.is_set():
                    return  # the kubelet stops every process itself, all at once
                machine = self.kubelet.machine(self.node)
                if pod["metadata"].get("deletionTimestamp") and machine == "up":
                    self._terminate(pod)
                    return
                if machine != "up":
                    # A down node's kubelet confirms no deletion: its pods stay Terminating until the
                    # machine is back, the Node is deleted (the pod garbage collector) or a client forces it.
                    if not self.machine_down:
                        self.machine_down = True
                        self._kill_all(0)  # the node's machine is down: so are its processes
                    self.wake.wait(2.0)
                    continue
                if self.machine_down:
                    self.machine_down = False
                    self._restart_after_outage()
                delay = self._step(pod)
                if delay is None:
                    return
                self.wake.wait(max(0.02, min(delay, 30.0)))
        except Exception:  # noqa: BLE001 - a pod's failure must not take the kubelet down
            log.exception("pod worker %s/%s", self.namespace, self.name)
            self.crashed = True
        finally:
            self.ended = time.monotonic()
            self.done.set()

    def _restart_after_outage(self) -> None:
        for c in self.inits + self.mains:
            if c.process is not None:
                self._collect(c)

    # -- one pass ------------------------------------------------------------------------------
    def _step(self, pod: dict[str, Any]) -> float | None:
        now = time.time()
        if self.created_at is None:
            self.created_at = now
            self.start_time = rfc3339(now)
            self._annotate(pod)
            self._write(pod)
        if not self._volumes(pod):
            self._write(pod)
            return 2.0
        ready_at = (self.created_at or 0) + self.kubelet.start_s
        if not self.sandbox_ready:
            if now < ready_at:
                self._write(pod)
                return ready_at - now
            self.pod_ip = self.kubelet.allocate_ip(self.node, self.uid)
            self.sandbox_ready = True
        self._write_names(pod)
        waits = [30.0]
        for c in self.inits:
            if c.sidecar and c.ever_started:
                waits.append(self._advance(pod, c))  # a sidecar that ended starts again, as it must
                if c.done_initializing:
                    c.notes["up"] = time.time()
                if "up" not in c.notes:  # the next ones wait for its first start (its startup probe)
                    self._write(pod)
                    return min(waits)
                continue
            if c.succeeded:
                continue
            waits.append(self._advance(pod, c))
            if self._init_failed(pod):
                break
            self._write(pod)
            if c.done_initializing:
                return 0.0  # the next init container starts at once
            return min(waits)
        if not self._init_failed(pod):
            for c in self.mains:
                waits.append(self._advance(pod, c))
        status = self._status(pod)
        sidecars = [c for c in self.inits if c.sidecar and c.running]
        if status.get("phase") in ("Succeeded", "Failed") and sidecars:
            self._kill_all(self._grace(pod), sidecars)  # the containers are done: their sidecars stop, then the pod
            for c in sidecars:
                self._collect(c)
            status = self._status(pod, deleting=True)
        self._post(status)
        if status.get("phase") in ("Succeeded", "Failed"):
            for c in self.inits + self.mains:
                if c.prober:
                    c.prober.close()
            return None
        return min(waits)

    def _init_failed(self, pod: dict[str, Any]) -> bool:
        return init_failed(pod.get("spec", {}).get("restartPolicy", "Always"), self.inits)

    # -- volumes, names ------------------------------------------------------------------------
    def _volumes(self, pod: dict[str, Any]) -> bool:
        try:
            self.folders = volumes.prepare(
                self.objects, pod, self.dir, self.kubelet.ca_bytes(), self.kubelet.allocatable(self.node), None
            )
        except volumes.MountError as exc:
            now = time.time()
            if now - self.mount_reported > 10:
                self.mount_reported = now
                self.note_event("FailedMount", str(exc), "Warning")
            return False
        return True

    def _write_names(self, pod: dict[str, Any]) -> None:
        etc = self.dir / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        view = dict(pod, status=dict(pod.get("status") or {}, podIP=self.pod_ip))
        write_in_place(etc / "hosts", network.hosts_file(view, self.kubelet.service_names()))
        hostname = pod.get("spec", {}).get("hostname") or self.name
        write_in_place(etc / "hostname", hostname + "\n")
        write_in_place(etc / "resolv.conf", network.resolv_conf(self.namespace))

    def refresh_names(self, names: list[tuple[str, str, str]]) -> None:
        """Rewrite /etc/hosts in place (a bind mount keeps showing the same file) after Services changed."""
        hosts = self.dir / "etc" / "hosts"
        if self.sandbox_ready and hosts.exists():
            view = dict(self.pod, status=dict(self.pod.get("status") or {}, podIP=self.pod_ip))
            write_in_place(hosts, network.hosts_file(view, names))

    def _annotate(self, pod: dict[str, Any]) -> None:
        note = self.kubelet.isolation.summary()
        if any("persistentVolumeClaim" in v for v in pod.get("spec", {}).get("volumes") or [] if isinstance(v, dict)):
            note += (
                "; persistentVolumeClaim volumes are folders kept with their cloud volume under the sandbox's "
                "state (no file system on a block device; writes past the volume's size are not refused)"
            )
        if (pod["metadata"].get("annotations") or {}).get(SIMULATED_KEY) == note:
            return
        with self.objects.store.tx():
            current = self.objects.get(PODS, self.namespace, self.name)
            if current is None or current["metadata"].get("uid") != self.uid:
                return
            current["metadata"].setdefault("annotations", {})[SIMULATED_KEY] = note
            self.objects.update(PODS, current, check_rv=False)

    # -- one container -------------------------------------------------------------------------
    def _advance(self, pod: dict[str, Any], c: Container) -> float:
        """Move one container along; returns the seconds until it next needs attention."""
        now = time.time()
        if c.running:
            changed = c.pulled_image and c.spec.get("image") != self._spec_of(pod, c).get("image")
            if changed and c.kill_reason != "definition changed":
                self.note_event("Killing", f"Container {c.name} definition changed, will be restarted", ref=c)
                c.kill_reason = "definition changed"
                threading.Thread(
                    target=self._stop_container, args=(c, self._grace(pod), c.kill_reason), daemon=True
                ).start()
            return 30.0
        if c.process is not None:
            self._collect(c)
        c.spec = self._spec_of(pod, c) or c.spec
        if c.terminated is not None and c.kill_reason != "definition changed":
            if not self._should_restart(pod, c):
                return 60.0
            wait = self._backoff(pod, c, now)
            if wait > 0:
                return wait
        if not self._pull(pod, c):
            if not c.image_backoff_until:
                return 5.0
            shown = c.image_failed_at + ERR_IMAGE_PULL_SHOWN_S
            until = shown if time.time() < shown else c.image_backoff_until
            return max(0.05, until - time.time())
        return self._start(pod, c)

    def _spec_of(self, pod: dict[str, Any], c: Container) -> dict[str, Any]:
        key = "initContainers" if c.init else "containers"
        return next((s for s in pod.get("spec", {}).get(key) or [] if s.get("name") == c.name), c.spec)

    def _should_restart(self, pod: dict[str, Any], c: Container) -> bool:
        return should_restart(pod.get("spec", {}).get("restartPolicy", "Always"), c)

    def _backoff(self, pod: dict[str, Any], c: Container, now: float) -> float:
        """The kubelet's crash back-off: 0 to restart now, else the seconds left (waiting CrashLoopBackOff)."""
        finished = (c.terminated or {}).get("_finished", now)
        if c.backoff is None or finished - c.backoff_updated > 2 * BACKOFF_MAX_S:
            c.backoff = BACKOFF_START_S
            c.backoff_updated = now
            return 0.0
        until = finished + c.backoff
        if now < until:
            message = (
                f"back-off {registry.go_duration(c.backoff)} restarting failed container={c.name} "
                f"pod={self.name}_{self.namespace}({self.uid})"
            )
            c.waiting = ("CrashLoopBackOff", message)
            if c.backoff_reported < finished:
                c.backoff_reported = now
                self.note_event(
                    "BackOff",
                    f"Back-off restarting failed container {c.name} in pod {self.name}_{self.namespace}({self.uid})",
                    "Warning",
                    ref=c,
                )
            return until - now
        c.backoff = min(2 * c.backoff, BACKOFF_MAX_S)
        c.backoff_updated = now
        return 0.0

    def _pull(self, pod: dict[str, Any], c: Container) -> bool:
        image = str(c.spec.get("image", ""))
        if c.pulled_image == image and c.image is not None:
            return True
        try:
            ref = registry.parse(image)
        except registry.InvalidImageName as exc:
            message = f'Failed to apply default image tag "{image}": {exc}'
            if c.waiting[0] != "InvalidImageName":
                self.note_event("InspectFailed", message, "Warning", ref=c)
                self.note_event("Failed", "Error: InvalidImageName", "Warning", ref=c)
            c.waiting = ("InvalidImageName", message)
            return False
        now = time.time()
        policy = c.spec.get("imagePullPolicy") or (
            "Always" if ref.tag == "latest" and not ref.digest else "IfNotPresent"
        )
        present = self.kubelet.has_image(self.node, str(ref))
        found = registry.lookup(ref)
        if policy == "Never" or (policy == "IfNotPresent" and present):
            if not present or found is None:
                message = f'Container image "{image}" is not present with pull policy of Never'
                if c.waiting[0] != "ErrImageNeverPull":
                    self.note_event("ErrImageNeverPull", message, "Warning", ref=c)
                    self.note_event("Failed", "Error: ErrImageNeverPull", "Warning", ref=c)
                c.waiting = ("ErrImageNeverPull", message)
                return False
            self.note_event("Pulled", f'Container image "{image}" already present on machine', ref=c)
        else:
            if c.image_backoff is not None and now < c.image_backoff_until:
                if now < c.image_failed_at + ERR_IMAGE_PULL_SHOWN_S:
                    return False  # ErrImagePull stays a moment, as until the kubelet's next sync
                c.waiting = ("ImagePullBackOff", f'Back-off pulling image "{image}": ErrImagePull: {c.image_error}')
                if c.notes.get("image-backoff", 0) < c.image_backoff_until - c.image_backoff:
                    c.notes["image-backoff"] = now
                    self.note_event("BackOff", f'Back-off pulling image "{image}"', ref=c)
                    self.note_event("Failed", "Error: ImagePullBackOff", "Warning", ref=c)
                return False
            self.note_event("Pulling", f'Pulling image "{image}"', ref=c)
            if found is None:
                c.image_error = registry.pull_error(ref)
                self.note_event("Failed", f'Failed to pull image "{image}": {c.image_error}', "Warning", ref=c)
                self.note_event("Failed", "Error: ErrImagePull", "Warning", ref=c)
                c.image_backoff = (
                    BACKOFF_START_S if c.image_backoff is None else min(2 * c.image_backoff, BACKOFF_MAX_S)
                )
                c.image_backoff_until = now + c.image_backoff
                c.image_failed_at = now
                c.waiting = ("ErrImagePull", c.image_error)
                return False
            took = registry.go_duration(max(0.0, now - (self.created_at or now)) if not c.ever_started else 0.0)
            self.note_event(
                "Pulled",
                f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {found.size} bytes.',
                ref=c,
            )
            self.kubelet.add_image(self.node, str(ref), found)
        c.image_ref, c.image, c.pulled_image = ref, found, image
        c.image_backoff, c.image_error = None, ""
        return True

    # -- starting ------------------------------------------------------------------------------
    def _identity(self, pod: dict[str, Any], c: Container) -> tuple[int | None, int | None, list[int], list[str]]:
        """(uid, gid, groups, capabilities) the container's process runs with."""
        iso = self.kubelet.isolation
        if os.geteuid() != 0 or iso.mode == "userns":
            return None, None, [], []
        pod_sc = pod.get("spec", {}).get("securityContext") or {}
        sc = c.spec.get("securityContext") or {}
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        uid = NOBODY if uid is None else int(uid)
        gid = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
        gid = (NOBODY if uid == NOBODY else 0) if gid is None else int(gid)
        groups = [int(g) for g in pod_sc.get("supplementalGroups") or []]
        if pod_sc.get("fsGroup") is not None:
            groups.append(int(pod_sc["fsGroup"]))
        caps = list(DEFAULT_CAPS) if uid == 0 else ["net_bind_service"]
        added = [str(x).lower().removeprefix("cap_") for x in ((sc.get("capabilities") or {}).get("add") or [])]
        dropped = [str(x).lower().removeprefix("cap_") for x in ((sc.get("capabilities") or {}).get("drop") or [])]
        if uid == 0:
            caps = [x for x in caps if x not in dropped and "all" not in dropped] + [
                x for x in added if x in DEFAULT_CAPS
            ]
        return uid, gid, groups, caps

    def _stands_in_for_root(self, pod: dict[str, Any], c: Container) -> bool:
        """Whether uid 65534 runs in place of the image's own user (root): no runAsUser was asked for.
        Then the container's ``/`` and working directory are that user's, as they would be root's."""
        pod_sc = pod.get("spec", {}).get("securityContext") or {}
        return (c.spec.get("securityContext") or {}).get("runAsUser", pod_sc.get("runAsUser")) is None

    def _argv(self, c: Container, env: dict[str, str]) -> list[str]:
        image = c.image
        command = c.spec.get("command")
        args = c.spec.get("args")
        if command:
            argv = list(command) + list(args or [])
        else:
            argv = list(image.entrypoint if image else ()) + (
                list(args) if args is not None else list(image.cmd if image else ())
            )
        return [environment.expand(str(a), env) for a in argv]

    def _low_port(self, c: Container) -> int | None:
        if os.geteuid() == 0:
            return None
        try:
            floor = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
        except (OSError, ValueError):
            return None  # not Linux: a normal user may open any port (macOS since 10.14)
        return low_port(c.spec, c.image, floor)

    def _start(self, pod: dict[str, Any], c: Container) -> float:
        iso = self.kubelet.isolation
        try:
            env, warnings = environment.build(
                self.objects,
                dict(pod, status=dict(pod.get("status") or {}, podIP=self.pod_ip)),
                c.spec,
                c.image.env if c.image else (),
                self.kubelet.allocatable(self.node),
            )
        except environment.ConfigError as exc:
            if c.waiting != ("CreateContainerConfigError", str(exc)):
                self.note_event("Failed", f"Error: {exc}", "Warning", ref=c)
            c.waiting = ("CreateContainerConfigError", str(exc))
            return 5.0
        for warning in warnings:
            self.note_event("InvalidEnvironmentVariableNames", warning, "Warning", ref=c)
        low = self._low_port(c)
        if low is not None:
            message = (
                f"the sandbox runs as a normal user and cannot let this container listen on port {low}; "
                f"run once: sudo sysctl -w net.ipv4.ip_unprivileged_port_start={low}"
            )
            if c.waiting != ("CreateContainerError", message):
                self.note_event("Failed", f"Error: {message}", "Warning", ref=c)
            c.waiting = ("CreateContainerError", message)
            return 10.0
        env.setdefault("HOSTNAME", pod.get("spec", {}).get("hostname") or self.name)
        uid, gid, groups, caps = self._identity(pod, c)
        env.setdefault("HOME", "/root" if uid in (0, None) else "/")
        binds = volumes.mounts(c.spec, self.folders or {}, read_only=self._read_only_volumes(pod))
        etc = self.dir / "etc"
        binds += [
            {"source": str(etc / "hosts"), "target": "/etc/hosts"},
            {"source": str(etc / "hostname"), "target": "/etc/hostname"},
            {"source": str(etc / "resolv.conf"), "target": "/etc/resolv.conf"},
        ]
        layers = []
        if c.image is not None and c.image.has_layer:
            layers.append(str(self.kubelet.layer(c.image)))
        if c.image is not None and iso.own_root:  # the installed Python the image's programs run on, read-only
            for prefix in self.kubelet.python_prefixes(c.image):
                if prefix and not any((prefix + "/").startswith(top) for top in SYSTEM_TOPS):
                    binds.append({"source": prefix, "target": prefix, "readOnly": True})
        instance = c.instance + (1 if c.ever_started and c.terminated is not None else 0)
        if iso.own_root:
            message_file = self.dir / "containers" / c.name / f"{instance}.termination-log"
            message_file.parent.mkdir(parents=True, exist_ok=True)
            message_file.write_bytes(b"")
            os.chmod(message_file, 0o666)
            target = c.spec.get("terminationMessagePath") or "/dev/termination-log"
            binds.append({"source": str(message_file), "target": target})
        argv = self._argv(c, env)
        cwd = c.spec.get("workingDir") or (c.image.working_dir if c.image else "/") or "/"
        if not iso.own_root:
            mapping = [(b["target"], b["source"]) for b in binds]
            if c.image is not None and c.image.has_layer:
                mapping.append(("/", str(self.kubelet.layer(c.image))))
            rootfs = self.dir / "rootfs"
            rootfs.mkdir(parents=True, exist_ok=True)
            argv = [volumes.map_paths(a, mapping) for a in argv]
            if c.image is not None and c.image.has_layer:
                layer = self.kubelet.layer(c.image)
                argv = [
                    str(layer / a.lstrip("/")) if a.startswith("/") and (layer / a.lstrip("/")).exists() else a
                    for a in argv
                ]
                path = env.get("PATH", "")
                env["PATH"] = ":".join([str(layer / p.lstrip("/")) for p in path.split(":") if p] + [path])
            mapped = volumes.map_paths(cwd, mapping)
            own = self.kubelet.layer(c.image) / cwd.lstrip("/") if c.image is not None and c.image.has_layer else None
            if mapped == cwd and own is not None and cwd != "/" and own.is_dir():
                mapped = str(own)  # the working directory the image brings (its code: `python -m` finds it there)
            cwd = mapped if mapped != cwd else str(rootfs / cwd.lstrip("/"))
            Path(cwd).mkdir(parents=True, exist_ok=True)
            if uid == NOBODY and self._stands_in_for_root(pod, c) and os.geteuid() == 0:
                os.chown(cwd, uid, gid if gid is not None else uid)
            env["LAB_PATH_MAP"] = json.dumps(mapping)
            env["LAB_POD_IP"] = self.pod_ip
        c.last_terminated = c.terminated if c.terminated is not None else c.last_terminated
        c.instance = instance
        c.terminated = None
        cid = container_id(self.uid, c.name, c.instance)
        spec = {
            "argv": argv,
            "env": env,
            "cwd": cwd,
            "isolation": iso.mode,
            "hostname": (pod.get("spec", {}).get("hostname") or self.name)[:63],
            "uid": uid,
            "gid": gid,
            "groups": groups,
            "caps": caps,
            "root": {"base": str(self.dir / "containers" / c.name / "root"), "layers": layers, "binds": binds},
            "owner": [uid, gid] if uid == NOBODY and self._stands_in_for_root(pod, c) else None,
            "watch": str(self.kubelet.watch_file),
            "containerID": cid,
        }
        self.note_event("Created", f"Created container: {c.name}", ref=c)
        proc = Process(self.dir / "containers" / c.name, c.instance)
        if not argv:
            c.terminated = self._start_error(cid, "no command specified")
            c.ever_started = True
            return 0.05
        proc.start(spec, self.wake)
        state = proc.state()
        c.ever_started = True
        if state.get("reason") == "StartError" or not state:
            why = state.get("message") or "the container's process did not start"
            c.terminated = self._start_error(cid, why)
            self.note_event("Failed", f"Error: {c.terminated['message']}", "Warning", ref=c)
            proc.wait(5)
            return 0.05
        c.process = proc
        c.running_since = float(state.get("startedAt") or time.time())
        c.kill_reason = ""
        self.note_event("Started", f"Started container {c.name}", ref=c)
        c.prober = Prober(
            pod,
            c.spec,
            self.pod_ip,
            functools.partial(self._exec, c),
            self.notify,
            functools.partial(self._probe_failed, c),
            functools.partial(self._probe_kill, c),
        )
        return 30.0

    def _read_only_volumes(self, pod: dict[str, Any]) -> set[str]:
        return {
            v.get("name", "")
            for v in pod.get("spec", {}).get("volumes") or []
            if any(k in v for k in ("configMap", "secret", "downwardAPI", "projected"))
        }

    def _start_error(self, cid: str, why: str) -> dict[str, Any]:
        now = time.time()
        return {
            "exitCode": 128,
            "reason": "StartError",
            "message": (
                "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
                f"runc create failed: unable to start container process: {why}: unknown"
            ),
            "startedAt": "1970-01-01T00:00:00Z",
            "finishedAt": rfc3339(now),
            "containerID": cid,
            "_finished": now,
        }

    def _collect(self, c: Container) -> None:
        """The exit of ``c``'s process, as its terminated state."""
        proc = c.process
        if proc is None:
            return
        if not proc.exited.is_set():
            proc.kill()
            proc.wait(5)
        state = proc.state()
        code = int(state.get("exitCode", 137))
        finished = float(state.get("finishedAt") or time.time())
        c.terminated = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": stamp(state.get("startedAt") or c.running_since),
            "finishedAt": rfc3339(finished),
            "containerID": container_id(self.uid, c.name, c.instance),
            "_finished": finished,
        }
        message = self._termination_message(c, proc, code)
        if message:
            c.terminated["message"] = message
        c.process = None
        c.running_since = None
        if c.prober is not None:
            c.prober.close()
            c.prober = None

    def _termination_message(self, c: Container, proc: Process, code: int) -> str:
        """What the container wrote to its ``terminationMessagePath`` (4096 bytes at most), or with
        ``FallbackToLogsOnError`` and a failure, the end of its log (80 lines, 2048 bytes)."""
        try:
            written = (proc.folder / f"{proc.instance}.termination-log").read_bytes()[:4096]
        except OSError:
            written = b""
        if written.strip():
            return written.decode("utf-8", "replace")
        if code != 0 and c.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            text = "\n".join(recent(proc.log_path, 80))
            return text[-2048:]
        return ""

    # -- probes, exec ----------------------------------------------------------------------------
    def _exec(self, c: Container, argv: list[str], timeout: float) -> tuple[int, bytes]:
        proc = c.process
        if proc is None or proc.pid is None:
            return 1, b"container is not running"
        return self.kubelet.exec_in(proc, argv, timeout)

    def _probe_failed(self, c: Container, kind: str, message: str) -> None:
        label = {"liveness": "Liveness", "readiness": "Readiness", "startup": "Startup"}[kind]
        self.note_event("Unhealthy", f"{label} probe failed: {message}", "Warning", ref=c)

    def _probe_kill(self, c: Container, kind: str, message: str) -> None:
        self.note_event("Killing", f"Container {c.name} failed {kind} probe, will be restarted", ref=c)
        c.kill_reason = kind
        spec_grace = (c.spec.get(f"{kind}Probe") or {}).get("terminationGracePeriodSeconds")
        grace = int(spec_grace) if spec_grace is not None else self._grace(self.pod)
        threading.Thread(target=self._stop_container, args=(c, grace, kind), daemon=True).start()

    def _grace(self, pod: dict[str, Any]) -> int:
        return int(pod.get("spec", {}).get("terminationGracePeriodSeconds", 30))

    def _stop_container(self, c: Container, grace: float, why: str) -> None:
        proc = c.process
        if proc is None:
            return
        sig = SIGNALS.get((c.image.stop_signal if c.image else "SIGTERM") or "SIGTERM", signal.SIGTERM)
        proc.signal(sig, whole_group=not self.kubelet.isolation.own_root)
        if not proc.wait(max(0.0, grace)):
            proc.kill()
            proc.wait(5)
        self.notify()

    # -- deletion ----------------------------------------------------------------------------
    def _terminate(self, pod: dict[str, Any]) -> None:
        grace = float(pod["metadata"].get("deletionGracePeriodSeconds", self._grace(pod)))
        containers = [c for c in self.inits + self.mains if c.running]
        for c in containers:
            self.note_event("Killing", f"Stopping container {c.name}", ref=c)
            if c.prober is not None:
                c.prober.close()
        self._kill_all(grace, containers)
        for c in self.inits + self.mains:
            if c.process is not None:
                self._collect(c)
        final = self._status(pod, deleting=True)
        self._post(final)
        try:
            self.objects.delete(PODS, self.namespace, self.name, grace_seconds=0, preconditions={"uid": self.uid})
        except ApiError:
            pass  # already gone: a terminal status removes a pod being deleted
        self._cleanup()

    def _kill_all(self, grace: float, containers: list[Container] | None = None) -> None:
        """Stop containers: the stop signal, ``grace`` seconds, then SIGKILL to what is left (at once when
        the pod is removed meanwhile, as ``kubectl delete --force`` does). The stop signal is sent again
        after one and two seconds: a program still starting (no handler yet, as pid 1) would miss it."""
        containers = [c for c in (containers or self.inits + self.mains) if c.running]
        group = not self.kubelet.isolation.own_root

        def stop_signal(c: Container) -> int:
            return SIGNALS.get((c.image.stop_signal if c.image else "SIGTERM") or "SIGTERM", signal.SIGTERM)

        for c in containers:
            if c.prober is not None:
                c.prober.close()
            if grace > 0 and c.process is not None:
                c.process.signal(stop_signal(c), whole_group=group)
        started = time.monotonic()
        resent = 0
        while grace > 0:
            left = [c for c in containers if c.process is not None and not c.process.exited.is_set()]
            elapsed = time.monotonic() - started
            if not left or elapsed >= grace or self.objects.get(PODS, self.namespace, self.name) is None:
                break
            if resent < 2 and elapsed >= resent + 1:
                resent += 1
                for c in left:
                    if c.process is not None:
                        c.process.signal(stop_signal(c), whole_group=group)
            first = left[0].process
            if first is not None:
                first.wait(min(0.2, grace - elapsed))
        for c in containers:
            if c.process is not None and not c.process.exited.is_set():
                c.process.kill()
                c.process.wait(5)

    def _cleanup(self) -> None:
        self.kubelet.release_ip(self.uid)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_processes(self) -> list[Process]:
        """For the service's shutdown: the running processes, signalled with SIGTERM; the caller kills what is left."""
        out = []
        for c in self.inits + self.mains:
            if c.prober is not None:
                c.prober.close()
            if c.running and c.process is not None:
                c.process.signal(signal.SIGTERM, whole_group=True)
                out.append(c.process)
        return out

    # -- status ------------------------------------------------------------------------------------
    def _status(self, pod: dict[str, Any], deleting: bool = False) -> dict[str, Any]:
        return pod_status(
            pod,
            self.inits,
            self.mains,
            uid=self.uid,
            deleting=deleting,
            sandbox_ready=self.sandbox_ready,
            pod_ip=self.pod_ip,
            host_ip=self.kubelet.node_ip(self.node),
            start_time=self.start_time,
        )

    def _write(self, pod: dict[str, Any]) -> dict[str, Any]:
        status = self._status(pod)
        self._post(status)
        return status

    def _post(self, status: dict[str, Any]) -> None:
        comparable = without_times(status)
        if self.last_status is not None and comparable == self.last_status:
            return
        with self.objects.store.tx():
            current = self.objects.get(PODS, self.namespace, self.name)
            if current is None or current["metadata"].get("uid") != self.uid:
                return
            merged = dict(current.get("status") or {})
            for key in ("podIP", "podIPs", "initContainerStatuses"):
                if key not in status:
                    merged.pop(key, None)
            merged.update(status)
            if merged == current.get("status"):
                self.last_status = comparable
                return
            current["status"] = merged
            self.objects.update(PODS, current, check_rv=False)
        self.last_status = comparable

    def note_event(self, reason: str, message: str, type: str = "Normal", ref: Container | None = None) -> None:
        try:
            events.record(self.objects, self.pod, reason, message, type=type, component="kubelet", host=self.node)
        except ApiError:
            pass


def write_in_place(path: Path, text: str) -> None:
    """Replace a file's content without replacing the file (a bind mount of it keeps showing it)."""
    data = text.encode()
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o644)
