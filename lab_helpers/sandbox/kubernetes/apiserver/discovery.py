"""Discovery in plain JSON: ``/version``, ``/api``, ``/apis``, ``/apis/{group}``, and each group
version's APIResourceList with verbs, short names, categories and subresources (``deployments/scale``,
``pods/log``, ``*/status``). kubectl asks for aggregated discovery first and takes plain JSON (it
reads the answer's Content-Type). The built-in kinds' documents are built once; the custom resources
of the stored CRDs join them (``crds``), and the documents are rebuilt when the CRDs change (the cache
is keyed on the registry's generation), so a kind is listed once its CRD is Established and gone once
its CRD is deleted."""

from __future__ import annotations

import functools
import re
from typing import Any

from .. import crds
from ..objects import Objects
from ..resources import GIT_VERSION, MAJOR, MINOR, RESOURCES, Resource

Doc = dict[str, Any]

# The release build of the pinned kubectl's version, as its own `kubectl version` reports it.
GIT_COMMIT = "fdc9d74cbf2da6754ebf81d56f80ae2948cd6425"
BUILD_DATE = "2026-02-26T20:05:34Z"
GO_VERSION = "go1.25.7"

# (kind, group, version, verbs) of each subresource, as the API server lists them.
_SUB: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "status": ("", "", "", ("get", "patch", "update")),
    "scale": ("Scale", "autoscaling", "v1", ("get", "patch", "update")),
    "log": ("Pod", "", "", ("get",)),
    "binding": ("Binding", "", "", ("create",)),
    "eviction": ("Eviction", "policy", "v1", ("create",)),
    "finalize": ("", "", "", ("update",)),
    "proxy": ("", "", "", ("create", "delete", "get", "patch", "update")),
    "exec": ("PodExecOptions", "", "", ("create", "get")),
    "attach": ("PodAttachOptions", "", "", ("create", "get")),
    "portforward": ("PodPortForwardOptions", "", "", ("create", "get")),
}
# Groups served without stored objects: the reviews ``kubectl auth can-i`` and ``whoami`` create (``reviews``).
REVIEWS: dict[tuple[str, str], list[Doc]] = {
    ("authorization.k8s.io", "v1"): [
        {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": False,
         "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
        {"name": "selfsubjectrulesreviews", "singularName": "selfsubjectrulesreview", "namespaced": False,
         "kind": "SelfSubjectRulesReview", "verbs": ["create"]},
        {"name": "subjectaccessreviews", "singularName": "subjectaccessreview", "namespaced": False,
         "kind": "SubjectAccessReview", "verbs": ["create"]},
        {"name": "localsubjectaccessreviews", "singularName": "localsubjectaccessreview", "namespaced": True,
         "kind": "LocalSubjectAccessReview", "verbs": ["create"]},
    ],
    ("metrics.k8s.io", "v1beta1"): [  # kubectl top (``metrics``: computed when asked)
        {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
        {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
    ],
    ("authentication.k8s.io", "v1"): [
        {"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": False,
         "kind": "SelfSubjectReview", "verbs": ["create"]},
    ],
}  # fmt: skip
BUILTIN_GROUPS = frozenset(r.group for r in RESOURCES) | frozenset(g for g, _ in REVIEWS)
_PROXY_KIND = {"services": "ServiceProxyOptions", "nodes": "NodeProxyOptions", "pods": "PodProxyOptions"}


def version_info() -> Doc:
    return {
        "major": MAJOR,
        "minor": MINOR,
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
        "minCompatibilityMajor": MAJOR,
        "minCompatibilityMinor": str(int(MINOR) - 1),
        "gitVersion": GIT_VERSION,
        "gitCommit": GIT_COMMIT,
        "gitTreeState": "clean",
        "buildDate": BUILD_DATE,
        "goVersion": GO_VERSION,
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> Doc:
    """``/api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": _builtin_groups()[""],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> Doc:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


@functools.cache
def _builtin_groups() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        out.setdefault(r.group, [])
        if r.version not in out[r.group]:
            out[r.group].append(r.version)
    return out


def _custom_groups(objects: Objects | None) -> dict[str, list[str]]:
    """Custom resources' groups with their served versions, the preferred (highest priority) first."""
    out: dict[str, list[str]] = {}
    for res in crds.served(objects) if objects is not None else ():
        if res.group in BUILTIN_GROUPS:
            continue
        out.setdefault(res.group, [])
        if res.version not in out[res.group]:
            out[res.group].append(res.version)
    return {g: sorted(vs, key=version_priority) for g, vs in out.items()}


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes' version order, most preferred first: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > others."""
    m = _VERSION.match(version)
    if not m:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0), version)


@functools.cache
def _static_group_list() -> tuple[Doc, ...]:
    named = [_group(g, vs) for g, vs in _builtin_groups().items() if g]
    named += [_group(g, [v]) for g, v in REVIEWS]
    return tuple(named)


def group_list(objects: Objects | None = None) -> Doc:
    """``/apis``: every named group, the custom resources' groups last."""
    named = list(_static_group_list()) + [_group(g, vs) for g, vs in _custom_groups(objects).items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": named}


def group(name: str, objects: Objects | None = None) -> Doc | None:
    """``/apis/{group}``."""
    versions = (
        _builtin_groups().get(name) or [v for g, v in REVIEWS if g == name] or _custom_groups(objects).get(name, [])
    )
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _entry(res: Resource) -> Doc:
    doc: Doc = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        doc["shortNames"] = list(res.short_names)
    if res.categories:
        doc["categories"] = list(res.categories)
    return doc


def _sub_entry(res: Resource, sub: str) -> Doc:
    kind, group, version, verbs = _SUB.get(sub, ("", "", "", ("get",)))
    if sub == "proxy":
        kind = _PROXY_KIND.get(res.plural, kind)
    doc: Doc = {
        "name": f"{res.plural}/{sub}",
        "singularName": "",
        "namespaced": res.namespaced,
        "kind": kind or res.kind,
        "verbs": list(verbs),
    }
    if group:
        doc["group"], doc["version"] = group, version
    return doc


def resource_list(group: str, version: str, objects: Objects | None = None) -> Doc | None:
    """``/api/v1`` or ``/apis/{group}/{version}``: the APIResourceList, or None when not served."""
    found = _static_resource_list(group, version)
    if found is not None or objects is None or group in BUILTIN_GROUPS:
        return found
    return _custom_resource_list(group, version, crds.registry(objects).fingerprint(), objects)


def _custom_resource_list(group: str, version: str, generation: str, objects: Objects) -> Doc | None:
    key = (group, version, generation)
    if key in _CUSTOM_LISTS:
        return _CUSTOM_LISTS[key]
    mine = [r for r in crds.served(objects) if (r.group, r.version) == (group, version)]
    doc = None
    if mine:
        listed: list[Doc] = []
        for res in mine:
            listed.append(_entry(res))
            listed += [_sub_entry(res, sub) for sub in res.subresources]
        doc = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}",
               "resources": listed}  # fmt: skip
    if len(_CUSTOM_LISTS) > 256:
        _CUSTOM_LISTS.clear()
    _CUSTOM_LISTS[key] = doc
    return doc


_CUSTOM_LISTS: dict[tuple[str, str, str], Doc | None] = {}


@functools.cache
def _static_resource_list(group: str, version: str) -> Doc | None:
    mine = [r for r in RESOURCES if (r.group, r.version) == (group, version)]
    if (group, version) in REVIEWS:
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}",
                "resources": REVIEWS[(group, version)]}  # fmt: skip
    if not mine:
        return None
    listed: list[Doc] = []
    for res in mine:
        listed.append(_entry(res))
        listed += [_sub_entry(res, sub) for sub in res.subresources]
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": listed}
