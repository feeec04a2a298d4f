"""A resource path, taken apart: which resource, namespace, name and subresource a request names.

``/api/v1/namespaces/web/pods/api-1/log`` is Target(pods, "web", "api-1", "log"). The layout is the
API server's: cluster-scoped resources and all-namespace lists sit right under the group version,
namespaced ones under ``namespaces/{ns}``; ``namespaces/{name}/status`` and ``/finalize`` are the
Namespace's own subresources; a leading ``watch/`` is the old watch path. A group version no built-in
kind has is looked up among the custom resources the stored CRDs serve (``crds``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import crds, status
from ..objects import Objects
from ..resources import RESOURCES, Resource


@dataclass(frozen=True)
class Target:
    res: Resource
    namespace: str  # "" for a cluster-scoped resource or a list across namespaces
    name: str = ""
    sub: str = ""  # "status", "scale", "log", "proxy", ...
    rest: str = ""  # what follows ``proxy/``
    watch: bool = False  # reached through the old ``/watch/`` path

    @property
    def collection(self) -> bool:
        return not self.name


def _resources(group: str, version: str) -> dict[str, Resource]:
    return {r.plural: r for r in RESOURCES if (r.group, r.version) == (group, version)}


_BY_GV: dict[tuple[str, str], dict[str, Resource]] = {}


def served(group: str, version: str, objects: Objects | None = None) -> dict[str, Resource]:
    """The resources of one group version by plural (empty when the group version is not served): the
    built-in ones, else the custom resources the stored CRDs serve."""
    key = (group, version)
    if key not in _BY_GV:
        _BY_GV[key] = _resources(group, version)
    if _BY_GV[key] or objects is None:
        return _BY_GV[key]
    return {r.plural: r for r in crds.served(objects) if (r.group, r.version) == (group, version)}


def parse(group: str, version: str, parts: list[str], objects: Objects | None = None) -> Target:
    """The target of ``parts`` (the path after the group version), or the API server's 404."""
    table = served(group, version, objects)
    if not table or not parts:
        raise status.server_not_found()
    watch = parts[0] == "watch"
    if watch:
        parts = parts[1:]
    namespace = ""
    if len(parts) >= 3 and parts[0] == "namespaces" and parts[2] in table and table[parts[2]].namespaced:
        namespace, parts = parts[1], parts[2:]
        if not namespace:
            raise status.server_not_found()
    res = table.get(parts[0])
    if res is None or any(not p for p in parts[:3]):
        raise status.server_not_found()
    name = parts[1] if len(parts) > 1 else ""
    sub = parts[2] if len(parts) > 2 else ""
    rest = "/".join(parts[3:])
    if res.namespaced and not namespace and name:
        raise status.server_not_found()  # /api/v1/pods/x: a namespaced item needs its namespace
    if sub and sub not in res.subresources:
        raise status.server_not_found()
    if rest and sub != "proxy":
        raise status.server_not_found()
    return Target(res, namespace, name, sub, rest, watch)
