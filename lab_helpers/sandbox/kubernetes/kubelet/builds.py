"""Image builds into the sandbox registry: what ``docker build`` (BuildKit) and a push do, for the
part of a Dockerfile the sandbox can honour.

A Dockerfile is read with dockerfile-parse. The target stage and the stages it needs (its
``FROM`` chain, ``COPY --from``) are followed in order; the others are skipped, as BuildKit
skips them. What an image is made of is recorded for real: its configuration (``ENV``,
``WORKDIR``, ``USER``, ``EXPOSE``, ``CMD``, ``ENTRYPOINT``, ``LABEL``, ``STOPSIGNAL``, the base
image's own) and the files its ``COPY`` and ``ADD`` lines take from the build context (with
``.dockerignore``) or from another stage, copied into the registry's store (``image_store``), so a
pod of tag X runs exactly the code of the commit tag X was built from.

``RUN`` lines are not executed: there is no root filesystem of a distribution to run them in.
An image built FROM a Python base (``python:3.11-slim``, NVIDIA's CUDA base with a venv) runs
the course's own interpreter with its installed packages instead, which stands in for what
``pip install -r requirements.txt`` would have installed; the image's note says so.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import re
import shlex
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ....errors import UsageError
from . import image_store, registry
from .image_store import DOMAIN, TagInfo, list_tags

__all__ = ["DOMAIN", "BuildError", "Built", "TagInfo", "build", "list_tags"]

NOTE = (
    "built in the sandbox: the files of its COPY and ADD lines and its configuration are the Dockerfile's; "
    "RUN lines were not executed (the course's own Python and its packages stand in for what they install)"
)
DEFAULT_SHELL = ["/bin/sh", "-c"]
_VAR = re.compile(r"\\\$|\$(?:\{(\w+)(?:(:?[-+])([^}]*))?\}|(\w+))")


class BuildError(UsageError):
    """The Dockerfile, its context or the tags ask for something the build cannot do."""


@dataclass(frozen=True)
class Built:
    """A finished build: the image's digest, the references pushed, the image's size in bytes."""

    digest: str
    refs: list[str]
    size: int


@dataclass
class _Entry:
    """One path of an image's files: a file (copied from ``source``), a folder or a symbolic link."""

    kind: str  # file | dir | link
    mode: int = 0o644
    source: str = ""  # a file's place on this machine
    target: str = ""  # a link's target
    sha256: str = ""
    size: int = 0

    def describe(self, path: str) -> list[Any]:
        return [path, self.kind, oct(self.mode), self.sha256 or self.target, self.size]


@dataclass
class _Stage:
    index: int
    name: str
    base: str
    line: int
    instructions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _State:
    """A stage's image as its instructions build it."""

    config: dict[str, Any]
    files: dict[str, _Entry] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return dict(e.split("=", 1) for e in self.config["env"] if "=" in e)

    def vars(self) -> dict[str, str]:
        return {**self.args, **self.env()}


# -- the Dockerfile -------------------------------------------------------------------------------------------------


