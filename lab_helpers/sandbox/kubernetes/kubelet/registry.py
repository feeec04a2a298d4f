"""The sandbox cluster's image registry: which images a pod may name, what each runs, and the
files each brings into a container's root.

The list is data (``data/registry.yaml``): an image is its real configuration (entrypoint,
command, environment, working directory, exposed ports) plus a few files, programs among them
(small Python stand-ins under ``kubernetes/images/``). An image reference is parsed as the
container runtime parses it (``nginx``, ``nginx:1.27``, ``docker.io/library/nginx:1.27``,
``nginx@sha256:...``); any tag of a listed repository is that image. Anything else fails to pull
with a message that says what the registry holds.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ....paths import load_yaml

IMAGES_DIR = Path(__file__).resolve().parent.parent / "images"
PROGRAMS_DIR = "/usr/lib/sandbox-images"  # where Python stand-ins live inside a container's root

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_DOMAIN = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?$")


class InvalidImageName(ValueError):
    """The reference is not an image name (the kubelet's ``InvalidImageName``)."""


@dataclass(frozen=True)
class Reference:
    """A parsed image reference: ``docker.io`` / ``library/nginx`` : ``1.27`` @ ``sha256:...``."""

    domain: str
    path: str
    tag: str
    digest: str

    @property
    def repository(self) -> str:
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        out = self.repository
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse(ref: str) -> Reference:
    """Parse and normalise an image reference as containerd does (``busybox`` is
    ``docker.io/library/busybox:latest``); :class:`InvalidImageName` when it is none."""
    bad = InvalidImageName(f'couldn\'t parse image name "{ref}": invalid reference format')
    if not ref or ref != ref.strip() or len(ref) > 255:
        raise bad
    rest, _, digest = ref.partition("@")
    if digest and not _DIGEST.match(digest):
        raise bad
    tag = ""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise bad
    parts = rest.split("/")
    domain = "docker.io"
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        domain = parts.pop(0)
        if not _DOMAIN.match(domain):
            raise bad
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = "docker.io"
    if domain == "docker.io" and len(parts) == 1:
        parts.insert(0, "library")
    if not parts or not all(_COMPONENT.match(p) for p in parts):
        raise bad
    if not tag and not digest:
        tag = "latest"
    return Reference(domain, "/".join(parts), tag, digest)


@dataclass(frozen=True)
class Image:
    """One image the registry holds (any tag)."""

    name: str
    repositories: tuple[str, ...]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    working_dir: str = "/"
    ports: tuple[int, ...] = ()
    stop_signal: str = "SIGTERM"
    size: int = 0
    files: dict[str, dict[str, str]] = field(default_factory=dict)
    applets: str = ""  # a folder of links to the host's busybox applets (first on the image's PATH)
    note: str = ""

    @property
    def needs_python(self) -> bool:
        return any("program" in f for f in self.files.values())

    @property
    def has_layer(self) -> bool:
        return bool(self.files or self.applets)


@lru_cache(maxsize=1)
def images() -> dict[str, Image]:
    """Every image of the registry, by its short name."""
    data: dict[str, Any] = load_yaml("registry.yaml")["images"]
    out = {}
    for name, d in data.items():
        out[name] = Image(
            name=name,
            repositories=tuple(d.get("repositories", [f"docker.io/library/{name}"])),
            entrypoint=tuple(d.get("entrypoint", ())),
            cmd=tuple(d.get("cmd", ())),
            env=tuple(d.get("env", ())),
            working_dir=d.get("working_dir", "/") or "/",
            ports=tuple(int(p) for p in d.get("ports", ())),
            stop_signal=d.get("stop_signal", "SIGTERM"),
            size=int(d.get("size", 0)),
            files=dict(d.get("files", {})),
            applets=d.get("applets", ""),
            note=d.get("note", ""),
        )
    return out


def lookup(ref: Reference) -> Image | None:
    for image in images().values():
        if ref.repository in image.repositories:
            return image
    return None


def holds() -> str:
    """What the registry holds, for the message of a failed pull."""
    names = sorted(images())
    return f"the sandbox registry holds {', '.join(names)} (any tag)"


def pull_error(ref: Reference) -> str:
    """Why ``ref`` cannot be pulled, worded as containerd's ``not found``, then what the registry holds."""
    full = str(ref)
    return (
        f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": {full}: not found ({holds()})'
    )


def digest_of(ref: Reference) -> str:
    """The digest a pull of ``ref`` resolves to (the one given, or a stable one per repository and tag)."""
    if ref.digest:
        return ref.digest
    return "sha256:" + hashlib.sha256(f"sandbox-registry:{ref.repository}:{ref.tag}".encode()).hexdigest()


def image_id(ref: Reference) -> str:
    """What a container status shows as ``imageID``: ``docker.io/library/nginx@sha256:...``."""
    return f"{ref.repository}@{digest_of(ref)}"


def go_duration(seconds: float) -> str:
    """A duration as Go prints a ``time.Duration`` truncated to milliseconds (``512ms``, ``1.234s``, ``1m2s``)."""
    ms = int(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, ms = divmod(ms, 60_000)
    secs = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def busybox_applets(busybox: str) -> list[str]:
    """The applets a busybox binary provides (``busybox --list``); [] when it cannot say."""
    import subprocess

    try:
        done = subprocess.run([busybox, "--list"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in done.stdout.split() if re.match(r"^[\w.\[-]+$", a)]


def materialize(image: Image, dest: Path, python: str, inside: bool, busybox: str | None = None) -> Path:
    """Write the image's files into ``dest`` (its layer, made once per kubelet run) and return it.

    ``inside``: the layer is mounted as the container's root (paths are the image's own);
    otherwise the container runs in the host's filesystem and the layer's programs are called by
    their place in ``dest``."""
    layer = dest / image.name
    if layer.exists():
        shutil.rmtree(layer)
    layer.mkdir(parents=True)
    os.chmod(layer, 0o755)
    prefix = "" if inside else str(layer)
    programs = layer / PROGRAMS_DIR.lstrip("/")
    for path, what in sorted(image.files.items()):
        target = layer / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if "program" in what:
            programs.mkdir(parents=True, exist_ok=True)
            for name in (what["program"], "boot.py"):
                shutil.copyfile(IMAGES_DIR / name, programs / name)
            launcher = (
                "#!/bin/sh\n"
                f"exec '{python}' -I -S '{prefix}{PROGRAMS_DIR}/boot.py' '{prefix}{PROGRAMS_DIR}/{what['program']}' \"$@\"\n"
            )
            target.write_text(launcher, encoding="utf-8")
            mode = 0o755
        elif "script" in what:
            shutil.copyfile(IMAGES_DIR / what["script"], target)
            mode = 0o755
        else:
            shutil.copyfile(IMAGES_DIR / what["file"], target)
            mode = 0o644
        os.chmod(target, mode)
    if image.applets and busybox:
        folder = layer / image.applets.lstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        for applet in busybox_applets(busybox):
            os.symlink(busybox, folder / applet)
    for root, dirs, _ in os.walk(layer):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    return layer
