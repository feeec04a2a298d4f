"""What a pod worker knows of each container (:class:`Container`) and the pod status it posts from
that: container states as the kubelet reports them (running; terminated; or waiting, with the last
termination, while it restarts), the pod's phase (the kubelet's ``getPhase``), its conditions and
QoS class."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..objects import rfc3339
from . import registry
from .probes import Prober
from .process import Process


def container_id(uid: str, name: str, instance: int) -> str:
    return "sandbox://" + hashlib.sha256(f"{uid}/{name}/{instance}".encode()).hexdigest()


def stamp(t: float | None) -> str | None:
    return rfc3339(t) if t else None


@dataclass
class Container:
    """What the worker knows of one container of the pod."""

    spec: dict[str, Any]
    init: bool
    instance: int = 0
    process: Process | None = None
    image_ref: registry.Reference | None = None
    image: registry.Image | None = None
    pulled_image: str = ""  # the image (as written in the spec) last pulled for this container
    running_since: float | None = None
    terminated: dict[str, Any] | None = None
    last_terminated: dict[str, Any] | None = None
    waiting: tuple[str, str] = ("ContainerCreating", "")
    backoff: float | None = None
    backoff_updated: float = 0.0
    backoff_reported: float = 0.0
    image_backoff: float | None = None
    image_backoff_until: float = 0.0
    image_error: str = ""
    image_failed_at: float = 0.0
    prober: Prober | None = None
    kill_reason: str = ""
    ever_started: bool = False
    notes: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def running(self) -> bool:
        return self.process is not None and not self.process.exited.is_set()

    @property
    def succeeded(self) -> bool:
        return self.terminated is not None and self.terminated.get("exitCode") == 0

    @property
    def sidecar(self) -> bool:
        """An init container with ``restartPolicy: Always`` (a native sidecar): it keeps running beside
        the containers once it has started."""
        return self.init and self.spec.get("restartPolicy") == "Always"

    @property
    def done_initializing(self) -> bool:
        """An init container the next one may follow: it completed, or (a sidecar) it runs and has started."""
        if self.sidecar:
            return self.ever_started and self.running and (self.prober.started if self.prober else True)
        return self.succeeded


def should_restart(policy: str, c: Container) -> bool:
    """Whether ``restartPolicy`` restarts ``c`` after its last exit (an init container only when it failed)."""
    code = (c.terminated or {}).get("exitCode", 0)
    if c.sidecar:
        return True
    if c.init:
        return policy != "Never" and code != 0
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return code != 0
    return False


def init_failed(policy: str, inits: list[Container]) -> bool:
    """An init container failed and will not run again: the pod has failed."""
    return policy == "Never" and any(
        c.terminated and not c.succeeded and not c.running and not c.sidecar for c in inits
    )


def container_status(c: Container, uid: str, restarting: bool) -> dict[str, Any]:
    """One entry of ``containerStatuses`` (or ``initContainerStatuses``)."""
    image = str(c.spec.get("image", ""))
    ready = started = False
    last = c.last_terminated
    if c.running:
        prober = c.prober
        started = prober.started if prober else True
        ready = bool(started and (prober.ready if prober else True))
        state: dict[str, Any] = {"running": {"startedAt": stamp(c.running_since)}}
    elif c.terminated is not None and not restarting:
        state = {"terminated": public(c.terminated)}
        ready = c.init and c.succeeded
    else:
        reason, message = c.waiting
        if c.terminated is not None:
            last = c.terminated
            if c.terminated.get("reason") == "StartError" and reason not in ("CrashLoopBackOff",):
                reason, message = "RunContainerError", str(c.terminated.get("message", ""))
        state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    pulled = c.image_ref is not None and c.pulled_image == image
    out: dict[str, Any] = {
        "name": c.name,
        "state": state,
        "lastState": {"terminated": public(last)} if last else {},
        "ready": ready,
        "restartCount": c.instance,
        "image": str(c.image_ref) if pulled else image,
        "imageID": registry.image_id(c.image_ref) if pulled and c.image_ref else "",
        "started": started,
    }
    if c.running:
        out["containerID"] = container_id(uid, c.name, c.instance)
    elif "terminated" in state:
        out["containerID"] = state["terminated"].get("containerID", "")
    return out


def phase(policy: str, inits: list[Container], mains: list[Container], deleting: bool) -> str:
    """The pod's phase from its containers, as the kubelet's ``getPhase`` decides it (a pod being deleted
    ends Succeeded or Failed once its containers have stopped)."""
    if init_failed(policy, inits):
        return "Failed"
    if not all(c.succeeded or (c.sidecar and c.ever_started) for c in inits):
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for c in mains:
        if c.running:
            running += 1
        elif c.terminated is not None:
            stopped += 1
            succeeded += 1 if c.succeeded else 0
        elif c.last_terminated is not None:
            stopped += 1
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if deleting:
        return "Succeeded" if stopped == succeeded else "Failed"
    if stopped:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def pod_status(
    pod: dict[str, Any],
    inits: list[Container],
    mains: list[Container],
    *,
    uid: str,
    deleting: bool,
    sandbox_ready: bool,
    pod_ip: str,
    host_ip: str,
    start_time: str | None,
) -> dict[str, Any]:
    """The pod's ``status`` as its kubelet posts it (conditions keep their transition times)."""
    policy = pod.get("spec", {}).get("restartPolicy", "Always")
    now_phase = phase(policy, inits, mains, deleting)

    def restarting(c: Container) -> bool:
        return c.terminated is not None and not deleting and should_restart(policy, c)

    init_statuses = [container_status(c, uid, restarting(c)) for c in inits]
    main_statuses = [container_status(c, uid, restarting(c)) for c in mains]
    initialized = all(c.succeeded or (c.sidecar and c.ever_started) for c in inits)
    sidecars = [cs for c, cs in zip(inits, init_statuses, strict=True) if c.sidecar]
    ready_all = bool(main_statuses) and all(cs["ready"] for cs in main_statuses + sidecars) and now_phase == "Running"
    old = pod.get("status") or {}
    old_conditions = {c.get("type"): c for c in old.get("conditions") or []}
    now = rfc3339()

    def cond(kind: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
        prev = old_conditions.get(kind)
        value = "True" if ok else "False"
        out: dict[str, Any] = {"type": kind, "status": value, "lastProbeTime": None}
        out["lastTransitionTime"] = prev.get("lastTransitionTime", now) if prev and prev.get("status") == value else now
        if reason:
            out["reason"] = reason
        if message:
            out["message"] = message
        return out

    terminal = now_phase in ("Succeeded", "Failed")
    unready = [cs["name"] for cs in main_statuses if not cs["ready"]]
    incomplete = [c.name for c in inits if not (c.succeeded or (c.sidecar and c.ever_started))]
    not_ready_reason = "" if ready_all else ("PodCompleted" if terminal else "ContainersNotReady")
    not_ready_message = "" if ready_all or terminal else f"containers with unready status: [{' '.join(unready)}]"
    conditions = [
        cond("PodReadyToStartContainers", sandbox_ready and not terminal),
        cond(
            "Initialized",
            initialized,
            "" if initialized else "ContainersNotInitialized",
            "" if initialized else f"containers with incomplete status: [{' '.join(incomplete)}]",
        ),
        cond("Ready", ready_all, not_ready_reason, not_ready_message),
        cond("ContainersReady", ready_all, not_ready_reason, not_ready_message),
        old_conditions["PodScheduled"] if "PodScheduled" in old_conditions else cond("PodScheduled", True),
    ]
    status: dict[str, Any] = {
        "phase": now_phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": start_time,
        "containerStatuses": main_statuses,
        "qosClass": old.get("qosClass") or qos_class(pod),
    }
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    return status


def low_port(container: dict[str, Any], image: registry.Image | None, floor: int) -> int | None:
    """The lowest port under ``floor`` (what a normal user may open) that the container will listen on:
    its declared ports, and the image's own when it runs the image's command."""
    ports = [int(p.get("containerPort", 0)) for p in container.get("ports") or []]
    if not container.get("command") and image is not None:
        ports += list(image.ports)
    low = [p for p in ports if 0 < p < floor]
    return min(low) if low else None


def public(terminated: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in terminated.items() if not k.startswith("_")}


def without_times(status: dict[str, Any]) -> Any:
    out = dict(status)
    out["conditions"] = [
        {k: v for k, v in c.items() if k != "lastTransitionTime"} for c in status.get("conditions", [])
    ]
    return out


def qos_class(pod: dict[str, Any]) -> str:
    containers = (pod.get("spec", {}).get("containers") or []) + (pod.get("spec", {}).get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        if requests or limits:
            any_set = True
        for kind in ("cpu", "memory"):
            if kind not in limits or str(requests.get(kind, limits.get(kind))) != str(limits.get(kind)):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
