"""Lab 05 "Kubernetes on VMs": checks.

How many workers a set of requests needs follows the scheduler's rule: a pod fits a node when its
requests fit what is left of the node's *allocatable* (the flavor less what the kubelet keeps back,
``lab_helpers.kube.shape``), pods are never split, so the answer is a packing, not a division of
sums. The judge packs the pods itself (exactly: the sets are small) from the flavor in
data/jetstream2.yaml. The GPU drill is judged on the scheduler's own FailedScheduling message,
the Service on its selector and ports against the Deployment the lab made, the model's pod spec on
its GPU request and toleration, the crash loop on what the pod's status and log say.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .answers import fold, order_verdict
from .registry import Verdict, register

__all__ = [
    "flavor_allocatable",
    "nodes_needed",
    "pods_of",
    "probe_api_service",
    "probe_gpu_drill",
    "probe_leftovers",
    "probe_model",
]

GPU = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU, "value": "present", "effect": "NoSchedule"}
EVICTION_MEMORY_MI = 100  # the kubelet's default hard eviction threshold, kept out of allocatable


def quantity(value: Any) -> float:
    """A Kubernetes quantity ('500m', '2Gi', 3) as a plain number (cores, bytes), read by the
    ``kubernetes`` client's own parser."""
    from kubernetes.utils import parse_quantity

    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    try:
        return float(parse_quantity(value))
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValueError(f"not a quantity: {value!r}") from exc


def flavor_allocatable(vcpus: int, ram_gb: float) -> tuple[float, float]:
    """(cpu cores, memory bytes) a node of this flavor offers pods: the Nova flavor's RAM is in GiB
    (MiB in the API), less the kubelet's eviction threshold."""
    return float(vcpus), (ram_gb * 1024 - EVICTION_MEMORY_MI) * 1024**2


def pods_of(requests: dict) -> list[tuple[float, float]]:
    """Each pod's (cpu, memory) from ``{name: {"replicas": n, "cpu": q, "memory": q}}``."""
    out = []
    for spec in requests.values():
        out += [(quantity(spec["cpu"]), quantity(spec["memory"]))] * int(spec["replicas"])
    return out


def nodes_needed(pods: list[tuple[float, float]], node: tuple[float, float], limit: int = 12) -> int | None:
    """The fewest nodes of one shape that hold every pod (None: a pod fits no node, or more than ``limit``)."""
    cpu, mem = node
    if any(p[0] > cpu or p[1] > mem for p in pods):
        return None
    ordered = sorted(pods, key=lambda p: p[1] / mem + p[0] / cpu, reverse=True)
    lower = max(math.ceil(sum(p[0] for p in pods) / cpu - 1e-9), math.ceil(sum(p[1] for p in pods) / mem - 1e-9), 1)

    def fits(n: int) -> bool:
        free = [[cpu, mem] for _ in range(n)]

        def place(i: int) -> bool:
            if i == len(ordered):
                return True
            c, m = ordered[i]
            tried = set()
            for slot in free:
                key = (round(slot[0], 6), round(slot[1]))
                if key in tried or slot[0] < c - 1e-9 or slot[1] < m:
                    continue
                tried.add(key)
                slot[0] -= c
                slot[1] -= m
                if place(i + 1):
                    return True
                slot[0] += c
                slot[1] += m
            return False

        return place(0)

    for n in range(lower, limit + 1):
        if fits(n):
            return n
    return None


def _whole_number(answer: Any) -> int | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float) and answer.is_integer():
        return int(answer)
    return None


@register(
    "05.workers-needed",
    points=2,
    question="How many m3.medium workers does this set of pods need, packed as the scheduler packs them?",
    shape="a whole number (int) of m3.medium workers",
    hidden="the count re-derived by the grader from Jetstream2's flavor table and the requests",
)
def _workers_needed(answer, context):
    n = _whole_number(answer)
    if n is None:
        return Verdict.no(f"Answer with a whole number of workers (int), got {type(answer).__name__}.")
    requests = context["requests"]
    node = flavor_allocatable(int(context["vcpus"]), float(context["ram_gb"]))
    pods = pods_of(requests)
    need = nodes_needed(pods, node)
    by_sum = max(
        math.ceil(sum(p[0] for p in pods) / node[0] - 1e-9),
        math.ceil(sum(p[1] for p in pods) / (float(context["ram_gb"]) * 1024**3) - 1e-9),
    )
    if n == need:
        return Verdict.ok(
            f"{need} workers: pods are placed whole, each where its requests fit what is left of a node's "
            f"allocatable ({node[0]:g} CPUs, {node[1] / 1024**3:.2f} GiB)."
        )
    if n == by_sum and need is not None and by_sum < need:
        return Verdict.no(
            f"{n} is the sum of the requests divided by one node, but a pod is never split across nodes, "
            "and a node offers its allocatable, not the flavor's RAM: place the pods one by one "
            "(the largest first) and see which ones no longer fit."
        )
    if need is not None and n > need:
        return Verdict.no(f"{n} workers would hold them, but fewer do: try packing them more tightly.")
    return Verdict.no(
        f"{n} workers cannot hold every pod: compare each pod's cpu and memory with what is left of a node's "
        f"allocatable ({node[0]:g} CPUs, {node[1] / 1024**3:.2f} GiB), not with the flavor's 'ram_gb'."
    )