def expand(text: str, variables: dict[str, str]) -> str:
    """``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME:+alternative}`` as the Dockerfile substitutes them."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "\\$":
            return "$"
        name = m.group(1) or m.group(4)
        value = variables.get(name)
        op, word = m.group(2), m.group(3) or ""
        if op in (":-", "-"):
            return value if value is not None and (value or op == "-") else expand(word, variables)
        if op in (":+", "+"):
            return expand(word, variables) if (value if op == ":+" else value is not None) else ""
        return value or ""

    return _VAR.sub(one, text)


def _pairs(value: str, where: str) -> list[tuple[str, str]]:
    """``A=1 B="two words"`` (or the old ``A one value``) of ENV and LABEL."""
    words = shlex.split(value, posix=True)
    if words and "=" not in words[0]:
        key, _, rest = value.strip().partition(" ")
        return [(key, " ".join(shlex.split(rest)) if rest.strip() else "")]
    out = []
    for word in words:
        if "=" not in word:
            raise BuildError(f"{where}: {word!r} has no '=': write NAME=value")
        key, _, val = word.partition("=")
        out.append((key, val))
    return out


def _command(value: str, shell: list[str]) -> list[str]:
    """CMD/ENTRYPOINT/SHELL: the exec form (a JSON array) or the shell form (run by the stage's shell)."""
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return parsed
    return [*shell, text]


def _flags(value: str) -> tuple[dict[str, str], str]:
    """Leading ``--name=value`` flags of COPY, ADD and FROM, and the rest."""
    flags: dict[str, str] = {}
    rest = value.strip()
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        name, _, val = word[2:].partition("=")
        flags[name] = val
        rest = rest.strip()
    return flags, rest


def _stages(structure: list[dict[str, Any]]) -> tuple[list[_Stage], list[dict[str, Any]]]:
    """The Dockerfile's stages (instructions after each FROM) and the ARG lines before the first FROM."""
    stages: list[_Stage] = []
    global_args: list[dict[str, Any]] = []
    for ins in structure:
        kind = ins["instruction"]
        if kind == "COMMENT":
            continue
        if kind == "FROM":
            flags, rest = _flags(ins["value"])
            words = rest.split()
            name = words[2].lower() if len(words) == 3 and words[1].upper() == "AS" else ""
            if not words or len(words) not in (1, 3):
                raise BuildError(f"line {ins['startline'] + 1}: FROM {ins['value']!r}: write FROM <image> [AS <name>]")
            stages.append(_Stage(len(stages), name, words[0], ins["startline"] + 1))
        elif not stages:
            if kind != "ARG":
                raise BuildError(
                    f"line {ins['startline'] + 1}: {kind} before the first FROM: only ARG may come before FROM"
                )
            global_args.append(ins)
        else:
            stages[-1].instructions.append(ins)
    if not stages:
        raise BuildError("the Dockerfile has no FROM line: a build needs at least one stage")
    return stages, global_args


def _arg_values(value: str, args: dict[str, str], given: dict[str, str], outer: dict[str, str]) -> dict[str, str]:
    out = {}
    for word in shlex.split(value):
        name, eq, default = word.partition("=")
        if name in given:
            out[name] = given[name]
        elif eq:
            out[name] = expand(default, {**outer, **args, **out})
        elif name in outer:
            out[name] = outer[name]
    return out


# -- the build context ----------------------------------------------------------------------------------------------


def _ignore_patterns(context: Path, dockerfile: str) -> list[tuple[bool, re.Pattern[str]]]:
    """``.dockerignore`` (or ``<Dockerfile>.dockerignore`` beside the Dockerfile, which BuildKit prefers)."""
    own = context / f"{dockerfile}.dockerignore"
    path = own if own.is_file() else context / ".dockerignore"
    if not path.is_file():
        return []
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        if pattern in (".", ""):
            continue
        out.append((negate, re.compile(_go_pattern(pattern))))
    return out


def _go_pattern(pattern: str) -> str:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[" and pattern.find("]", i + 1) > 0:
            end = pattern.find("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return f"^{out}$"


def _ignored(rel: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``rel`` is left out: the last pattern matching it or a folder above it decides."""
    if not patterns:
        return False
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for negate, pattern in patterns:
        if any(pattern.match(c) for c in candidates):
            out = not negate
    return out


def _context_files(context: Path, dockerfile: str) -> dict[str, str]:
    """Every path of the context a build may use (``.dockerignore`` applied): relative path -> kind."""
    patterns = _ignore_patterns(context, dockerfile)
    out: dict[str, str] = {}
    for top, dirs, files in os.walk(context):
        rel_top = os.path.relpath(top, context).replace(os.sep, "/")
        prefix = "" if rel_top == "." else rel_top + "/"
        for d in list(dirs):
            rel = prefix + d
            if os.path.islink(os.path.join(top, d)):
                dirs.remove(d)
                if not _ignored(rel, patterns):
                    out[rel] = "link"
            elif not _ignored(rel, patterns):
                out[rel] = "dir"
            elif not any(neg for neg, _ in patterns):
                dirs.remove(d)  # nothing under it can come back
        for f in files:
            rel = prefix + f
            if not _ignored(rel, patterns):
                out[rel] = "link" if os.path.islink(os.path.join(top, f)) else "file"
    return out


def _entry_of(path: Path, kind: str, mode_override: int | None) -> _Entry:
    if kind == "link":
        return _Entry("link", 0o777, target=os.readlink(path))
    if kind == "dir":
        return _Entry("dir", mode_override or 0o755)
    data = path.read_bytes()
    mode = mode_override if mode_override is not None else stat.S_IMODE(path.stat().st_mode)
    return _Entry("file", mode, source=str(path), sha256=hashlib.sha256(data).hexdigest(), size=len(data))


# -- COPY and ADD ---------------------------------------------------------------------------------------------------


@dataclass
class _Builder:
    state_dir: Path
    context: Path
    dockerfile: str
    build_args: dict[str, str]
    stages: list[_Stage]
    global_args: dict[str, str]
    done: dict[int, _State] = field(default_factory=dict)
    _context: dict[str, str] | None = None
    _scratch: list[Path] = field(default_factory=list)  # folders ADD unpacked archives into

    def context_files(self) -> dict[str, str]:
        if self._context is None:
            self._context = _context_files(self.context, self.dockerfile)
        return self._context

    def stage_of(self, ref: str) -> _Stage | None:
        if ref.isdigit():
            return self.stages[int(ref)] if int(ref) < len(self.stages) else None
        return next((s for s in self.stages if s.name and s.name == ref.lower()), None)

    def needed(self, target: _Stage) -> list[_Stage]:
        """The target and every stage it builds FROM or copies from, in the Dockerfile's order."""
        want: set[int] = set()
        todo = [target]
        while todo:
            stage = todo.pop()
            if stage.index in want:
                continue
            want.add(stage.index)
            parent = self.stage_of(expand(stage.base, self.global_args))
            if parent is not None and parent.index < stage.index:
                todo.append(parent)
            for ins in stage.instructions:
                if ins["instruction"] in ("COPY", "ADD"):
                    source = _flags(ins["value"])[0].get("from")
                    other = self.stage_of(source) if source else None
                    if other is not None and other.index != stage.index:
                        todo.append(other)
        return [s for s in self.stages if s.index in want]

    # -- one stage ------------------------------------------------------------------------------------------------

    def run_stage(self, stage: _Stage) -> _State:
        base = expand(stage.base, self.global_args)
        state = self.start(stage, base)
        for ins in stage.instructions:
            self.apply(state, stage, ins)
        self.done[stage.index] = state
        return state

    def start(self, stage: _Stage, base: str) -> _State:
        parent = self.stage_of(base)
        if parent is not None and parent.index < stage.index:
            prev = self.done[parent.index]
            return _State(
                json.loads(json.dumps(prev.config)), dict(prev.files), {}, list(prev.history) + [f"FROM {base}"]
            )
        config: dict[str, Any] = {
            "entrypoint": [],
            "cmd": [],
            "env": [],
            "working_dir": "/",
            "user": "",
            "ports": [],
            "labels": {},
            "stop_signal": "SIGTERM",
            "shell": DEFAULT_SHELL,
            "volumes": [],
            "base": {"ref": "scratch"},
            "base_files": {},
            "applets": "",
            "course_python": False,
            "base_size": 0,
        }
        if base == "scratch":
            return _State(config, history=["FROM scratch"])
        try:
            ref = registry.parse(base)
        except registry.InvalidImageName as exc:
            raise BuildError(f"line {stage.line}: FROM {base}: {exc}") from None
        image = registry.lookup(ref)
        if image is None:
            raise BuildError(
                f"line {stage.line}: FROM {base}: the sandbox registry has no image {ref}",
                hint=f"Name a base image it holds ({registry.holds()}), or a stage of this Dockerfile.",
            )
        config.update(
            entrypoint=list(image.entrypoint),
            cmd=list(image.cmd),
            env=list(image.env),
            working_dir=image.working_dir or "/",
            user=image.user,
            ports=list(image.ports),
            stop_signal=image.stop_signal,
            base={"ref": str(ref), "image": image.name, "digest": registry.digest_of(ref)},
            base_files=dict(image.files),
            applets=image.applets,
            course_python=image.course_python,
            base_size=image.size,
        )
        state = _State(config, history=[f"FROM {ref}"])
        if image.rootfs:  # a base built here: its files come along
            top = Path(image.rootfs)
            for dirpath, dirs, files in os.walk(top):
                for name in dirs + files:
                    full = Path(dirpath) / name
                    kind = "link" if full.is_symlink() else "dir" if full.is_dir() else "file"
                    state.files["/" + str(full.relative_to(top))] = _Entry(
                        kind,
                        stat.S_IMODE(full.lstat().st_mode),
                        source=str(full) if kind == "file" else "",
                        target=os.readlink(full) if kind == "link" else "",
                        sha256=hashlib.sha256(full.read_bytes()).hexdigest() if kind == "file" else "",
                        size=full.stat().st_size if kind == "file" else 0,
                    )
            config["base_size"] = max(0, image.size - sum(e.size for e in state.files.values()))
        return state

    def apply(self, state: _State, stage: _Stage, ins: dict[str, Any]) -> None:
        kind, value, line = ins["instruction"], ins["value"], ins["startline"] + 1
        where = f"line {line}: {kind}"
        cfg = state.config
        if kind == "ARG":
            state.args.update(_arg_values(value, state.args, self.build_args, self.global_args))
        elif kind == "ENV":
            variables = state.vars()
            for key, val in _pairs(value, where):
                cfg["env"] = list(registry.merge_env(tuple(cfg["env"]), (f"{key}={expand(val, variables)}",)))
        elif kind in ("LABEL", "MAINTAINER"):
            pairs = _pairs(value, where) if kind == "LABEL" else [("maintainer", value.strip())]
            cfg["labels"].update({k: expand(v, state.vars()) for k, v in pairs})
        elif kind == "WORKDIR":
            cfg["working_dir"] = posixpath.normpath(posixpath.join(cfg["working_dir"], expand(value, state.vars())))
            state.files.setdefault(cfg["working_dir"], _Entry("dir", 0o755))
        elif kind == "USER":
            cfg["user"] = expand(value.strip(), state.vars())
        elif kind == "EXPOSE":
            for word in expand(value, state.vars()).split():
                port = word.split("/")[0]
                low, _, high = port.partition("-")
                if not low.isdigit() or (high and not high.isdigit()):
                    raise BuildError(f"{where} {value}: {word!r} is not a port (write 8080 or 8080/tcp)")
                cfg["ports"] += [p for p in range(int(low), int(high or low) + 1) if p not in cfg["ports"]]
        elif kind == "CMD":
            cfg["cmd"] = _command(value, cfg["shell"])
        elif kind == "ENTRYPOINT":
            cfg["entrypoint"] = _command(value, cfg["shell"])
            cfg["cmd"] = [c for c in cfg["cmd"]] if "CMD" in {i["instruction"] for i in stage.instructions} else []
        elif kind == "SHELL":
            shell = _command(value, [])
            if not shell or not value.strip().startswith("["):
                raise BuildError(
                    f'{where} {value}: SHELL takes the exec form, a JSON array such as ["/bin/bash", "-c"]'
                )
            cfg["shell"] = shell
        elif kind == "STOPSIGNAL":
            cfg["stop_signal"] = value.strip()
        elif kind == "VOLUME":
            text = value.strip()
            cfg["volumes"] += json.loads(text) if text.startswith("[") else text.split()
        elif kind in ("COPY", "ADD"):
            self.copy(state, kind, value, where)
        elif kind not in ("RUN", "HEALTHCHECK", "ONBUILD"):
            raise BuildError(f"{where}: unknown instruction: {kind}")
        state.history.append(f"{kind} {' '.join(value.split())}")

    def copy(self, state: _State, kind: str, value: str, where: str) -> None:
        flags, rest = _flags(value)
        if rest.startswith("<<"):
            raise BuildError(
                f"{where}: a here-document is not supported in the sandbox: put the text in a file and COPY it"
            )
        text = rest.strip()
        words = json.loads(text) if text.startswith("[") else shlex.split(text)
        variables = state.vars()
        words = [expand(w, variables) for w in words]
        if len(words) < 2:
            raise BuildError(f"{where} {value}: name at least one source and a destination")
        *sources, dest = words
        mode = int(flags["chmod"], 8) if flags.get("chmod") else None
        workdir = state.config["working_dir"]
        dest_path = posixpath.normpath(posixpath.join(workdir, dest))
        into = dest.endswith("/") or dest in (".", "./") or len(sources) > 1 or any(_glob(s) for s in sources)
        into = into or (state.files.get(dest_path, _Entry("file")).kind == "dir")
        if flags.get("from"):
            other = self.stage_of(flags["from"])
            if other is None or other.index not in self.done:
                raise BuildError(
                    f"{where} --from={flags['from']}: no stage named {flags['from']!r} before this line; "
                    "copying from another image is not supported in the sandbox (copy from a stage of this Dockerfile)"
                )
            files = self.done[other.index].files
            kinds = {p: e.kind for p, e in files.items()}
            for source in sources:
                key = posixpath.normpath(posixpath.join("/", source))
                for path, rel, inside in _match(where, source, key, kinds, "Check the path in that stage's files."):
                    _put(state, dest_path, into, rel, inside, files[path], mode)
            return
        context_root = os.path.realpath(self.context)
        for source in sources:
            if kind == "ADD" and re.match(r"^(https?|git|ssh)://|^git@", source):
                raise BuildError(
                    f"{where} {source}: ADD of a URL is not supported in the sandbox",
                    hint="Download the file into the repository (or the workflow's checkout) and COPY it.",
                )
            clean = posixpath.normpath(source.lstrip("/") or ".")
            if clean == ".." or clean.startswith("../"):
                raise BuildError(
                    f'{where} {source}: failed to compute cache key: "{source}": forbidden path outside the build '
                    "context",
                    hint="A build sees only its context folder: move the file into it (or build from a folder above).",
                )
            hint = "Check the name (is it left out by .dockerignore?)."
            kinds = self.context_files()
            for path, rel, inside in _match(where, source, clean, kinds, hint):
                host = self.context / path
                entry_kind = "dir" if path == "." else kinds[path]
                if entry_kind == "link" and not inside:  # the source named is a link: followed, inside the context
                    real = os.path.realpath(host)
                    if not real.startswith(context_root + os.sep) or not os.path.isfile(real):
                        raise BuildError(
                            f"{where} {source}: it links to {os.readlink(host)}, outside the build context"
                        )
                    host, entry_kind = Path(real), "file"
                if kind == "ADD" and entry_kind == "file" and not inside and tarfile.is_tarfile(host):
                    self._untar(state, host, dest_path)
                    continue
                entry = _entry_of(host, entry_kind, mode if entry_kind != "link" else None)
                _put(state, dest_path, into, rel, inside, entry, mode)

    def _untar(self, state: _State, archive: Path, dest: str) -> None:
        image_store.root(self.state_dir).mkdir(parents=True, exist_ok=True)
        unpacked = Path(tempfile.mkdtemp(prefix=".add-", dir=image_store.root(self.state_dir)))
        self._scratch.append(unpacked)
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        for dirpath, dirs, files in os.walk(unpacked):
            for name in dirs + files:
                full = Path(dirpath) / name
                rel = str(full.relative_to(unpacked))
                kind = "link" if full.is_symlink() else "dir" if full.is_dir() else "file"
                _put(state, dest, True, rel, True, _entry_of(full, kind, None), None)


def _glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _match(where: str, source: str, key: str, kinds: dict[str, str], hint: str) -> list[tuple[str, str, bool]]:
    """The paths a COPY source takes: (its key in ``kinds``, its name under the destination, whether it
    is a folder's content); a folder copies what it holds, as COPY does."""
    root = key in (".", "/")
    if _glob(key):
        depth = key.count("/")
        tops = sorted(p for p in kinds if p.count("/") == depth and fnmatch.fnmatchcase(p, key))
    else:
        tops = [key] if root or key in kinds else []
    if not tops:
        raise BuildError(f'{where} {source}: failed to compute cache key: "{source}": not found', hint=hint)
    out: list[tuple[str, str, bool]] = []
    for top in tops:
        if not root and kinds[top] != "dir":
            out.append((top, posixpath.basename(top), False))
            continue
        start = "" if top == "." else top.rstrip("/") + "/"
        if not root:
            out.append((top, "", True))
        out += [(p, p[len(start) :], True) for p in sorted(kinds) if p.startswith(start) and p != top]
    return out


def _put(state: _State, dest: str, into: bool, rel: str, inside: bool, entry: _Entry, mode: int | None) -> None:
    """Place one copied path: a folder's content under ``dest``, a file at ``dest`` or in it (``into``)."""
    if inside:
        path = posixpath.normpath(posixpath.join(dest, rel)) if rel else dest
    else:
        path = posixpath.join(dest, rel) if into else dest
    if mode is not None and entry.kind != "link":
        entry = _Entry(entry.kind, mode, entry.source, entry.target, entry.sha256, entry.size)
    state.files[path] = entry
    parent = posixpath.dirname(path)
    while parent not in ("/", "") and parent not in state.files:
        state.files[parent] = _Entry("dir", 0o755)
        parent = posixpath.dirname(parent)


# -- the image ------------------------------------------------------------------------------------------------------


def _store(state_dir: Path, state: _State, labels: dict[str, str]) -> tuple[str, int]:
    """Write the image into the registry's store (once per digest): its digest and size."""
    config = dict(state.config)
    config["labels"] = {**config["labels"], **labels}
    entries = sorted(state.files.items())
    size = sum(e.size for _, e in entries)
    document: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": [e.describe(p) for p, e in entries],
        "history": state.history,
        "note": NOTE,
    }
    digest = "sha256:" + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    document["size"] = config["base_size"] + size
    final = image_store.blob_dir(state_dir, digest)
    if (final / "config.json").is_file():
        return digest, int(document["size"])
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    try:
        rootfs = tmp / "rootfs"
        rootfs.mkdir()
        for path, entry in entries:
            target = rootfs / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if entry.kind == "dir":
                target.mkdir(exist_ok=True)
            elif entry.kind == "link":
                os.symlink(entry.target, target)
            else:
                shutil.copyfile(entry.source, target)
                if hashlib.sha256(target.read_bytes()).hexdigest() != entry.sha256:
                    raise BuildError(f"{entry.source} changed while the build read it: build again")
            if entry.kind != "link":
                os.chmod(target, entry.mode)
        for dirpath, _, _ in os.walk(rootfs):
            if not state.files.get("/" + os.path.relpath(dirpath, rootfs).lstrip(".")):
                os.chmod(dirpath, 0o755)
        (tmp / "config.json").write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:  # another build stored the same image meanwhile
            if not (final / "config.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return digest, int(document["size"])


def _targets(tags: list[str]) -> list[registry.Reference]:
    out = []
    for tag in tags:
        try:
            ref = registry.parse(tag)
        except registry.InvalidImageName as exc:
            raise BuildError(f"tag {tag!r}: {exc}") from None
        if ref.domain != DOMAIN or ref.digest:
            raise BuildError(
                f"tag {tag!r}: the sandbox registry is {DOMAIN}; a pushed tag names it without a digest",
                hint=f"Tag the image {DOMAIN}/<owner>/<name>:<tag>, e.g. {DOMAIN}/learner/sample-app/api:sha-1a2b3c4",
            )
        out.append(ref)
    return out


def build(
    state_dir: Path,
    context: Path,
    dockerfile: str = "Dockerfile",
    target: str | None = None,
    tags: list[str] | None = None,
    labels: dict[str, str] | None = None,
    *,
    build_args: dict[str, str] | None = None,
    push: bool = True,
) -> Built:
    """Build ``target`` (default: the last stage) of ``context/dockerfile`` into the sandbox registry's
    store and push it at ``tags`` (full references, ``registry.example/<owner>/<name>:<tag>``)."""
    from dockerfile_parse import DockerfileParser

    state_dir, context = Path(state_dir), Path(context)
    refs = _targets(list(tags or []))
    if not context.is_dir():
        raise BuildError(f"the build context {context} is not a folder")
    path = context / dockerfile
    if not path.is_file():
        raise BuildError(
            f"failed to read dockerfile: open {dockerfile}: no such file or directory", hint=f"in the context {context}"
        )
    structure = DockerfileParser(path=str(path), env_replace=False).structure
    stages, global_lines = _stages(structure)
    given = dict(build_args or {})
    global_args: dict[str, str] = {}
    for ins in global_lines:
        global_args.update(_arg_values(ins["value"], global_args, given, {}))
    builder = _Builder(state_dir, context, dockerfile, given, stages, global_args)
    if target is None:
        chosen = stages[-1]
    else:
        found = builder.stage_of(target) if not target.isdigit() else None
        if found is None:
            names = ", ".join(s.name for s in stages if s.name) or "none (add AS <name> to a FROM line)"
            raise BuildError(
                f'failed to solve: target stage "{target}" could not be found', hint=f"Its stages: {names}."
            )
        chosen = found
    try:
        state = None
        for stage in builder.needed(chosen):
            state = builder.run_stage(stage)
        assert state is not None
        digest, size = _store(state_dir, state, dict(labels or {}))
    finally:
        for scratch in builder._scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    pushed = []
    if push:
        all_labels = {**state.config["labels"], **(labels or {})}
        for ref in refs:
            image_store.push_tag(state_dir, ref.path, ref.tag, digest, all_labels)
            pushed.append(f"{ref.repository}:{ref.tag}")
    return Built(digest=digest, refs=pushed if push else [f"{r.repository}:{r.tag}" for r in refs], size=size)
