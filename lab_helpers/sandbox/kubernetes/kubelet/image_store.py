"""The sandbox registry's store of built images: what a build pushed, as files under
``<sandbox state>/registry/``.

Laid out like an OCI image layout and a registry's tag index, with the files a container gets
kept as a folder rather than as tar layers:

- ``blobs/sha256/<hex>/config.json``: the image's configuration (entrypoint, command,
  environment, working directory, user, ports, labels, the base it was built FROM);
- ``blobs/sha256/<hex>/rootfs/``: the files its ``COPY`` and ``ADD`` lines took (copied, never
  linked to the build context, which a workflow run deletes);
- ``repositories/<path>.json``: one index per repository, ``{tag: {digest, pushed_at, labels}}``,
  replaced atomically (a crash leaves the previous index whole).

The digest is content-addressed: the same configuration and files give the same digest. This
module reads and writes the store only; ``registry`` turns a stored image into a runnable one and
``builds`` makes them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["DOMAIN", "TagInfo", "list_tags", "push_tag", "read_config", "repositories", "repository_path"]

DOMAIN = "registry.example"  # the sandbox registry's name in image references (reserved: never resolved)
_PATH = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_HEX = re.compile(r"^sha256:([0-9a-f]{64})$")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class TagInfo:
    """One tag of a built repository: the image it names and when it was pushed there."""

    name: str
    digest: str
    pushed_at: float
    labels: dict[str, str] = field(default_factory=dict)


def root(state_dir: Path) -> Path:
    return Path(state_dir) / "registry"


def repository_path(repository: str) -> str:
    """``registry.example/learner/app`` (or ``learner/app``) -> ``learner/app``; ValueError when it
    names another registry or is not a repository name."""
    path = repository.strip()
    first = path.split("/", 1)[0]
    if "/" in path and ("." in first or ":" in first or first == "localhost"):
        domain, path = path.split("/", 1)
        if domain != DOMAIN:
            raise ValueError(
                f"{repository!r} is on the registry {domain!r}; the sandbox registry is {DOMAIN}: "
                f"name the image {DOMAIN}/<owner>/<name>"
            )
    if not _PATH.match(path):
        raise ValueError(f"{repository!r} is not a repository name (lower-case words joined by / . _ -)")
    return path


def blob_dir(state_dir: Path, digest: str) -> Path:
    found = _HEX.match(digest)
    if not found:
        raise ValueError(f"{digest!r} is not a sha256 digest")
    return root(state_dir) / "blobs" / "sha256" / found.group(1)


def index_file(state_dir: Path, repository: str) -> Path:
    return root(state_dir) / "repositories" / f"{repository_path(repository)}.json"


def read_index(state_dir: Path, repository: str) -> dict[str, dict[str, Any]]:
    """A repository's tags as stored (``{}`` when nothing was pushed there)."""
    try:
        data = json.loads(index_file(state_dir, repository).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def list_tags(state_dir: Path, repository: str) -> list[TagInfo]:
    """The tags pushed to ``repository``, newest first."""
    out = [
        TagInfo(name, str(d.get("digest", "")), float(d.get("pushed_at", 0)), dict(d.get("labels") or {}))
        for name, d in read_index(state_dir, repository).items()
    ]
    return sorted(out, key=lambda t: (-t.pushed_at, t.name))


def repositories(state_dir: Path) -> list[str]:
    """Every repository a build pushed to (paths without the registry's domain), sorted."""
    base = root(state_dir) / "repositories"
    if not base.is_dir():
        return []
    return sorted(str(p.relative_to(base))[: -len(".json")] for p in base.rglob("*.json"))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def push_tag(state_dir: Path, repository: str, tag: str, digest: str, labels: dict[str, str] | None = None) -> TagInfo:
    """Point ``repository:tag`` at the stored image ``digest`` (which must be in the store)."""
    if not (blob_dir(state_dir, digest) / "config.json").is_file():
        raise ValueError(f"no image {digest} in the sandbox registry's store: build it first")
    info = TagInfo(tag, digest, time.time(), dict(labels or {}))
    path = index_file(state_dir, repository)
    with _LOCK, _file_lock(path.parent / ".lock"):
        index = read_index(state_dir, repository)
        index[tag] = {"digest": digest, "pushed_at": info.pushed_at, "labels": info.labels}
        _write_atomically(path, json.dumps(index, indent=1, sort_keys=True))
    return info


class _file_lock:
    """An exclusive lock between processes (the sandbox service and a notebook's build)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a")  # noqa: SIM115 - held until __exit__
        fcntl.flock(self.fh, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def write_config(state_dir: Path, digest: str, config: dict[str, Any]) -> None:
    _write_atomically(blob_dir(state_dir, digest) / "config.json", json.dumps(config, indent=1, sort_keys=True))


def read_config(state_dir: Path, digest: str) -> dict[str, Any] | None:
    """A stored image's configuration (None when the store has no such image)."""
    return _read_config(str(blob_dir(state_dir, digest) / "config.json"))


@lru_cache(maxsize=256)
def _read_config_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _read_config(path: str) -> dict[str, Any] | None:
    try:
        return _read_config_cached(path, os.stat(path).st_mtime_ns)
    except (OSError, ValueError):
        return None
