"""A batch job for Delta: validated against its partition, costed in SUs, rendered as sbatch.

The learner writes a ``Job`` (or a plain dict with the same keys); ``problems`` lists what is
wrong, each with what to change; ``su_cost`` prices it; ``render_sbatch`` writes the script.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import UsageError
from .delta import Partition, format_walltime, parse_walltime, partition, per_gpu_share, su_rules

__all__ = ["Job", "accepted", "problems", "render_sbatch", "su_cost", "validate"]


@dataclass
class Job:
    partition: str
    account: str
    nodes: int = 1
    gpus_per_node: int = 0
    cpus: int = 1  # cores per node
    mem_gb: float | None = None  # per node; None = Delta's default of 1000 MB per core
    walltime: str = "00:30:00"
    name: str = "lab02"
    command: str = "python train.py"

    @classmethod
    def from_any(cls, job: Job | dict) -> Job:
        if isinstance(job, Job):
            return job
        if not isinstance(job, dict):
            raise UsageError(
                f"a job is a Job or a dict, not {type(job).__name__}.",
                hint="Write Job(partition=..., account=..., ...).",
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(map(str, job)) - known)
        if unknown:
            raise UsageError(
                f"unknown job fields: {', '.join(unknown)}.", hint=f"A job has: {', '.join(sorted(known))}."
            )
        missing = [name for name in _REQUIRED if name not in job]
        if missing:
            which = " and ".join(repr(m) for m in missing)
            raise UsageError(
                f"the job has no {which}: every job names the partition it runs on and the account it charges.",
                hint="Add " + " and ".join(f"{m}={_EXAMPLES[m]}" for m in missing) + " to the dict.",
            )
        for name, kinds, what in _FIELD_TYPES:
            value = job.get(name)
            if value is None and name == "mem_gb":
                continue
            if name in job and (isinstance(value, bool) or not isinstance(value, kinds)):
                shown = f"text ({value!r})" if isinstance(value, str) else f"a {type(value).__name__}"
                raise UsageError(
                    f"{name} should be {what}, not {shown}.",
                    hint=f"Write {name}={_EXAMPLES[name]}, without quotes."
                    if isinstance(value, str) and name in _EXAMPLES
                    else f"Write {name}={_EXAMPLES.get(name, '...')}.",
                )
        if "nodes" in job and isinstance(job["nodes"], float) and not job["nodes"].is_integer():
            raise UsageError(f"nodes should be a whole number, not {job['nodes']}.", hint="Write nodes=1.")
        return cls(**job)

    @property
    def memory_gb(self) -> float:
        """Memory per node, with Delta's default filled in."""
        if self.mem_gb is not None:
            return float(self.mem_gb)
        return self.cpus * su_rules()["defaults"]["memory_mb_per_core"] / 1000

    @property
    def hours(self) -> float:
        return parse_walltime(self.walltime)

    def to_dict(self) -> dict:
        return asdict(self)


_REQUIRED = ("partition", "account")
_FIELD_TYPES = (  # (field, accepted types, what the learner should write)
    ("partition", str, "a partition name (text)"),
    ("account", str, "an account name (text)"),
    ("nodes", (int, float), "a whole number of nodes"),
    ("gpus_per_node", int, "a whole number of GPUs"),
    ("cpus", int, "a whole number of cores"),
    ("mem_gb", (int, float), "a number of GB"),
    ("walltime", str, "a wall time as text, 'HH:MM:SS'"),
    ("name", str, "text"),
    ("command", str, "the command to run, as text"),
)
_EXAMPLES = {
    "nodes": "1",
    "gpus_per_node": "1",
    "cpus": "16",
    "mem_gb": "60",
    "walltime": "'02:00:00'",
    "partition": "'<a partition from the table>'",
    "account": "f'{ALLOCATION}-delta-gpu'",
    "name": "'lab02'",
    "command": "'python train.py'",
}


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} Fix: {self.fix}"


