"""Custom resources: the kinds the stored CustomResourceDefinitions add to the API, as one registry.

The registry is derived from the stored CRDs alone (so it is right after a restart of the sandbox):
every served version of every CRD whose ``Established`` condition is True becomes a
:class:`CustomResource`, which is a :class:`Resource` like the built-in ones (stored under
``k8s:<group>/<plural>`` whatever the version) carrying its definition (:class:`CustomKind`: the
version's schema, printer columns, subresources).

Looking a kind up must stay cheap: the built-in table is searched first, and the registry is rebuilt
only when the journal shows a CRD write since it was last built (one indexed query on the journal,
and only when the cluster's resourceVersion moved). ``generation`` changes with every rebuild that
changes what is served: discovery and ``/openapi/v3`` key their caches on it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from .kinds import RESOURCES, Resource
from .objects import Objects

Obj = dict[str, Any]

CRDS = next(r for r in RESOURCES if r.kind == "CustomResourceDefinition")
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
CUSTOM_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")


@dataclass(frozen=True)
class CustomKind:
    """What a served version of a CRD says about its objects."""

    crd_name: str
    crd: Obj = field(compare=False, repr=False)
    version: Obj = field(compare=False, repr=False)  # the entry of spec.versions
    storage: bool = False

    @property
    def schema(self) -> Obj | None:
        found = (self.version.get("schema") or {}).get("openAPIV3Schema")
        return found if isinstance(found, dict) else None

    @property
    def list_kind(self) -> str:
        names = self.crd.get("status", {}).get("acceptedNames") or self.crd.get("spec", {}).get("names") or {}
        return str(names.get("listKind") or f"{names.get('kind', '')}List")

    @property
    def printer_columns(self) -> list[Obj]:
        return list(self.version.get("additionalPrinterColumns") or [])

    @property
    def scale(self) -> Obj | None:
        found = (self.version.get("subresources") or {}).get("scale")
        return found if isinstance(found, dict) else None

    @property
    def terminating(self) -> bool:
        return bool(self.crd.get("metadata", {}).get("deletionTimestamp"))


@dataclass(frozen=True)
class CustomResource(Resource):
    """A served version of a CRD, as a resource of the API."""

    singular_name: str = ""
    custom: CustomKind | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    @property
    def is_custom(self) -> bool:
        return True


def is_custom(res: Resource) -> bool:
    return isinstance(res, CustomResource)


def condition(crd: Obj, kind: str) -> Obj | None:
    for cond in crd.get("status", {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def established(crd: Obj) -> bool:
    cond = condition(crd, "Established")
    return cond is not None and cond.get("status") == "True"


def resources_of(crd: Obj) -> list[CustomResource]:
    """Every served version of one CRD (none until it is Established)."""
    if not established(crd):
        return []
    spec = crd.get("spec") or {}
    names = crd.get("status", {}).get("acceptedNames") or spec.get("names") or {}
    group, kind, plural = str(spec.get("group", "")), str(names.get("kind", "")), str(names.get("plural", ""))
    if not (group and kind and plural):
        return []
    out = []
    for version in spec.get("versions") or []:
        if not isinstance(version, dict) or not version.get("served"):
            continue
        declared = version.get("subresources") or {}
        subs = tuple(s for s in ("status", "scale") if isinstance(declared, dict) and s in declared)
        out.append(
            CustomResource(
                group,
                str(version.get("name", "")),
                kind,
                plural,
                spec.get("scope") != "Cluster",
                tuple(str(s) for s in names.get("shortNames") or ()),
                subs,
                CUSTOM_VERBS,
                tuple(str(c) for c in names.get("categories") or ()),
                singular_name=str(names.get("singular") or kind.lower()),
                custom=CustomKind(crd["metadata"]["name"], crd, version, bool(version.get("storage"))),
            )
        )
    return out


class Registry:
    """The custom resources one store serves, rebuilt when a CRD is written."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self._lock = threading.Lock()
        self._seen_rv = -1  # the resourceVersion up to which the journal has been looked at
        self._built_rv = -1  # the resourceVersion the CRDs were read at
        self._resources: tuple[CustomResource, ...] = ()
        self.generation = ""  # a digest of the stored CRDs: changes when any of them does

    def resources(self) -> tuple[CustomResource, ...]:
        self._refresh()
        return self._resources

    def fingerprint(self) -> str:
        self._refresh()
        return self.generation

    def _refresh(self) -> None:
        """Rebuild when a CRD was written since the last look. The store is read without this registry's
        lock held (a writer inside a store transaction may be asking too): two threads may both rebuild,
        and the later snapshot wins."""
        objects = self.objects
        current = objects.current_rv()
        seen = self._seen_rv
        if current == seen:
            return
        if seen >= 0 and not self._crds_written_since(seen):
            with self._lock:
                self._seen_rv = max(self._seen_rv, current)
            return
        with objects.store.tx():  # the CRDs and the resourceVersion they are current at, together
            at = objects.current_rv()
            crds, _ = objects.list(CRDS)
        built: list[CustomResource] = []
        for crd in crds:
            built += resources_of(crd)
        stamp = json.dumps([(c["metadata"]["name"], c["metadata"].get("resourceVersion")) for c in crds])
        with self._lock:
            if at >= self._built_rv:
                self._built_rv = at
                self._resources = tuple(built)
                self.generation = hashlib.sha256(stamp.encode()).hexdigest()[:16]
                self._seen_rv = max(self._seen_rv, at)

    def _crds_written_since(self, rv: int) -> bool:
        if rv < self.objects.oldest_rv():
            return True
        row = self.objects.store.execute(
            "SELECT 1 FROM k8s_journal WHERE rv > ? AND res = ? LIMIT 1", (rv, CRDS.key)
        ).fetchone()
        return row is not None


_REGISTRIES: dict[int, Registry] = {}
_ACTIVE: list[Registry] = []
_GUARD = threading.Lock()


def registry(objects: Objects) -> Registry:
    """The registry of this store (one per process); it becomes the one store-less lookups use."""
    with _GUARD:
        found = _REGISTRIES.get(id(objects))
        if found is None or found.objects is not objects:
            found = _REGISTRIES[id(objects)] = Registry(objects)
        if not _ACTIVE or _ACTIVE[0] is not found:
            _ACTIVE[:] = [found]
        return found


def served(objects: Objects | None = None) -> tuple[CustomResource, ...]:
    """The custom resources served now (of ``objects``' store, or of the store last used in this process)."""
    if objects is not None:
        return registry(objects).resources()
    return _ACTIVE[0].resources() if _ACTIVE else ()


def storage_resource(res: Resource, objects: Objects | None = None) -> Resource:
    """The resource of the storage version of a custom resource's CRD (the resource itself otherwise)."""
    if not isinstance(res, CustomResource):
        return res
    for other in served(objects):
        if other.key == res.key and other.custom is not None and other.custom.storage:
            return other
    return res