def _service_ports(service: dict) -> list[dict]:
    return [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]


@register(
    "05.api-service",
    points=3,
    question="Write the api's Service: which pods it sends traffic to and on which port.",
    shape="a dict: a v1 Service manifest (its spec.selector and spec.ports)",
    hidden="the grader sees the api Deployment Available and the Service's endpoints ready, in your cluster",
)
def _api_service(answer, context):
    if not isinstance(answer, dict):
        return Verdict.no(f"Answer with the Service as a dict (a manifest), got {type(answer).__name__}.")
    if answer.get("kind") != "Service" or answer.get("apiVersion") != "v1":
        return Verdict.no("The manifest must be kind: Service, apiVersion: v1.")
    spec = answer.get("spec") or {}
    selector = spec.get("selector")
    labels = dict(context.get("pod_labels") or {})
    if not isinstance(selector, dict) or not selector:
        return Verdict.no(
            "spec.selector is empty: a Service finds its pods by their labels (the Deployment's template labels)."
        )
    if any(labels.get(k) != v for k, v in selector.items()):
        return Verdict.no(
            f"spec.selector {selector} matches none of the api's pods, whose labels are {labels}: "
            "copy the labels of the Deployment's pod template."
        )
    ports = _service_ports(answer)
    if not ports:
        return Verdict.no("spec.ports is empty: name the port the Service listens on and the pods' port.")
    container_port = int(context["container_port"])
    targets = [p.get("targetPort", p.get("port")) for p in ports]
    if not any(t in (container_port, context.get("port_name")) for t in targets):
        return Verdict.no(
            f"The Service sends traffic to port {targets[0]!r}, but the api listens on {container_port}: "
            "that is targetPort (port is what the Service itself listens on)."
        )
    if context.get("ready_endpoints") is not None and int(context["ready_endpoints"]) < 1:
        return Verdict(
            0.5,
            "The manifest is right, but the Service has no ready endpoint yet: wait for the api's pods to be Ready "
            "and run the cell again.",
        )
    return Verdict.ok(
        f"The Service selects the api's pods by {selector} and sends port {ports[0].get('port')} to their "
        f"{container_port}: {context.get('ready_endpoints', '?')} ready endpoints."
    )


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _containers(pod_spec: dict) -> list[dict]:
    return [c for c in (pod_spec.get("containers") or []) if isinstance(c, dict)]


def _tolerates_gpu(tolerations: list) -> bool:
    for t in tolerations or []:
        if not isinstance(t, dict) or t.get("effect") not in (None, "", "NoSchedule"):
            continue
        key, op = t.get("key"), t.get("operator", "Equal")
        if op == "Exists" and key in (None, "", GPU):
            return True
        if op == "Equal" and key == GPU and t.get("value") == GPU_TAINT["value"]:
            return True
    return False


@register(
    "05.model-on-gpu",
    points=3,
    question="Give the model's pod what it needs to land on the GPU node: a GPU request and the taint's toleration.",
    shape="a dict: the model's pod spec (containers with resources.limits, tolerations)",
    hidden="the grader sees the model's pod Running on a GPU node and its weights' claim Bound to a cloud volume "
    "of the size claimed",
)
def _model_on_gpu(answer, context):
    if not isinstance(answer, dict):
        return Verdict.no(f"Answer with the pod spec as a dict, got {type(answer).__name__}.")
    containers = _containers(answer)
    if not containers:
        return Verdict.no("The pod spec has no containers: keep the model's container from the stub.")
    gpus = []
    for c in containers:
        limits = ((c.get("resources") or {}).get("limits")) or {}
        try:
            gpus.append(int(quantity(limits.get(GPU, 0))))
        except ValueError:
            return Verdict.no(f"resources.limits['{GPU}'] must be a whole number of GPUs.")
    score, said = 0.0, []
    if sum(gpus) == 1:
        score += 0.5
    else:
        said.append(
            f"ask for exactly one GPU: resources.limits {{'{GPU}': 1}} (extended resources go in limits; "
            f"got {sum(gpus)})"
        )
    if _tolerates_gpu(answer.get("tolerations") or []):
        score += 0.5
    else:
        said.append(
            f"tolerate the GPU node's taint {GPU}=present:NoSchedule "
            "(key, operator Equal, value, effect), or the scheduler keeps the pod off that node"
        )
    if said:
        return Verdict(score, _sentence(said))
    node = context.get("node")
    return Verdict.ok(f"One GPU asked for and the taint tolerated: the scheduler placed the model on {node}.")


