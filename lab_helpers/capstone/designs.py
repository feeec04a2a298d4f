"""A design of the capstone: which VMs run the service, whether a Delta job runs the analysis, and what it costs.

A design is a dict a learner writes::

    {"control": {"m3.small": 1}, "workers": {"m3.quad": 2},
     "delta": None or {"partition": "gpuA40x4", "gpus": 1, "hours": 0.5, "jobs_per_month": 30}}

``problems`` says what a design cannot carry (pods that fit no worker, a node short of the two the api
needs, a Delta job too short or too long), packing pods onto workers first-fit by size as a scheduler
would; ``su_per_month`` prices it with Jetstream2's and Delta's own rules (``resources.cost``,
``batch.jobs.su_cost``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import UsageError
from .rates import MachineRates, capstone
from .sizing import need_per_video_hour, seconds_per_item

__all__ = ["Pod", "analysis_need", "cheapest_workers", "pods_for", "problems", "su_per_month"]


@dataclass(frozen=True)
class Pod:
    name: str
    cpu: float
    memory_gb: float


def analysis_need(machines: dict[str, MachineRates]) -> dict[str, float]:
    """{"vcpus": vCPUs busy through the day's window, "a40_hours_per_day": A40 hours a day} for the analysis."""
    s = capstone()["scenario"]
    per_hour = need_per_video_hour(seconds_per_item, machines) or {}
    hours = float(s["video_hours_per_day"])
    vcpu_s = sum(row["vcpu"] for row in per_hour.values()) * hours
    a40_s = sum(row["a40"] for row in per_hour.values()) * hours
    return {"vcpus": vcpu_s / 3600 / float(s["results_within_hours"]), "a40_hours_per_day": a40_s / 3600}


def pods_for(design: dict, machines: dict[str, MachineRates]) -> list[Pod]:
    """The pods a design's workers must hold: the service's, and the analysis's when no Delta job runs it."""
    svc = capstone()["service"]
    pods = [
        Pod(f"{name}-{i}", float(p["cpu"]), float(p["memory_gb"]))
        for name, p in svc["parts"].items()
        for i in range(int(p["replicas"]))
    ]
    if not design.get("delta"):
        inf = svc["inference_pod"]
        count = math.ceil(analysis_need(machines)["vcpus"] / float(inf["cpu"]) - 1e-9)
        pods += [Pod(f"analysis-{i}", float(inf["cpu"]), float(inf["memory_gb"])) for i in range(count)]
    return pods


def _flavor(name: str) -> dict:
    from ..resources.cost import flavors

    known = flavors()
    if name not in known:
        raise UsageError(f"{name!r} is not a Jetstream2 flavor.", hint=f"Flavors: {', '.join(known)}.")
    return known[name]


def _nodes(group: dict) -> list[tuple[str, float, float]]:
    """(flavor, allocatable CPU, allocatable GB) for each node of a group {flavor: count}."""
    reserved = capstone()["service"]["node_reserved"]
    nodes = []
    for flavor, count in (group or {}).items():
        f = _flavor(str(flavor))
        nodes += [(str(flavor), f["vcpus"] - reserved["cpu"], f["ram_gb"] - reserved["memory_gb"])] * int(count)
    return nodes


def _pack(pods: list[Pod], nodes: list[tuple[str, float, float]]) -> list[Pod]:
    """First-fit by size, largest pod first; returns the pods that fit on no node."""
    free = [[cpu, mem] for _, cpu, mem in nodes]
    left = []
    for pod in sorted(pods, key=lambda p: (p.cpu, p.memory_gb), reverse=True):
        for room in free:
            if room[0] >= pod.cpu - 1e-9 and room[1] >= pod.memory_gb - 1e-9:
                room[0] -= pod.cpu
                room[1] -= pod.memory_gb
                break
        else:
            left.append(pod)
    return left


def _shape(design: object) -> list[str]:
    if not isinstance(design, dict):
        return [f"a design is a dict with control, workers and delta; got {type(design).__name__}"]
    said = []
    for key in ("control", "workers"):
        group = design.get(key)
        if not isinstance(group, dict) or not group:
            said.append(f"{key!r} is a dict of flavor -> count, e.g. {{'m3.small': 1}}")
        elif not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in group.values()):
            said.append(f"the counts of {key!r} are whole numbers above 0")
    delta = design.get("delta")
    if delta is not None and not (
        isinstance(delta, dict) and {"partition", "gpus", "hours", "jobs_per_month"} <= set(delta)
    ):
        said.append("'delta' is None or a dict with partition, gpus, hours and jobs_per_month")
    return said