def problems(job: Job | dict) -> list[Problem]:
    """Everything wrong with ``job`` for its partition (empty list = it would be accepted)."""
    job = Job.from_any(job)
    try:
        part = partition(job.partition)
    except UsageError as exc:
        return [Problem("partition", exc.message, exc.hint)]
    node = part.node_type
    found: list[Problem] = []
    kind = "gpu" if part.is_gpu else "cpu"
    suffix = f"-delta-{kind}"
    if not str(job.account).endswith(suffix) or str(job.account) == suffix:
        found.append(
            Problem(
                "account",
                f"{job.account!r} is not a {kind.upper()} account; {part.name} charges accounts named <alloc>{suffix}.",
                f"Use your allocation's {kind.upper()} account, e.g. 'bbka{suffix}'.",
            )
        )
    if int(job.nodes) < 1:
        found.append(Problem("nodes", f"a job needs at least one node, not {job.nodes}.", "Set nodes=1."))
    elif int(job.nodes) > node.nodes:
        found.append(
            Problem(
                "nodes",
                f"{part.name} has {node.nodes} nodes; the job asks for {job.nodes}.",
                f"Ask for at most {node.nodes} nodes.",
            )
        )
    if part.is_gpu and int(job.gpus_per_node) < 1:
        found.append(
            Problem(
                "gpus_per_node",
                f"a job on {part.name} must ask for at least one GPU.",
                "Set gpus_per_node=1 (or more), or use a cpu partition for CPU-only work.",
            )
        )
    if not part.is_gpu and int(job.gpus_per_node) > 0:
        found.append(
            Problem(
                "gpus_per_node",
                f"{part.name} nodes have no GPUs; the job asks for {job.gpus_per_node}.",
                "Set gpus_per_node=0, or pick a GPU partition such as gpuA40x4.",
            )
        )
    if int(job.gpus_per_node) > node.gpus > 0:
        found.append(
            Problem(
                "gpus_per_node",
                f"{node.name} nodes have {node.gpus} GPUs; the job asks for {job.gpus_per_node} per node.",
                f"Ask for at most {node.gpus} GPUs per node and more nodes for more GPUs "
                f"(nodes={-(-int(job.gpus_per_node) // node.gpus)}, gpus_per_node={node.gpus}).",
            )
        )
    if int(job.cpus) < 1:
        found.append(Problem("cpus", f"a job needs at least one core, not {job.cpus}.", "Set cpus=1 or more."))
    elif int(job.cpus) > node.cores:
        found.append(
            Problem(
                "cpus",
                f"{node.name} nodes have {node.cores} cores; the job asks for {job.cpus} per node.",
                f"Ask for at most {node.cores} cores per node.",
            )
        )
    if job.memory_gb <= 0:
        found.append(
            Problem(
                "mem_gb", f"memory must be positive, not {job.mem_gb}.", "Set mem_gb to the GB per node the job needs."
            )
        )
    elif job.memory_gb > node.memory_gb:
        found.append(
            Problem(
                "mem_gb",
                f"{node.name} nodes have {node.memory_gb:g} GB of memory; the job asks for {job.memory_gb:g} GB per node.",
                f"Ask for at most {node.memory_gb:g} GB per node, or spread the work over more nodes.",
            )
        )
    try:
        hours = job.hours
    except UsageError as exc:
        found.append(Problem("walltime", exc.message, exc.hint))
    else:
        if hours <= 0:
            found.append(
                Problem(
                    "walltime",
                    "the wall time must be longer than zero.",
                    "Ask for the time the job needs plus a margin, e.g. '01:00:00'.",
                )
            )
        elif hours > part.max_hours:
            longer = [p.name for p in _same_hardware(part) if p.max_hours >= hours]
            other = f", or use {longer[0]}" if longer else ""
            found.append(
                Problem(
                    "walltime",
                    f"{job.walltime} is over {part.name}'s limit of {part.max_walltime}.",
                    f"Ask for at most {part.max_walltime} and checkpoint longer work{other}.",
                )
            )
    return found


def _same_hardware(part: Partition) -> list[Partition]:
    from .delta import partitions

    return [p for p in partitions().values() if p.node_type.name == part.node_type.name and p.name != part.name]


