"""How many nodes of which Jetstream2 flavor grade a class in a given time, and what that costs in SUs.

The model, from measured per-submission costs:

- a node of a flavor runs ``slots`` grading pods at once: as many as its CPUs and memory hold after
  the node's own share (the kubelet, the runtime, system pods: :data:`NODE_RESERVED_CPU` and
  :data:`NODE_RESERVED_GB`), at each pod's requests (:func:`.manifests.pod_resources`);
- one pod grades one submission in ``seconds`` (execution on one core plus the Job's own
  overhead: scheduling, start, result), so a batch runs in waves: ``ceil(n / all slots)`` of them;
- the nodes needed are the fewest whose waves fit the deadline; SUs are the nodes' vCPUs at the
  family's rate for the time they are up (the run, plus the nodes' boot, :data:`BOOT_S`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...resources.cost import flavors, su_per_hour
from ..isolation import Limits
from .manifests import pod_resources

NODE_RESERVED_CPU = 0.5  # kubelet, container runtime, CNI and kube-proxy on a worker
NODE_RESERVED_GB = 1.5
BOOT_S = 180.0  # a JS2 server is ACTIVE and its node Ready in about 1 to 3 minutes
CPU_FLAVORS = ("m3.quad", "m3.medium", "m3.large", "m3.xl", "m3.2xl")
# seconds per submission's Job, one Job at a time on the 2-core sandbox cluster (correct and untouched
# submissions, each booting its own sandbox cloud and probing it): the README's planning table
MEASURED_S = {"00": 8.7, "01": 10.1, "02": 9.4, "03": 10.5, "04": 13.9, "05": 108.2}


def _quantity_mb(text: str) -> float:
    units = {"Mi": 1.0, "Gi": 1024.0, "Ki": 1 / 1024}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / 2**20


def slots(flavor: str, limits: Limits | None = None) -> int:
    """Grading pods one node of ``flavor`` runs at once."""
    f = flavors()[flavor]
    requests = pod_resources(limits or Limits())["requests"]
    cpu = float(requests["cpu"])
    by_cpu = math.floor((f["vcpus"] - NODE_RESERVED_CPU) / cpu)
    by_memory = math.floor((f["ram_gb"] - NODE_RESERVED_GB) * 1024 / _quantity_mb(requests["memory"]))
    return max(0, min(by_cpu, by_memory))


def wall_seconds(submissions: int, slots_total: int, seconds: float) -> float:
    """Wall time of a batch in waves of ``slots_total`` pods, each taking ``seconds``."""
    if slots_total <= 0:
        return math.inf
    return math.ceil(submissions / slots_total) * seconds


@dataclass(frozen=True)
class Plan:
    lab: str
    flavor: str
    nodes: int
    slots: int  # pods at once, all nodes together
    seconds: float  # one submission's pod, measured
    wall_s: float  # the batch, start to last result
    su: float

    def line(self) -> str:
        return (
            f"lab {self.lab}: {self.nodes} x {self.flavor} ({self.slots} pods at once, {self.seconds:.1f} s each): "
            f"{self.wall_s / 60:.1f} min, {self.su:.1f} SU"
        )


def plan(
    lab: str,
    seconds: float,
    *,
    submissions: int = 400,
    deadline_s: float = 600.0,
    flavor: str = "m3.medium",
    limits: Limits | None = None,
) -> Plan:
    """The fewest nodes of ``flavor`` that grade ``submissions`` of ``seconds`` each within ``deadline_s``."""
    per_node = slots(flavor, limits)
    waves = max(1, math.floor(deadline_s / seconds)) if seconds <= deadline_s else 0
    if per_node == 0 or waves == 0:
        return Plan(lab, flavor, 0, 0, seconds, math.inf, math.inf)
    nodes = math.ceil(submissions / (waves * per_node))
    wall = wall_seconds(submissions, nodes * per_node, seconds)
    su = nodes * su_per_hour(flavor) * (wall + BOOT_S) / 3600
    return Plan(lab, flavor, nodes, nodes * per_node, seconds, wall, su)


def cheapest(lab: str, seconds: float, **kw) -> Plan:
    """The plan with the fewest SUs among the CPU flavors (ties: the fewest nodes)."""
    options = [plan(lab, seconds, flavor=f, **kw) for f in CPU_FLAVORS]
    return min(options, key=lambda p: (p.su, p.nodes))


def table(costs: dict[str, float], **kw) -> str:
    """One line per lab: its cheapest plan, and the same work on m3.medium nodes for comparison."""
    lines = []
    for lab, seconds in sorted(costs.items()):
        best = cheapest(lab, seconds, **kw)
        medium = plan(lab, seconds, flavor="m3.medium", **kw)
        lines.append(best.line() + ("" if best.flavor == "m3.medium" else f"  (on m3.medium: {medium.line()[8:]})"))
    return "\n".join(lines)
