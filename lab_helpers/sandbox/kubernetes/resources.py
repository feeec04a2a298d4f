"""The kinds the sandbox's Kubernetes API serves: one table that discovery, storage, the schemas,
``kubectl get`` columns and the controllers all read, so a kind is added in one place.

The lookups (``resource_for``, ``resource_of_kind``, ``by_plural``, ``groups``) also find the custom
resources the stored CustomResourceDefinitions serve (``crds``): the built-in table is searched first,
so looking up a built-in kind never reads the CRDs. Pass ``objects`` to look in that store; without it
the store this process last served is used."""

from __future__ import annotations

from typing import Any

from .crds import served
from .kinds import ALL_VERBS, GIT_VERSION, MAJOR, MINOR, PATCH, RESOURCES, Resource

__all__ = [
    "ALL_VERBS", "GIT_VERSION", "MAJOR", "MINOR", "PATCH", "RESOURCES", "Resource",
    "by_plural", "groups", "resource_for", "resource_of_kind",
]  # fmt: skip


def _custom(objects: Any = None) -> tuple[Resource, ...]:
    """The custom resources the stored CRDs serve (``crds``): of ``objects``' store, or the store in use."""
    return served(objects)


def groups(objects: Any = None) -> dict[str, list[str]]:
    """Each API group (core is "") with its versions, preferred first; custom resources' groups after."""
    out: dict[str, list[str]] = {}
    for r in (*RESOURCES, *_custom(objects)):
        out.setdefault(r.group, [])
        if r.version not in out[r.group]:
            out[r.group].append(r.version)
    return out


def resource_for(group: str, version: str, plural: str, objects: Any = None) -> Resource | None:
    for r in RESOURCES:
        if (r.group, r.version, r.plural) == (group, version, plural):
            return r
    for r in _custom(objects):
        if (r.group, r.version, r.plural) == (group, version, plural):
            return r
    return None


def resource_of_kind(api_version: str, kind: str, objects: Any = None) -> Resource | None:
    """The resource an object's ``apiVersion``/``kind`` belongs to (for ownerReferences and bodies)."""
    for r in RESOURCES:
        if r.api_version == api_version and r.kind == kind:
            return r
    for r in _custom(objects):
        if r.api_version == api_version and r.kind == kind:
            return r
    return None


def by_plural(plural: str, group: str = "", objects: Any = None) -> Resource:
    """A resource the caller knows exists (controllers: ``by_plural("pods")``)."""
    for r in RESOURCES:
        if r.plural == plural and r.group == group:
            return r
    for r in _custom(objects):
        if r.plural == plural and r.group == group:
            return r
    raise KeyError(f"{plural}.{group}")
