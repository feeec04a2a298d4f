"""The scheduler's filters and scores, as kube-scheduler's default plugins decide them, and the
``FailedScheduling`` message worded as the real one (Kubernetes 1.35).

Filters run per node in the real plugin order and stop at the first that fails: NodeUnschedulable,
TaintToleration, NodeAffinity (nodeSelector and required affinity), NodePorts, NodeResourcesFit.
A node that fails a filter preemption could not fix (taints, affinity, a cordon) is "not helpful";
one short of resources has "no preemption victims" (the sandbox never preempts).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import quantity, selectors
from .common import condition

Obj = dict[str, Any]

NONZERO_CPU = 100  # millicores a container without a cpu request counts as, for scoring only
NONZERO_MEMORY = 200 * 1024 * 1024
MAX_PODS_DEFAULT = 110

UNSCHEDULABLE_NODE = "node(s) were unschedulable"
UNTOLERATED_TAINT = "node(s) had untolerated taint(s)"  # 1.34.2+ names no taint (its key may be private)
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
PORTS = "node(s) didn't have free ports for the requested pod ports"
TOO_MANY_PODS = "Too many pods"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NO_NODES = "no nodes available to schedule pods"


def _requests_of(container: Obj) -> dict[str, int]:
    res = container.get("resources") or {}
    wanted = dict(res.get("limits") or {})  # a limit alone is the request (the API server's default)
    wanted.update(res.get("requests") or {})
    return {k: quantity.amount(k, v) for k, v in wanted.items()}


def pod_requests(pod: Obj) -> dict[str, int]:
    """What a pod asks of a node: its containers' requests added up, at least each init container's,
    plus sidecars (restartable init containers) and the pod's overhead."""
    spec = pod.get("spec") or {}
    total: Counter[str] = Counter()
    for c in spec.get("containers") or []:
        total.update(_requests_of(c))
    init_peak: dict[str, int] = {}
    sidecars: Counter[str] = Counter()
    for c in spec.get("initContainers") or []:
        wanted = _requests_of(c)
        if c.get("restartPolicy") == "Always":
            sidecars.update(wanted)
            continue
        for k, v in wanted.items():
            init_peak[k] = max(init_peak.get(k, 0), v + sidecars.get(k, 0))
    total.update(sidecars)
    for k, v in init_peak.items():
        total[k] = max(total.get(k, 0), v)
    total.update({k: quantity.amount(k, v) for k, v in (spec.get("overhead") or {}).items()})
    return {k: v for k, v in total.items() if v > 0}


def pod_nonzero(pod: Obj) -> tuple[int, int]:
    """(cpu millicores, memory bytes) for scoring: a container asking nothing counts as 100m and 200Mi."""
    cpu = mem = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        wanted = _requests_of(c)
        cpu += wanted.get("cpu") or NONZERO_CPU
        mem += wanted.get("memory") or NONZERO_MEMORY
    return cpu, mem


def host_ports(pod: Obj) -> set[tuple[str, str, int]]:
    out = set()
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.add((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(p["hostPort"])))
    return out


@dataclass
class Usage:
    """What the pods bound to one node ask of it."""

    requested: Counter[str] = field(default_factory=Counter)
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    pods: int = 0
    ports: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def add(self, pod: Obj, sign: int) -> None:
        self.requested.update({k: sign * v for k, v in pod_requests(pod).items()})
        cpu, mem = pod_nonzero(pod)
        self.nonzero_cpu += sign * cpu
        self.nonzero_memory += sign * mem
        self.pods += sign
        self.ports.update({p: sign for p in host_ports(pod)})


def allocatable(node: Obj) -> dict[str, int]:
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}
    out = {k: quantity.amount(k, v) for k, v in alloc.items()}
    out.setdefault("pods", MAX_PODS_DEFAULT)
    return out


def tolerates(toleration: Obj, taint: Obj) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    return op == "Equal" and bool(key) and (toleration.get("value") or "") == (taint.get("value") or "")


