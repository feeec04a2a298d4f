"""Lab 02 "A node, a cluster": checks. Expected values come from data/delta.yaml through
lab_helpers.cluster, or from the measurement the notebook passes as context."""

from __future__ import annotations

from .core import Verdict, as_number, register, within


@register("02.su-cost", points=2, question="SU cost of the stated job if it runs its whole wall time.",
          hidden="the cost of the job as released, whatever the notebook passed")
def _su_cost(answer, context):
    from ..cluster.jobs import su_cost

    cost = su_cost(context["job"])
    value = as_number(answer)
    gpus_only = cost.nodes * float(context["job"].get("gpus_per_node", 0)) * cost.hours * cost.charge_factor
    if value is not None and cost.decided_by != "gpus" and abs(value - gpus_only) <= 1e-6 * max(1.0, gpus_only):
        return Verdict.no(f"That counts only the GPUs. Here the {cost.decided_by} decide what the job pays: compare GPUs, cores / 16 and memory / 62.5 GB.")
    return within(answer, cost.su, rel=0.01, unit="SU")


@register("02.partition", points=1, question="Which partition fits the stated workload best (cheapest that accepts it)?")
def _partition(answer, context):
    from ..cluster.delta import partitions

    expected = str(context["expected"])
    text = str(answer).strip()
    if text == expected:
        return Verdict.ok(f"{expected}: charge factor {partitions()[expected].charge_factor:g}.")
    if text not in partitions():
        return Verdict.no(f"{text!r} is not a Delta partition (names are case-sensitive).")
    return Verdict.no(f"{text} would take the job, but check its wall-time limit, its hardware and its charge factor against the workload.")


@register("02.job", points=3, question="Write a job for the stated workload that Delta would accept.",
          hidden="the job fits the workload as released")
def _job(answer, context):
    from ..cluster.jobs import Job, problems

    try:
        job = Job.from_any(answer)
    except Exception as exc:  # a malformed dict: say what is wrong
        return Verdict.no(str(exc))
    found = problems(job)
    if found:
        return Verdict.no("Rejected: " + " ".join(str(p) for p in found))
    need = context.get("needs", {})
    short = []
    if job.partition not in need.get("partitions", [job.partition]):
        short.append(f"partition {job.partition} is not one of {need['partitions']}")
    if job.nodes * job.gpus_per_node < int(need.get("gpus", 0)):
        short.append(f"it asks for {job.nodes * job.gpus_per_node} GPUs, the workload needs {need['gpus']}")
    if job.memory_gb * job.nodes < float(need.get("mem_gb", 0)):
        short.append(f"it asks for {job.memory_gb * job.nodes:g} GB, the workload needs {need['mem_gb']} GB")
    if job.hours < float(need.get("hours", 0)):
        short.append(f"its wall time is shorter than the {need['hours']} h the workload runs")
    if short:
        return Verdict(0.5, "Accepted by Delta, but it does not fit the workload: " + "; ".join(short) + ".")
    return Verdict.ok("Delta would accept it and it fits the workload.")


@register("02.amdahl", points=2, question="Speedup on the stated number of GPUs for the measured parallel fraction.",
          hidden="the speedup lies within Amdahl's bounds for 4 GPUs")
def _amdahl(answer, context):
    from ..cluster.amdahl import speedup

    expected = speedup(float(context["p"]), int(context["workers"]))
    value = as_number(answer)
    if value is not None and abs(value - int(context["workers"])) < 1e-9 and expected < 0.99 * int(context["workers"]):
        return Verdict.no("That is the ideal speedup; the serial part does not get faster with more GPUs.")
    return within(answer, expected, rel=0.02, unit="x")


@register("02.backfill", points=1, question="In the hand-sized queue, which job is backfilled first (its name)?",
          hidden="the grader replays the released queue itself")
def _backfill(answer, context):
    expected = str(context["expected"])
    if str(answer).strip() == expected:
        return Verdict.ok(f"{expected}: it fits in the free nodes and ends before the blocked job's reservation.")
    return Verdict.no("Not that one: look for the job that starts before a job submitted earlier than it.")
