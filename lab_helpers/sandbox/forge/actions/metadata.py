"""``docker/metadata-action@v5``: image tags and OCI labels from the event, as its README documents.

Tag rules (one per line of ``tags``): ``type=ref,event=branch`` (the branch, ``/`` made ``-``),
``type=ref,event=tag``, ``type=ref,event=pr`` (``pr-<number>``), ``type=sha`` (``sha-<7>``; ``format=long``,
``prefix=``, ``suffix=``), ``type=semver,pattern=...`` with ``{{version}}``, ``{{major}}``, ``{{minor}}``,
``{{patch}}`` on a semver tag (a leading ``v`` dropped), ``type=raw,value=...``; each with
``enable=true|false|{{is_default_branch}}``. Without ``tags`` the action's default applies (branch, tag and pr
refs). ``flavor: latest=auto`` (the default) adds ``latest`` with a non-prerelease semver tag, ``latest=true``
always, ``latest=false`` never; ``type=raw,value=latest,enable={{is_default_branch}}`` puts it on the default
branch, as the README's recipe does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "Meta", "docker_tags"]

SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
DEFAULT_RULES = ["type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr"]


@dataclass(frozen=True)
class Event:
    event_name: str  # push, pull_request, workflow_dispatch
    ref: str  # refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge
    sha: str
    repository: str  # owner/repo
    default_branch: str = "main"
    url: str = ""  # the repository's web address, for the source label
    created: str = ""  # ISO timestamp for org.opencontainers.image.created


@dataclass(frozen=True)
class Meta:
    tags: list[str]  # full references: image:tag
    labels: dict[str, str]
    version: str

    def outputs(self) -> dict[str, str]:
        """The action's step outputs, newline-separated as the action writes them."""
        return {
            "tags": "\n".join(self.tags),
            "labels": "\n".join(f"{k}={v}" for k, v in self.labels.items()),
            "version": self.version,
        }


def _lines(value: Any, commas: bool = False) -> list[str]:
    """An input list as the action reads it: one item a line (``images`` also split at commas), ``#`` comments."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    parts = re.split(r"[\n,]" if commas else r"\n", str(value))
    return [p.strip() for p in parts if p.strip() and not p.strip().startswith("#")]


def _attrs(rule: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in rule.split(","):
        key, sep, value = part.partition("=")
        out[key.strip()] = value.strip() if sep else ""
    if "type" not in out:  # a bare value is type=raw
        return {"type": "raw", "value": rule.strip()}
    return out


def _sanitize(tag: str) -> str:
    """A tag Docker accepts: ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", tag)
    return re.sub(r"^[.-]+", "", tag)[:128]


def _enabled(attrs: dict[str, str], ev: Event) -> bool:
    flag = attrs.get("enable", "true").replace(" ", "")
    is_default = ev.ref == f"refs/heads/{ev.default_branch}"
    flag = flag.replace("{{is_default_branch}}", "true" if is_default else "false")
    return flag.lower() != "false"


def _one(attrs: dict[str, str], ev: Event) -> tuple[str | None, bool]:
    """The tag one rule makes for ``ev`` (None when it makes none), and whether it is a release for ``latest``."""
    kind = attrs.get("type", "raw")
    name = ev.ref.split("/", 2)[2] if ev.ref.count("/") >= 2 else ev.ref
    prefix, suffix = attrs.get("prefix", ""), attrs.get("suffix", "")
    if kind == "ref":
        event = attrs.get("event", "")
        if event == "branch" and ev.ref.startswith("refs/heads/"):
            return prefix + name + suffix, False
        if event == "tag" and ev.ref.startswith("refs/tags/"):
            return prefix + name + suffix, True
        if event == "pr" and ev.ref.startswith("refs/pull/"):
            return (prefix or "pr-") + ev.ref.split("/")[2] + suffix, False
        return None, False
    if kind == "sha":
        sha = ev.sha if attrs.get("format") == "long" else ev.sha[:7]
        return attrs.get("prefix", "sha-") + sha + suffix, False
    if kind == "semver":
        m = SEMVER.match(name) if ev.ref.startswith("refs/tags/") else None
        if not m:
            return None, False
        major, minor, patch, pre = m.groups()
        pattern = attrs.get("pattern", "{{version}}")
        if pre and pattern != "{{version}}":
            return None, False  # partial versions are not made for prereleases
        version = f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
        out = pattern.replace("{{version}}", version).replace("{{major}}", major).replace("{{minor}}", minor)
        return prefix + out.replace("{{patch}}", patch) + suffix, not pre
    if kind == "raw":
        return (prefix + attrs.get("value", "") + suffix) or None, False
    raise ValueError(
        f"docker/metadata-action: tag type {kind!r} is not supported by the course's runner "
        "(use ref, sha, semver or raw)"
    )


def docker_tags(images: Any, tags: Any, ev: Event, *, flavor: Any = None, labels: Any = None) -> Meta:
    """What ``docker/metadata-action`` outputs for ``ev`` with these inputs."""
    names = _lines(images, commas=True)
    rules = _lines(tags) or DEFAULT_RULES
    flavors = {k.strip(): v.strip() for line in _lines(flavor) for k, _, v in [line.partition("=")]}
    latest = flavors.get("latest", "auto")
    made: list[str] = []
    release = False
    for rule in rules:
        attrs = _attrs(rule)
        if not _enabled(attrs, ev):
            continue
        tag, is_release = _one(attrs, ev)
        if tag:
            tag = _sanitize(tag)
            if tag and tag not in made:
                made.append(tag)
            release = release or is_release
    if (latest == "true" or (latest == "auto" and release)) and "latest" not in made:
        made.append("latest")
    version = made[0] if made else ""
    repo_name = ev.repository.split("/")[-1]
    out_labels = {
        "org.opencontainers.image.title": repo_name,
        "org.opencontainers.image.url": ev.url,
        "org.opencontainers.image.source": ev.url,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.created": ev.created,
        "org.opencontainers.image.revision": ev.sha,
    }
    for line in _lines(labels):
        key, _, value = line.partition("=")
        out_labels[key.strip()] = value.strip()
    refs = [f"{image}:{tag}" for image in names for tag in made] if names else made
    return Meta(refs, out_labels, version)
