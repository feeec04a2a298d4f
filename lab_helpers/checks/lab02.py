"""Lab 02 "A node, a cluster": checks. Expected values come from data/delta.yaml through
lab_helpers.batch, from the hand-sized queue the lab releases, or from the measurement and the
workload the notebook passes as context; never from an expected value the learner's cell passes."""

from __future__ import annotations

from typing import Any

from .answers import number_answer, within
from .registry import Verdict, register

__all__ = ["judge_job"]

# The hand-sized queue of section 6, as released: (name, submit hour, nodes, wall time in hours).
HAND_QUEUE = (("J1", 0, 2, 4), ("J2", 0, 4, 2), ("J3", 0, 2, 3), ("J4", 0, 2, 5), ("J5", 1, 1, 1))
HAND_QUEUE_NODES = 4


def _normal_name(text: Any) -> str:
    return str(text).strip().casefold()


def fitting_partitions(workload: dict) -> list:
    """Partitions whose nodes carry the workload's GPUs and that run it for its hours without preempting it."""
    from ..batch.delta import partitions

    model = str(workload.get("gpu_model", "")).casefold()
    gpus, hours = int(workload.get("gpus", 0)), float(workload.get("hours", 0))
    interruptible = bool(workload.get("interruptible", False))
    return [
        p
        for p in partitions().values()
        if model in p.node_type.gpu_model.casefold()
        and p.node_type.gpus * p.node_type.nodes >= gpus
        and p.max_hours >= hours
        and (interruptible or not p.preemptible)
    ]


def cheapest_partitions(workload: dict) -> list[str]:
    """The fitting partitions with the lowest charge factor (one, for every workload this lab states)."""
    fits = fitting_partitions(workload)
    if not fits:
        return []
    low = min(p.charge_factor for p in fits)
    return [p.name for p in fits if p.charge_factor == low]


@register(
    "02.su-cost",
    points=2,
    question="SU cost of the stated job if it runs its whole wall time (a number of SUs).",
    shape="a number of SUs (int or float)",
    hidden="the cost of the job as released, whatever the notebook passed",
)
def _su_cost(answer, context):
    from ..batch.jobs import su_cost

    value, refused = number_answer(answer, unit="SU")
    if refused is not None:
        return refused
    cost = su_cost(context["job"])
    gpus_only = cost.nodes * float(context["job"].get("gpus_per_node", 0)) * cost.hours * cost.charge_factor
    if cost.decided_by != "gpus" and abs(value - gpus_only) <= 1e-6 * max(1.0, gpus_only):
        return Verdict.no(
            f"That counts only the GPUs. Here the {cost.decided_by} decide what the job pays: "
            "compare GPUs, cores / 16 and memory / 62.5 GB."
        )
    return within(value, cost.su, rel=0.01, unit="SU")


@register(
    "02.partition",
    points=1,
    question="Which partition takes the stated workload at the lowest charge factor (its name)?",
    shape="a partition's name (str), as the table spells it",
)
def _partition(answer, context):
    from ..batch.delta import partitions

    if not isinstance(answer, str):
        return Verdict.no(f'Answer with the partition\'s name as text, e.g. "cpu", not a {type(answer).__name__}.')
    workload = dict(context.get("workload", {}))
    known = {_normal_name(name): p for name, p in partitions().items()}
    part = known.get(_normal_name(answer))
    if part is None:
        return Verdict.no(
            f"{answer.strip()!r} is not a Delta partition: copy a name from the partition table of section 3."
        )
    case_note = "" if answer.strip() == part.name else f" (Slurm spells it {part.name}: its names are case-sensitive.)"
    best = cheapest_partitions(workload)
    if part.name in best:
        return Verdict.ok(
            f"{part.name}: charge factor {part.charge_factor:g}, {part.max_walltime} at most, not preemptible.{case_note}"
        )
    hours = float(workload.get("hours", 0))
    model = str(workload.get("gpu_model", ""))
    if model.casefold() not in part.node_type.gpu_model.casefold():
        return Verdict.no(
            f"{part.name}'s nodes carry {part.node_type.gpu_model or 'no GPUs'}; the workload needs {model} GPUs."
        )
    if part.max_hours < hours:
        return Verdict.no(f"{part.name} stops jobs after {part.max_walltime}; the run needs about {hours:g} hours.")
    if part.preemptible and not workload.get("interruptible", False):
        return Verdict.no(
            f"{part.name} is cheaper, but it is preemptible: after 10 minutes the job can be stopped to make room, "
            "and this run must not be interrupted."
        )
    return Verdict.no(
        f"{part.name} would take the job at charge factor {part.charge_factor:g}; another partition with the same "
        "GPUs takes it for less. Compare the charge factors in the table."
    )