def validate(job: Job | dict) -> Job:
    """The job, if its partition would accept it; else a ``UsageError`` naming every fix."""
    job = Job.from_any(job)
    found = problems(job)
    if found:
        message = "this job would be rejected: " + " ".join(
            f"({i}) {p.field}: {p.message}" for i, p in enumerate(found, 1)
        )
        hint = "To fix: " + " ".join(f"({i}) {p.fix}" for i, p in enumerate(found, 1))
        raise UsageError(message, hint=hint)
    return job


@dataclass(frozen=True)
class SuCost:
    """What a job costs if it runs its whole wall time (Delta charges the time actually used)."""

    units: float  # GPUs (GPU partitions) or cores (CPU partitions) charged per node
    unit: str  # "GPU" or "core"
    decided_by: str  # "gpus" | "cores" | "memory"
    nodes: int
    hours: float
    charge_factor: float
    su: float
    minimum_applied: bool = False  # Delta charges at least 1 SU per job

    def __str__(self) -> str:
        raw = self.nodes * self.units * self.hours * self.charge_factor
        line = (
            f"{self.nodes} node(s) x {self.units:g} {self.unit}(s) charged (decided by {self.decided_by}) x {self.hours:g} h "
            f"x charge factor {self.charge_factor:g} = {raw:.4g} SU"
        )
        return line + (f", raised to the minimum charge of {self.su:g} SU" if self.minimum_applied else "")


def su_cost(job: Job | dict, hours: float | None = None) -> SuCost:
    """SUs for ``job`` over ``hours`` (default: its whole wall time)."""
    job = Job.from_any(job)
    part = partition(job.partition)
    hours = job.hours if hours is None else float(hours)
    if part.is_gpu:
        cores_per_gpu, mem_per_gpu = per_gpu_share(part.node_type.name)
        candidates = {
            "gpus": float(job.gpus_per_node),
            "cores": job.cpus / cores_per_gpu,
            "memory": job.memory_gb / mem_per_gpu,
        }
        unit = "GPU"
    else:
        per_core = float(su_rules()["cpu"]["memory_gb_per_core"])
        candidates = {"cores": float(job.cpus), "memory": job.memory_gb / per_core}
        unit = "core"
    decided_by = max(candidates, key=lambda k: candidates[k])
    units = candidates[decided_by]
    raw = round(int(job.nodes) * units * hours * part.charge_factor, 6)
    minimum = float(su_rules().get("minimum_su", 0))
    return SuCost(units, unit, decided_by, int(job.nodes), hours, part.charge_factor, max(raw, minimum), raw < minimum)


def render_sbatch(job: Job | dict, validate_first: bool = True) -> str:
    """The job as an sbatch script (validated first, so a rejected job never reaches a file)."""
    job = validate(job) if validate_first else Job.from_any(job)
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={job.name}",
        f"#SBATCH --account={job.account}",
        f"#SBATCH --partition={job.partition}",
        f"#SBATCH --nodes={int(job.nodes)}",
        "#SBATCH --ntasks-per-node=1",
        f"#SBATCH --cpus-per-task={int(job.cpus)}",
        f"#SBATCH --mem={_mem(job.memory_gb)}",
    ]
    if int(job.gpus_per_node) > 0:
        lines.append(f"#SBATCH --gpus-per-node={int(job.gpus_per_node)}")
    lines += [
        f"#SBATCH --time={format_walltime(job.hours)}",
        "#SBATCH --output=%x-%j.out",
        "",
        "# what the job runs; srun starts it on the allocated node(s)",
        f"srun {job.command}" if job.command.strip() else "srun hostname",
        "",
    ]
    return "\n".join(lines)


def _mem(gb: float) -> str:
    return f"{int(gb)}G" if float(gb).is_integer() else f"{int(round(gb * 1000))}M"


def accepted(job) -> bool:
    """True when ``job`` is a well-formed job its partition would accept; never raises."""
    try:
        return not problems(job)
    except (UsageError, TypeError, ValueError):
        return False
