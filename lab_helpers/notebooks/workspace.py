"""The learner's own working copy of the labs, outside the repository.

Created on first use from the learner versions. Never overwrites the learner's edits: a file
whose bytes differ from what the course last wrote is the learner's, and a newer version of that
lab is written beside it (``01-one-a40.v1a2b3c4d.ipynb``), not over it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..catalog import all_labs
from ..config import workspace_dir

_LEDGER = ".course-versions.json"


@dataclass
class Sync:
    created: list[str]
    updated: list[str]
    beside: list[str]  # new versions written next to an edited copy
    kept: list[str]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _render(path: Path) -> bytes:
    import nbformat

    from .authoring import learner_version

    nb = learner_version(nbformat.read(path, as_version=4))
    return (nbformat.writes(nb) + "\n").encode()


def sync_workspace(folder: Path | None = None) -> tuple[Path, Sync]:
    folder = Path(folder or workspace_dir())
    folder.mkdir(parents=True, exist_ok=True)
    ledger_path = folder / _LEDGER
    ledger: dict[str, str] = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}
    sync = Sync([], [], [], [])
    for lab in all_labs():
        fresh = _render(lab.path)
        fresh_hash = _digest(fresh)
        target = folder / lab.path.name
        if not target.exists():
            target.write_bytes(fresh)
            ledger[target.name] = fresh_hash
            sync.created.append(target.name)
            continue
        current = _digest(target.read_bytes())
        if current == fresh_hash:
            sync.kept.append(target.name)
        elif current == ledger.get(target.name):  # untouched by the learner: safe to update
            target.write_bytes(fresh)
            ledger[target.name] = fresh_hash
            sync.updated.append(target.name)
        else:  # the learner's edits: put the new version beside it
            beside = target.with_name(f"{target.stem}.v{fresh_hash[:8]}.ipynb")
            if not beside.exists():
                beside.write_bytes(fresh)
                sync.beside.append(beside.name)
            sync.kept.append(target.name)
    ledger_path.write_text(json.dumps(ledger, indent=1, sort_keys=True))
    return folder, sync