@register(
    "05.gpu-pending",
    points=2,
    question="Why does the pod that asks for more GPUs than any node has stay Pending? Quote the scheduler.",
    shape="a str: the message of the pod's FailedScheduling event",
    hidden="the grader sees the drill's pod Pending, unscheduled, in your cluster",
)
def _gpu_pending(answer, context):
    if not isinstance(answer, str) or not answer.strip():
        return Verdict.no("Answer with the FailedScheduling event's message (a str), read from the pod's events.")
    text = answer.strip()
    if f"Insufficient {GPU}" not in text:
        return Verdict.no(
            f"That message does not say which resource is short: the scheduler's says 'Insufficient {GPU}'. "
            "Read the events whose involvedObject is the drill's pod and reason is FailedScheduling."
        )
    m = re.match(r"^0/(\d+) nodes are available", text)
    if not m:
        return Verdict.no("Quote the whole message: it starts with '0/N nodes are available'.")
    nodes = context.get("nodes")
    if nodes is not None and int(m.group(1)) != int(nodes):
        return Verdict.no(
            f"The message counts {m.group(1)} nodes, the cluster has {nodes}: quote this cluster's event."
        )
    if context.get("phase") not in (None, "Pending"):
        return Verdict.no(f"The drill's pod is {context.get('phase')}: it should stay Pending; recreate it as given.")
    return Verdict.ok(
        f"No node has {context.get('asked', 'that many')} GPUs to give: the pod waits, Pending, and the scheduler "
        "says why on every attempt. More GPU nodes (or a smaller request) would let it run."
    )


@register(
    "05.crash-loop",
    points=2,
    question="The model started with an empty weights folder: what do its status and its log say?",
    shape="a dict: {'waiting_reason': str, 'exit_code': int, 'log_line': str}",
)
def _crash_loop(answer, context):
    if not isinstance(answer, dict):
        return Verdict.no(f"Answer with a dict of three keys, as in the stub; got {type(answer).__name__}.")
    missing = [k for k in ("waiting_reason", "exit_code", "log_line") if k not in answer]
    if missing:
        return Verdict.no(f"Missing {', '.join(missing)}: keep the stub's three keys.")
    said, right = [], 0
    if fold(str(answer["waiting_reason"])) == fold("CrashLoopBackOff"):
        right += 1
    else:
        said.append(
            "the waiting reason of a container restarted again and again is CrashLoopBackOff "
            "(status.containerStatuses[0].state.waiting.reason)"
        )
    exit_code = _whole_number(answer["exit_code"])
    if exit_code is not None and exit_code == context.get("exit_code") and exit_code != 0:
        right += 1
    else:
        said.append("the exit code is in lastState.terminated.exitCode (not 0: the program failed)")
    line = str(answer["log_line"]).strip()
    logs = [str(x).strip() for x in context.get("log_lines") or []]
    if line and line in logs and "weight" in line.lower():
        right += 1
    else:
        said.append(
            "quote the line of the container's log (read_namespaced_pod_log, previous=True) that names "
            "the missing weights"
        )
    if said:
        return Verdict(right / 3, _sentence(said))
    return Verdict.ok("CrashLoopBackOff, a failing exit code, and the log says why: the weights are missing.")


# a deletion that must come before another one: (first, then, why)
CLEANUP_BEFORE = (
    (
        "namespace",
        "nodes",
        "the namespace's claims must go while the cluster's CSI driver can still delete their volumes",
    ),
    ("nodes", "node VMs", "a Node whose VM is gone stays NotReady, and its pods are stranded"),
)


@register(
    "05.cleanup-order",
    points=1,
    question="Order the lab's deletions so that nothing is left behind.",
    shape="a list of the names in `steps` (str), first deletion first",
    hidden="nothing the lab created (namespace, VM, volume, floating IP) was left after the cleanup cell",
)
def _cleanup_order(answer, context):
    steps = [str(s) for s in context.get("steps", [])]
    return order_verdict(
        answer,
        steps,
        CLEANUP_BEFORE,
        "Namespace, then Nodes, then their VMs: what `course.cleanup` and `lab cleanup --lab 05` do.",
    )


# --- what the grader reads from the learner's cluster (its state checks' probes) -------------------


