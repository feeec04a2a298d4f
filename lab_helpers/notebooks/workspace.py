"""The learner's own working copy of the labs, outside the repository.

Created on first use from the learner versions. Never overwrites the learner's edits, and never
clutters the folder: a small manifest (``.course-versions.json``) records, per lab, the hash of
the course's source notebook and of the learner version copied from it. On each ``lab start``:

- a copy the learner never changed is brought up to date;
- a copy the learner changed is left alone while the course's lab is the same one it was made
  from (saving a notebook, or running it, is not a reason to write anything);
- only when the course's lab itself changed since the copy was made is its newer version written
  beside the learner's (``01-one-a40.v1a2b3c4d.ipynb``), once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..catalog import all_labs
from ..config import workspace_dir

MANIFEST = ".course-versions.json"
_FORMAT = 2


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


def load_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """Per working-copy file: ``copied`` (hash of the learner version written), ``source`` (hash of
    the course's notebook it came from) and, once offered, ``offered`` (the source hash whose newer
    version was written beside an edited copy). Reads the older ``{name: hash}`` form too."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    if isinstance(data, dict) and data.get("format") == _FORMAT:
        return {name: dict(entry) for name, entry in data.get("labs", {}).items()}
    return {name: {"copied": value} for name, value in data.items() if isinstance(value, str)}


def _save_manifest(folder: Path, labs: dict[str, dict[str, str]]) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".course-versions-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"format": _FORMAT, "labs": labs}, fh, indent=1, sort_keys=True)
    os.replace(tmp, folder / MANIFEST)


def sync_workspace(folder: Path | None = None, labs_dir: Path | None = None) -> tuple[Path, Sync]:
    """Create or update the working copy in ``folder`` from the labs in ``labs_dir`` (the course's)."""
    folder = Path(folder or workspace_dir())
    folder.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(folder)
    sync = Sync([], [], [], [])
    for lab in all_labs(labs_dir):
        source_hash = _digest(lab.path.read_bytes())
        fresh = _render(lab.path)
        fresh_hash = _digest(fresh)
        target = folder / lab.path.name
        entry = manifest.get(target.name, {})
        copied = {"copied": fresh_hash, "source": source_hash}
        if not target.exists():
            target.write_bytes(fresh)
            manifest[target.name] = copied
            sync.created.append(target.name)
            continue
        current = _digest(target.read_bytes())
        if "source" in entry:
            course_changed = entry["source"] != source_hash
        else:  # a manifest from before source hashes were kept
            course_changed = entry.get("copied") != fresh_hash
        if current == fresh_hash:  # the copy is the course's current version, byte for byte
            manifest[target.name] = copied
            sync.kept.append(target.name)
        elif current == entry.get("copied"):  # untouched by the learner: safe to update
            target.write_bytes(fresh)
            manifest[target.name] = copied
            sync.updated.append(target.name)
        elif not course_changed or entry.get("offered") == source_hash:
            sync.kept.append(target.name)  # the learner's edits; nothing new to offer
        else:  # the learner's edits and a changed lab: the new version goes beside, once
            beside = target.with_name(f"{target.stem}.v{fresh_hash[:8]}.ipynb")
            if not beside.exists():
                beside.write_bytes(fresh)
                sync.beside.append(beside.name)
            manifest[target.name] = {**entry, "offered": source_hash}
            sync.kept.append(target.name)
    _save_manifest(folder, manifest)
    return folder, sync


def working_copy(lab_file_name: str, folder: Path | None = None) -> Path:
    """The learner's own copy of a lab (``NN-slug.ipynb``) in the working copy folder."""
    return Path(folder or workspace_dir()) / lab_file_name