@register(
    "02.job",
    points=3,
    question="Write a job (a dict with the keys of Job) for the stated workload that Delta would accept.",
    shape="a dict with the stub's keys (partition, account, nodes, gpus_per_node, cpus, mem_gb, walltime, command)",
    hidden="the job fits the workload as released",
)
def judge_job(answer, context):
    from ..batch.jobs import Job, problems
    from ..errors import UsageError

    if not isinstance(answer, dict):
        return Verdict.no(
            f"Answer with a dict, dict(partition=..., account=..., nodes=..., gpus_per_node=..., cpus=..., "
            f"mem_gb=..., walltime=..., command=...), not a {type(answer).__name__}."
        )
    blanks = [key for key, value in answer.items() if value is Ellipsis]
    if blanks:
        return Verdict.no(f"Not filled in yet: replace the ... of {', '.join(map(str, blanks))}.")
    try:
        job = Job.from_any(answer)
        found = problems(job)
    except UsageError as exc:  # a malformed dict: say what is wrong in a sentence
        return Verdict.no(f"{exc.message} {exc.hint}".strip())
    except (TypeError, ValueError) as exc:
        return Verdict.no(
            f"This dict is not a job Delta can read: {exc}. Keep the stub's keys and give numbers as numbers."
        )
    if found:
        return Verdict.no("Rejected: " + " ".join(str(p) for p in found))
    workload = dict(context.get("workload", {}))
    short = []
    best = cheapest_partitions(workload)
    if job.partition not in best:
        fits = {p.name for p in fitting_partitions(workload)}
        if job.partition in fits:
            short.append(f"{job.partition} can run it, but another partition runs it safely at a lower charge factor")
        else:
            short.append(f"{job.partition} does not suit the workload (its GPUs, its wall-time limit or preemption)")
    gpus = job.nodes * job.gpus_per_node
    if gpus < int(workload.get("gpus", 0)):
        short.append(f"it asks for {gpus} GPUs, the workload needs {workload['gpus']}")
    if job.memory_gb * job.nodes < float(workload.get("mem_gb", 0)):
        short.append(f"it asks for {job.memory_gb * job.nodes:g} GB, the workload needs {workload['mem_gb']} GB")
    if job.hours < float(workload.get("hours", 0)):
        short.append(f"its wall time is shorter than the {workload['hours']} h the workload runs")
    if short:
        return Verdict(0.5, "Accepted by Delta, but it does not fit the workload: " + "; ".join(short) + ".")
    return Verdict.ok("Delta would accept it and it fits the workload.")


@register(
    "02.amdahl",
    points=2,
    question="Speedup on the stated number of GPUs for the measured parallel fraction (a number).",
    shape="a number (float): the speedup",
    hidden="the speedup lies within Amdahl's bounds for 4 GPUs",
)
def _amdahl(answer, context):
    from ..batch.amdahl import speedup

    value, refused = number_answer(answer, unit="x")
    if refused is not None:
        return refused
    workers = int(context["workers"])
    expected = speedup(float(context["p"]), workers)
    if abs(value - workers) < 1e-9 and expected < 0.99 * workers:
        return Verdict.no("That is the ideal speedup; the serial part does not get faster with more GPUs.")
    return within(value, expected, rel=0.02, unit="x")


def first_backfilled() -> str:
    """The first job EASY backfill starts ahead of an earlier one, in the hand-sized queue as released."""
    from ..batch.queue import SimJob, simulate

    jobs = [SimJob(name, submit=s, nodes=n, walltime=w) for name, s, n, w in HAND_QUEUE]
    return next(p.job.name for p in simulate(jobs, total_nodes=HAND_QUEUE_NODES, backfill=True) if p.backfilled)


@register(
    "02.backfill",
    points=1,
    question="In the hand-sized queue, which job is backfilled first (its name, as text)?",
    shape="a job's name (str)",
    hidden="the grader replays the released queue itself",
)
def _backfill(answer, context):
    if not isinstance(answer, str):
        return Verdict.no(f'Answer with the job\'s name as text, e.g. "J1", not a {type(answer).__name__}.')
    names = {name.casefold() for name, *_ in HAND_QUEUE}
    given = answer.strip()
    if given.casefold() not in names:
        return Verdict.no(f"{given!r} is not a job of this queue: its jobs are {', '.join(n for n, *_ in HAND_QUEUE)}.")
    expected = first_backfilled()
    if given.casefold() == expected.casefold():
        return Verdict.ok(f"{expected}: it fits in the free nodes and ends before the blocked job's reservation.")
    return Verdict.no("Not that one: look for the job that starts before a job submitted earlier than it.")