def cluster_api() -> Any:
    """A client of the backend's cluster (the sandbox's, or the live one's kubeconfig), as the learner."""
    from kubernetes import config

    from ..backends import resolve

    return config.new_client_from_config(config_file=str(resolve().cluster()), persist_config=False)


def lab_namespace() -> str:
    """The namespace lab 05 works in: ``course-<learner>-05-app``."""
    from ..marks import Marks

    return Marks.for_lab("05").name("app")


def _read(call: Any, *args: Any, **kw: Any) -> dict | None:
    """A read as raw JSON (None when the object is not there)."""
    from kubernetes.client.exceptions import ApiException

    from ..kube.client import read_json

    try:
        return read_json(call(*args, _preload_content=False, **kw))
    except ApiException as exc:
        if exc.status in (403, 404):
            return None
        raise


def probe_api_service(conn: Any) -> dict:
    """The api Deployment's conditions and replicas, and how many ready addresses the api Service has."""
    from kubernetes import client

    api, ns = cluster_api(), lab_namespace()
    dep = _read(client.AppsV1Api(api).read_namespaced_deployment, "api", ns) or {}
    eps = _read(client.CoreV1Api(api).read_namespaced_endpoints, "api", ns) or {}
    status = dep.get("status") or {}
    return {
        "conditions": {c.get("type"): c.get("status") for c in status.get("conditions") or []},
        "available_replicas": int(status.get("availableReplicas") or 0),
        "ready_addresses": sum(len(s.get("addresses") or []) for s in eps.get("subsets") or []),
    }


def probe_model(conn: Any) -> dict:
    """Where the model's pods run (their nodes' GPU labels), and its weights' claim with its cloud volume."""
    from kubernetes import client

    core, ns = client.CoreV1Api(cluster_api()), lab_namespace()
    pods = (_read(core.list_namespaced_pod, ns, label_selector="app=model") or {}).get("items") or []
    placed = []
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName") or ""
        node = _read(core.read_node, node_name) if node_name else None
        labels = ((node or {}).get("metadata") or {}).get("labels") or {}
        placed.append(
            {
                "phase": (pod.get("status") or {}).get("phase"),
                "node": node_name,
                "gpu_node": labels.get(f"{GPU}.present") == "true",
            }
        )
    claim = _read(core.read_namespaced_persistent_volume_claim, "model-weights", ns) or {}
    volume: dict[str, Any] = {}
    pv_name = (claim.get("spec") or {}).get("volumeName")
    pv = _read(core.read_persistent_volume, pv_name) if pv_name else None
    handle = (((pv or {}).get("spec") or {}).get("csi") or {}).get("volumeHandle")
    if handle:
        found = conn.block_storage.find_volume(handle, ignore_missing=True)
        volume = (
            {"id": handle, "size_gb": int(found.size), "status": found.status} if found is not None else {"id": handle}
        )
    return {
        "pods": placed,
        "claim_phase": (claim.get("status") or {}).get("phase"),
        "claimed": ((claim.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage"),
        "volume": volume,
    }


def probe_gpu_drill(conn: Any) -> dict:
    """The drill's pod as the cluster holds it: its phase, its node (none), its PodScheduled condition."""
    from kubernetes import client

    pod = _read(client.CoreV1Api(cluster_api()).read_namespaced_pod, "gpu-drill", lab_namespace()) or {}
    conditions = {c.get("type"): c for c in (pod.get("status") or {}).get("conditions") or []}
    scheduled = conditions.get("PodScheduled") or {}
    limits = [
        ((c.get("resources") or {}).get("limits") or {}).get(GPU)
        for c in (pod.get("spec") or {}).get("containers") or []
    ]
    return {
        "found": bool(pod),
        "phase": (pod.get("status") or {}).get("phase"),
        "node": (pod.get("spec") or {}).get("nodeName") or "",
        "scheduled": scheduled.get("status"),
        "reason": scheduled.get("reason"),
        "gpus": [int(quantity(x)) for x in limits if x is not None],
    }


def probe_leftovers(conn: Any) -> dict:
    """What of lab 05 is left: the namespace, and every marked cloud resource (VMs, volumes, floating IPs)."""
    from ..marks import Marks
    from ..resources.inventory import find

    found = find(conn, learner=Marks.for_lab("05").learner, lab="05")
    left = [f"{f.kind} {f.name or f.id}" for f in found]
    try:
        from kubernetes import client

        if _read(client.CoreV1Api(cluster_api()).read_namespace, lab_namespace()) is not None:
            left.append(f"namespace {lab_namespace()}")
    except Exception:  # no cluster left to ask: its namespaces went with it
        pass
    return {"left": left, "not_checked": list(found.skipped)}
