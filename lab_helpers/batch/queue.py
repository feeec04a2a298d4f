"""A queue you can watch: one partition, a stream of jobs, first-come-first-served with EASY backfill.

EASY backfill (Lifka, 1995; what Slurm's backfill scheduler does in spirit): jobs start in
arrival order while they fit. When the first waiting job (the *head*) does not fit, it gets a
reservation: the earliest time enough nodes free up, judged from the running jobs' requested
wall times (the scheduler cannot know they may end sooner). A later job may jump ahead only if
it fits in the free nodes now and cannot delay that reservation: it ends (by its requested wall
time) before the reservation, or it uses only nodes the head will not need.

Times are in hours. The scheduler only ever looks at requested wall times; ``runtime`` (the
time the job really takes, at most its wall time) decides when it actually ends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import UsageError

__all__ = ["SimJob", "simulate"]


@dataclass(frozen=True)
class SimJob:
    name: str
    submit: float
    nodes: int
    walltime: float  # requested hours
    runtime: float | None = None  # actual hours; None = the whole wall time

    @property
    def actual(self) -> float:
        return self.walltime if self.runtime is None else min(self.runtime, self.walltime)


@dataclass(frozen=True)
class Placement:
    job: SimJob
    start: float
    end: float
    backfilled: bool

    @property
    def wait(self) -> float:
        return self.start - self.job.submit


def simulate(jobs: list[SimJob], total_nodes: int, backfill: bool = True) -> list[Placement]:
    """The schedule of ``jobs`` on a partition of ``total_nodes`` nodes, in start order."""
    for job in jobs:
        if job.nodes > total_nodes or job.nodes < 1:
            raise UsageError(
                f"job {job.name!r} asks for {job.nodes} nodes; the partition has {total_nodes}.",
                hint="Ask for between 1 and the partition's node count.",
            )
    arrivals = sorted(jobs, key=lambda j: j.submit)
    queue: list[SimJob] = []
    running: list[Placement] = []
    placed: list[Placement] = []
    free = total_nodes
    now = 0.0
    i = 0
    while i < len(arrivals) or queue or running:
        # the next event: an arrival or a job ending
        candidates = [p.end for p in running]
        if i < len(arrivals):
            candidates.append(arrivals[i].submit)
        now = max(now, min(candidates))
        for p in [p for p in running if p.end <= now]:
            running.remove(p)
            free += p.job.nodes
        while i < len(arrivals) and arrivals[i].submit <= now:
            queue.append(arrivals[i])
            i += 1

        while queue and queue[0].nodes <= free:  # first come, first served
            free -= _start(queue.pop(0), now, False, running, placed)
        if backfill and queue:
            shadow, extra = _reservation(queue[0], running, free, now)
            for job in list(queue[1:]):
                if job.nodes > free:
                    continue
                ends_in_time = now + job.walltime <= shadow
                if ends_in_time or job.nodes <= extra:
                    queue.remove(job)
                    free -= _start(job, now, True, running, placed)
                    if not ends_in_time:
                        extra -= job.nodes
    return sorted(placed, key=lambda p: (p.start, p.job.submit))


def _start(job: SimJob, now: float, backfilled: bool, running: list[Placement], placed: list[Placement]) -> int:
    """Start ``job`` now; returns the nodes it takes."""
    placement = Placement(job, now, now + job.actual, backfilled)
    running.append(placement)
    placed.append(placement)
    return job.nodes


def _reservation(head: SimJob, running: list[Placement], free: int, now: float) -> tuple[float, int]:
    """(shadow time, extra nodes): when the head job can start, judged by requested wall times,
    and how many nodes will then be free beyond what it needs."""
    available = free
    for p in sorted(running, key=lambda p: p.start + p.job.walltime):
        available += p.job.nodes
        if available >= head.nodes:
            return max(now, p.start + p.job.walltime), available - head.nodes
    return now, available - head.nodes  # cannot happen when head.nodes <= total nodes


def random_jobs(count: int = 40, total_nodes: int = 16, seed: int = 2, hours: float = 24.0) -> list[SimJob]:
    """A reproducible stream of jobs: mostly small and short, a few wide or long."""
    rng = random.Random(seed)
    jobs = []
    for k in range(count):
        nodes = rng.choice([1, 1, 1, 2, 2, 4, 4, 8, max(1, total_nodes // 2)])
        walltime = rng.choice([0.5, 1, 2, 4, 8, 12, 24])
        runtime = round(walltime * rng.uniform(0.3, 1.0), 2)  # jobs usually end before their wall time
        jobs.append(SimJob(f"job{k:02d}", round(rng.uniform(0, hours), 2), nodes, walltime, runtime))
    return jobs


def wait_of(probe: SimJob, background: list[SimJob], total_nodes: int, backfill: bool = True) -> float:
    """How long ``probe`` waits when it arrives among ``background``."""
    for p in simulate([*background, probe], total_nodes, backfill):
        if p.job is probe:
            return p.wait
    raise AssertionError("the probe job was not scheduled")  # simulate places every job


def utilisation(schedule: list[Placement], total_nodes: int) -> float:
    """Node-hours used over node-hours available between the first submit and the last end."""
    if not schedule:
        return 0.0
    begin = min(p.job.submit for p in schedule)
    end = max(p.end for p in schedule)
    used = sum(p.job.nodes * (p.end - p.start) for p in schedule)
    return used / (total_nodes * (end - begin)) if end > begin else 0.0


def mean_waits(
    sizes=(1, 2, 4, 8, 16),
    walltimes=(0.5, 1, 4, 12, 24),
    *,
    total_nodes: int = 16,
    seeds=(1, 2, 3, 4, 5),
    arrivals=tuple(range(1, 23, 2)),
    needs_hours: float = 1.0,
) -> list[list[float]]:
    """Mean wait (hours) of one more job per (nodes, requested wall time), ``waits[i][j]`` for sizes[i], walltimes[j].

    The job needs ``needs_hours`` of work whatever it asks for, and arrives at each hour in
    ``arrivals`` in each of the job streams ``random_jobs(seed=s)``: one arrival time in one
    stream is luck, the mean over many is the pattern.
    """
    streams = [random_jobs(count=40, total_nodes=total_nodes, seed=s) for s in seeds]
    waits = []
    for nodes in sizes:
        row = []
        for walltime in walltimes:
            probe = [
                wait_of(SimJob("you", float(t), nodes, walltime, runtime=min(walltime, needs_hours)), jobs, total_nodes)
                for jobs in streams
                for t in arrivals
            ]
            row.append(sum(probe) / len(probe))
        waits.append(row)
    return waits