def problems(design: dict, machines: dict[str, MachineRates]) -> list[str]:
    """What ``design`` cannot carry, in words a learner can act on (empty: it carries the workload)."""
    said = _shape(design)
    if said:
        return said
    try:
        workers = _nodes(design["workers"])
        _nodes(design["control"])
    except UsageError as exc:
        return [str(exc)]
    svc = capstone()["service"]
    if len(workers) < int(svc["min_workers"]):
        said.append(
            f"{len(workers)} worker node(s): the api's two replicas need {svc['min_workers']} nodes to survive losing one"
        )
    left = _pack(pods_for(design, machines), workers)
    if left:
        cpu, mem = sum(p.cpu for p in left), sum(p.memory_gb for p in left)
        kinds = sorted({p.name.rsplit("-", 1)[0] for p in left})
        said.append(
            f"{len(left)} pod(s) ({', '.join(kinds)}) fit on no worker: {cpu:g} vCPU and {mem:g} GB more are needed "
            f"(each node keeps {svc['node_reserved']['cpu']} vCPU and {svc['node_reserved']['memory_gb']} GB for itself)"
        )
    delta = design.get("delta")
    if delta:
        said += _delta_problems(delta, machines)
    return said


def _delta_problems(delta: dict, machines: dict[str, MachineRates]) -> list[str]:
    from ..batch.delta import partition

    job = capstone()["delta_job"]
    said = []
    try:
        part = partition(str(delta["partition"]))
    except Exception:
        return [f"{delta['partition']!r} is not a Delta partition: the A40s are in {job['partition']}"]
    if not part.is_gpu or "A40" not in part.node_type.name:
        said.append(f"partition {delta['partition']} has no A40s: use {job['partition']}")
    need = analysis_need(machines)["a40_hours_per_day"] / max(1, int(delta["gpus"])) + float(job["overhead_hours"])
    hours = float(delta["hours"])
    if hours < need - 1e-9:
        said.append(
            f"a {hours:g} h job ends before the day's analysis does: it needs {need:.2f} h "
            f"(the analysis plus {job['overhead_hours']} h to stage the video and load the models)"
        )
    if hours > float(job["max_walltime_hours"]):
        said.append(f"{hours:g} h is beyond {delta['partition']}'s {job['max_walltime_hours']} h limit")
    days = int(capstone()["scenario"]["days_per_month"])
    if int(delta["jobs_per_month"]) < days:
        said.append(f"{delta['jobs_per_month']} jobs a month leave days unanalysed: one a day is {days}")
    return said


def su_per_month(design: dict) -> dict[str, float]:
    """{"js2": Jetstream2 SUs a month (every VM always on), "delta": Delta SUs a month (0 without a job)}."""
    from ..batch.jobs import su_cost
    from ..resources.cost import su_per_hour

    hours = float(capstone()["scenario"]["hours_per_month"])
    js2 = sum(su_per_hour(str(f)) * int(n) * hours for key in ("control", "workers") for f, n in design[key].items())
    delta = design.get("delta")
    su = 0.0
    if delta:
        gpus = int(delta["gpus"])
        job = {
            "name": "analysis", "account": "bbxx-delta-gpu", "partition": str(delta["partition"]), "nodes": 1,
            "gpus_per_node": gpus, "cpus": 16 * gpus, "mem_gb": 62.5 * gpus, "walltime": "01:00:00",
        }  # fmt: skip
        su = su_cost(job, hours=float(delta["hours"])).su * int(delta["jobs_per_month"])
    return {"js2": round(js2, 3), "delta": round(su, 3)}


def cheapest_workers(design: dict, machines: dict[str, MachineRates]) -> tuple[dict[str, int], float]:
    """The m3 worker group of one flavor with the fewest SUs an hour that carries the design's pods."""
    from ..resources.cost import flavors, su_per_hour

    pods = pods_for(design, machines)
    best: tuple[dict[str, int], float] | None = None
    for name, f in flavors().items():
        if not name.startswith("m3.") or "note" in f:
            continue
        for count in range(int(capstone()["service"]["min_workers"]), 17):
            if not _pack(pods, _nodes({name: count})):
                cost = su_per_hour(name) * count
                if best is None or cost < best[1]:
                    best = ({name: count}, cost)
                break
    if best is None:
        raise UsageError("no group of up to 16 m3 workers carries these pods.", hint="Move the analysis to Delta.")
    return best
