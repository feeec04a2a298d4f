"""NCSA Delta as data (``data/delta.yaml``): node types, partitions, charge factors, SU rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import UsageError
from ..paths import load_yaml

__all__ = ["node_types", "partitions"]


@dataclass(frozen=True)
class NodeType:
    name: str
    nodes: int
    cores: int
    memory_gb: float
    gpus: int
    cpus: str
    gpu_model: str = ""
    gpu_spec_key: str = ""
    source: str = ""


@dataclass(frozen=True)
class Partition:
    name: str
    node_type: NodeType
    charge_factor: float
    max_walltime: str
    preemptible: bool = False
    source: str = ""
    note: str = ""

    @property
    def is_gpu(self) -> bool:
        return self.node_type.gpus > 0

    @property
    def max_hours(self) -> float:
        return parse_walltime(self.max_walltime)


def parse_walltime(text: str) -> float:
    """'HH:MM:SS', 'MM:SS', 'D-HH:MM:SS' (Slurm's forms) -> hours."""
    raw = str(text).strip()
    days = 0
    if "-" in raw:
        day_text, raw = raw.split("-", 1)
        days = int(day_text) if day_text.isdigit() else -1
    parts = raw.split(":")
    if days < 0 or not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise UsageError(
            f"walltime {text!r} is not in Slurm's HH:MM:SS form.",
            hint="Write it like '02:30:00' (two and a half hours).",
        )
    numbers = [int(p) for p in parts]
    while len(numbers) < 3:
        numbers.insert(0, 0)
    h, m, s = numbers
    return days * 24 + h + m / 60 + s / 3600


def format_walltime(hours: float) -> str:
    seconds = round(hours * 3600)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@lru_cache(maxsize=1)
def _data() -> dict:
    return load_yaml("delta.yaml")


def node_types() -> dict[str, NodeType]:
    out = {}
    for name, raw in _data()["node_types"].items():
        out[name] = NodeType(
            name=name,
            nodes=int(raw["nodes"]),
            cores=int(raw["cores"]),
            memory_gb=float(raw["memory_gb"]),
            gpus=int(raw["gpus"]),
            cpus=str(raw.get("cpus", "")),
            gpu_model=str(raw.get("gpu_model", "")),
            gpu_spec_key=str(raw.get("gpu_spec_key", "")),
            source=str(raw.get("source", "")),
        )
    return out


def partitions() -> dict[str, Partition]:
    types = node_types()
    return {
        name: Partition(
            name=name,
            node_type=types[raw["node_type"]],
            charge_factor=float(raw["charge_factor"]),
            max_walltime=str(raw["max_walltime"]),
            preemptible=bool(raw.get("preemptible", False)),
            source=str(raw.get("source", "")),
            note=str(raw.get("note", "")),
        )
        for name, raw in _data()["partitions"].items()
    }


def partition(name: str) -> Partition:
    """The partition called ``name``; an unknown name lists the real ones (names are case-sensitive)."""
    parts = partitions()
    if name in parts:
        return parts[name]
    close = [p for p in parts if p.lower() == str(name).lower()]
    hint = (
        f"Did you mean {close[0]!r}? Partition names are case-sensitive."
        if close
        else f"Delta's partitions: {', '.join(parts)}."
    )
    raise UsageError(f"partition {name!r} does not exist on Delta.", hint=hint)


def su_rules() -> dict:
    return _data()["su_rules"]


def per_gpu_share(node_type: str) -> tuple[float, float]:
    """(cores, memory GB) that count as one GPU on this node type."""
    share = su_rules()["gpu"]["per_gpu"][node_type]
    return float(share["cores"]), float(share["memory_gb"])


def a40_node() -> dict:
    return dict(_data()["a40_node"])


def sources() -> dict:
    return dict(_data()["sources"])
