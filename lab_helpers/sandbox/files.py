"""Where the sandbox keeps bytes on disk, beside its store: volumes' backing files and objects' data.

Both live under the sandbox's state directory (``ServiceStatus.state_dir``), so a reset or a
temporary state directory takes them along.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError


def backing_path(state_dir: Path, volume_id: str) -> Path:
    """The sparse file behind a volume (whether or not it exists yet)."""
    return Path(state_dir) / "volumes" / f"{volume_id}.img"


def volume_backing_file(volume_id: str, state_dir: Path | None = None) -> Path:
    """The real file behind an existing sandbox volume, for measuring I/O on it (lab 04).

    ``state_dir`` is the sandbox's own state directory (``ServiceStatus.state_dir``); by default,
    the one the course's configuration names.
    """
    if state_dir is None:
        from .service import sandbox_dir

        state_dir = sandbox_dir()
    path = backing_path(state_dir, volume_id)
    if not volume_id or "/" in volume_id or not path.is_file():
        raise UsageError(
            f"no sandbox volume with id {volume_id!r}.",
            hint="Pass `volume.id` of a volume created on the sandbox backend.",
        )
    return path


def blob_path(state_dir: Path, container: str, name: str) -> Path:
    """Where an object's bytes live (hashed names: any object name is a safe file name)."""
    sub = hashlib.sha1(container.encode()).hexdigest()[:16]
    return Path(state_dir) / "objects" / sub / hashlib.sha1(name.encode()).hexdigest()


def write_private_yaml(path: Path, doc: Any) -> Path:
    """Write a client configuration that holds credentials (clouds.yaml, kubeconfig): mode 0600 from
    the first byte, replaced in one step so a reader never sees half of it."""
    import yaml

    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