def node_taints(node: Obj) -> list[Obj]:
    """The node's taints, with the one the node lifecycle controller keeps on a node that is not Ready."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    ready = condition(node, "Ready")
    implied = None
    if ready is None or ready.get("status") == "False":
        implied = "node.kubernetes.io/not-ready"
    elif ready.get("status") != "True":
        implied = "node.kubernetes.io/unreachable"
    if implied and not any(t.get("key") == implied and t.get("effect") == "NoSchedule" for t in taints):
        taints.append({"key": implied, "effect": "NoSchedule"})
    return taints


def untolerated(taints: list[Obj], tolerations: list[Obj], effects: tuple[str, ...]) -> Obj | None:
    for taint in taints:
        if taint.get("effect") in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def matches_node(pod: Obj, node: Obj) -> bool:
    """nodeSelector and required node affinity (NodeAffinity's filter)."""
    spec = pod.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    return required is None or selectors.node_selector(required, node)


@dataclass
class Verdict:
    """Why one node cannot take a pod: the reasons and whether preemption could ever help."""

    reasons: list[str]
    resolvable: bool


def filter_node(pod: Obj, node: Obj, usage: Usage) -> Verdict | None:
    """None when the pod fits the node, else why not."""
    spec = pod.get("spec") or {}
    tolerations = list(spec.get("tolerations") or [])
    if (node.get("spec") or {}).get("unschedulable"):
        cordon = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if not any(tolerates(t, cordon) for t in tolerations):
            return Verdict([UNSCHEDULABLE_NODE], False)
    if untolerated(node_taints(node), tolerations, ("NoSchedule", "NoExecute")) is not None:
        return Verdict([UNTOLERATED_TAINT], False)
    if not matches_node(pod, node):
        return Verdict([AFFINITY], False)
    if host_ports(pod) & {p for p, n in usage.ports.items() if n > 0}:
        return Verdict([PORTS], True)
    alloc = allocatable(node)
    reasons = []
    if usage.pods + 1 > alloc.get("pods", MAX_PODS_DEFAULT):
        reasons.append(TOO_MANY_PODS)
    wanted = pod_requests(pod)
    ordered: list[str] = [r for r in ("cpu", "memory", "ephemeral-storage") if r in wanted]
    ordered += sorted(r for r in wanted if r not in ("cpu", "memory", "ephemeral-storage"))
    for resource in ordered:
        if wanted[resource] > alloc.get(resource, 0) - usage.requested.get(resource, 0):
            reasons.append(f"Insufficient {resource}")
    return Verdict(reasons, True) if reasons else None


def score_node(pod: Obj, node: Obj, usage: Usage) -> float:
    """LeastAllocated + BalancedAllocation over cpu and memory (0-100 each), plus preferred affinity
    weights and a penalty per untolerated PreferNoSchedule taint."""
    alloc = allocatable(node)
    cpu, mem = pod_nonzero(pod)
    fractions = []
    least = 0.0
    for have, asked in (
        (alloc.get("cpu", 0), usage.nonzero_cpu + cpu),
        (alloc.get("memory", 0), usage.nonzero_memory + mem),
    ):
        if have <= 0:
            fractions.append(1.0)
            continue
        least += max(0.0, (have - asked) * 100.0 / have) / 2
        fractions.append(min(1.0, asked / have))
    balanced = (1 - abs(fractions[0] - fractions[1]) / 2) * 100
    spec = pod.get("spec") or {}
    preferred = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution"
    ) or []
    weight = sum(
        int(p.get("weight") or 0) for p in preferred if selectors.node_selector_term(p.get("preference") or {}, node)
    )
    tolerations = list(spec.get("tolerations") or [])
    soft = [t for t in node_taints(node) if t.get("effect") == "PreferNoSchedule"]
    penalty = sum(1 for t in soft if not any(tolerates(x, t) for x in tolerations))
    return least + balanced + weight - 10 * penalty


def fit_error(pod: Obj, verdicts: dict[str, Verdict]) -> str:
    """``0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient nvidia.com/gpu. no new
    claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling,
    2 No preemption victims found for incoming pod.`` (the real message: counts sorted as text)."""
    total = len(verdicts)
    if total == 0:
        return NO_NODES
    reasons = Counter(r for v in verdicts.values() for r in v.reasons)
    head = f"0/{total} nodes are available: " + ", ".join(sorted(f"{n} {r}" for r, n in reasons.items())) + "."
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        tail = "not eligible due to preemptionPolicy=Never."
    else:
        helps = Counter(NO_VICTIMS if v.resolvable else NOT_HELPFUL for v in verdicts.values())
        tail = f"0/{total} nodes are available: " + ", ".join(sorted(f"{n} {r}" for r, n in helps.items())) + "."
    return f"{head} no new claims to deallocate, preemption: {tail}"
