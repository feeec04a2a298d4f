"""The sandbox cluster's record: its name, marks and VMs, one JSON file per cluster beside the sandbox's state.

The record is written as each VM is created, so that ``lab cluster delete`` and ``lab cleanup``
find a cluster whose creation stopped half-way. The VMs themselves carry the cluster's name in
their metadata too, so a lost record loses nothing that cleanup needs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..sandbox.service import sandbox_dir

__all__ = ["ClusterRecord", "Member", "all_records", "forget", "load", "save"]

FOLDER = "clusters"


@dataclass(frozen=True)
class Member:
    """One VM of the cluster, which is also its Node (same name)."""

    role: str  # ROLE_* of nodes.py
    server_id: str
    name: str
    flavor: str


@dataclass
class ClusterRecord:
    name: str
    lab: str
    learner: str
    expires: str
    created: str
    members: list[Member] = field(default_factory=list)

    @property
    def server_ids(self) -> list[str]:
        return [m.server_id for m in self.members]


def _folder(root: Path | None = None) -> Path:
    return (root or sandbox_dir()) / FOLDER


def _path(name: str, root: Path | None = None) -> Path:
    return _folder(root) / f"{name}.json"


def save(record: ClusterRecord, root: Path | None = None) -> Path:
    """Write the record atomically (a crash leaves the old one or the new one, never half)."""
    path = _path(record.name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load(name: str, root: Path | None = None) -> ClusterRecord | None:
    try:
        doc = json.loads(_path(name, root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    members = [Member(**m) for m in doc.pop("members", [])]
    return ClusterRecord(**doc, members=members)


def all_records(root: Path | None = None) -> list[ClusterRecord]:
    """Every recorded cluster of this sandbox, by name."""
    folder = _folder(root)
    names = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    return [r for r in (load(n, root) for n in names) if r is not None]


def forget(name: str, root: Path | None = None) -> bool:
    """Remove the record; True when there was one."""
    try:
        _path(name, root).unlink()
    except FileNotFoundError:
        return False
    return True
