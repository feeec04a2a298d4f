"""An in-process cluster for the controllers' tests: a store in a temporary folder, the real
controllers and scheduler, and a stand-in kubelet whose pods do what their annotations say, so a
test decides when a pod is ready, succeeds or fails without running any process.

Annotations a test puts on a pod template:
- ``sim/hold: "true"``: the pod stays Pending (ContainerCreating) on its node;
- ``sim/ready: "false"``: it runs but is never Ready;
- ``sim/exit: "0"`` or ``"1"``: it runs, then ends Succeeded or Failed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from lab_helpers.sandbox.kubernetes import controllers
from lab_helpers.sandbox.kubernetes.apiserver import defaults
from lab_helpers.sandbox.kubernetes.controllers.common import clone, deleting, name_of, namespace_of, terminal
from lab_helpers.sandbox.kubernetes.controllers.loop import Change, Controller, Key, Manager, Settings
from lab_helpers.sandbox.kubernetes.objects import Objects, rfc3339
from lab_helpers.sandbox.kubernetes.resources import by_plural
from lab_helpers.sandbox.store import Store

PODS = by_plural("pods")
NODES = by_plural("nodes")
NAMESPACES = by_plural("namespaces")
DEPLOYMENTS = by_plural("deployments", "apps")
RS = by_plural("replicasets", "apps")
JOBS = by_plural("jobs", "batch")
SERVICES = by_plural("services")
EVENTS = by_plural("events")
Obj = dict[str, Any]


class FakeKubelet(Controller):
    """Runs bound pods in no time: Running and Ready with an address, unless the pod's annotations say
    otherwise; a pod being deleted ends and is removed (grace 0), as the real kubelet finishes a deletion."""

    name = "fake-kubelet"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.addresses = 0

    def observe(self, change: Change) -> None:
        if change.res is PODS and change.type != "DELETED" and (change.obj.get("spec") or {}).get("nodeName"):
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        pod = self.cache.get(PODS, ns, name)
        if pod is None or not (pod.get("spec") or {}).get("nodeName"):
            return None
        notes = pod["metadata"].get("annotations") or {}
        status = pod.get("status") or {}
        if deleting(pod):
            if not terminal(pod):
                changed = clone(pod)
                changed["status"]["phase"] = "Failed" if notes.get("sim/exit") != "0" else "Succeeded"
                self._not_ready(changed["status"])
                self.objects.update(PODS, changed)
            self.objects.delete(PODS, ns, name, grace_seconds=0)
            return None
        if terminal(pod) or notes.get("sim/hold") == "true":
            return None
        if status.get("phase") != "Running":
            changed = clone(pod)
            st = changed.setdefault("status", {})
            self.addresses += 1
            st["phase"] = "Running"
            st["podIP"] = f"127.77.{self.addresses // 250}.{self.addresses % 250 + 1}"
            st["startTime"] = rfc3339()
            ready = "False" if notes.get("sim/ready") == "false" else "True"
            conds = [c for c in st.get("conditions") or [] if c.get("type") == "PodScheduled"]
            for kind in ("Initialized", "Ready", "ContainersReady"):
                value = "True" if kind == "Initialized" else ready
                conds.append({"type": kind, "status": value, "lastProbeTime": None, "lastTransitionTime": rfc3339()})
            st["conditions"] = conds
            st["containerStatuses"] = [
                {
                    "name": c["name"],
                    "ready": ready == "True",
                    "restartCount": 0,
                    "image": c.get("image", ""),
                    "imageID": "",
                    "started": True,
                    "state": {"running": {"startedAt": rfc3339()}},
                }
                for c in changed["spec"].get("containers") or []
            ]
            self.objects.update(PODS, changed)
            return None
        if notes.get("sim/exit") in ("0", "1"):
            changed = clone(pod)
            changed["status"]["phase"] = "Succeeded" if notes["sim/exit"] == "0" else "Failed"
            self._not_ready(changed["status"])
            self.objects.update(PODS, changed)
        return None

    @staticmethod
    def _not_ready(status: Obj) -> None:
        for cond in status.get("conditions") or []:
            if cond.get("type") in ("Ready", "ContainersReady"):
                cond["status"] = "False"


def node(name: str, cpu: str = "2", memory: str = "8Gi", *, gpus: int = 0, taints=None, labels=None) -> Obj:
    """A Ready node as ``lab cluster create`` makes one (capacity equals allocatable here)."""
    capacity = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "20Gi"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": list(taints or [])},
        "status": {
            "capacity": dict(capacity),
            "allocatable": dict(capacity),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def deployment(name: str, replicas: int = 3, image: str = "nginx:1.27", **spec: Any) -> Obj:
    notes = spec.pop("pod_annotations", {})
    body = {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, **({"annotations": notes} if notes else {})},
                "spec": {
                    "containers": [{"name": "main", "image": image, "ports": [{"containerPort": 80, "name": "http"}]}]
                },
            },
            **spec,
        },
    }
    return body


class Cluster:
    """The real controllers and a fake kubelet over a store in ``root``."""

    def __init__(self, root: Path, settings: Settings | None = None, kubelet: bool = True) -> None:
        self.store = Store(root)
        self.objects = Objects(self.store)
        self.stopping = threading.Event()
        kinds = list(controllers.KINDS) + ([FakeKubelet] if kubelet else [])
        self.settings = settings or Settings(job_backoff_s=0.05, job_backoff_max_s=0.2)
        self.manager = Manager(self.objects, root, self.stopping, kinds, self.settings)
        for ns in ("default", "kube-system"):
            self.objects.create(NAMESPACES, {"metadata": {"name": ns}, "spec": {"finalizers": ["kubernetes"]}})
        self.manager.start()

    def stop(self) -> None:
        self.manager.stop()

    def controller(self, name: str) -> Controller:
        return next(c for c in self.manager.controllers if c.name == name)

    def settle(self, timeout: float = 10.0) -> None:
        self.manager.settle(timeout)

    def create(self, res, obj: Obj) -> Obj:
        """Create as a client's POST does: the API server's defaults first."""
        defaults.apply(res, obj, self.objects)
        return self.objects.create(res, obj)

    def get(self, res, name: str, ns: str = "default") -> Obj | None:
        return self.objects.get(res, ns if res.namespaced else "", name)

    def list(self, res, ns: str | None = "default") -> list[Obj]:
        return self.objects.list(res, ns)[0]

    def pods(self, ns: str = "default", **labels: str) -> list[Obj]:
        return [
            p
            for p in self.list(PODS, ns)
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
        ]

    def events(self, ns: str = "default") -> list[Obj]:
        return self.list(EVENTS, ns)

    def messages(self, reason: str, ns: str = "default") -> list[str]:
        return [e["message"] for e in self.events(ns) if e["reason"] == reason]

    def patch(self, res, name: str, change, ns: str = "default") -> Obj:
        """Read, change (a function of the object), write; retried on a conflict."""
        from lab_helpers.sandbox.errors import ApiError

        for _ in range(20):
            obj = self.get(res, name, ns)
            assert obj is not None, f"{res.kind} {name} not found"
            change(obj)
            try:
                return self.objects.update(res, obj)
            except ApiError:
                time.sleep(0.01)
        raise AssertionError(f"could not update {res.kind} {name}")

    def wait_for(self, what, timeout: float = 10.0, message: str = ""):
        """Poll ``what()`` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting: {message or what}")

    def history(self, res, since: int = 0) -> list[tuple[str, Obj]]:
        """Every write of ``res`` in the journal after ``since``: (type, object), oldest first."""
        out, rv = [], since
        while True:
            rows = self.objects.changes_since(rv, res)
            out += [(kind, obj) for _, kind, obj in rows]
            if len(rows) < 2000:
                return out
            rv = rows[-1][0]
