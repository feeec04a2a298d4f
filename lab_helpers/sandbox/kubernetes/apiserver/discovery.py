"""Discovery in plain JSON: ``/version``, ``/api``, ``/apis``, ``/apis/{group}``, and each group
version's APIResourceList with verbs, short names, categories and subresources (``deployments/scale``,
``pods/log``, ``*/status``). kubectl asks for aggregated discovery first and takes plain JSON (it
reads the answer's Content-Type). Built once: the kinds never change while the service runs."""

from __future__ import annotations

import functools
from typing import Any

from ..resources import GIT_VERSION, MAJOR, MINOR, RESOURCES, Resource, groups

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
    ],
    ("authentication.k8s.io", "v1"): [
        {"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": False,
         "kind": "SelfSubjectReview", "verbs": ["create"]},
    ],
}  # fmt: skip
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
        "versions": groups()[""],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> Doc:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


@functools.cache
def group_list() -> Doc:
    """``/apis``: every named group."""
    named = [_group(g, vs) for g, vs in groups().items() if g]
    named += [_group(g, [v]) for g, v in REVIEWS]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": named}


def group(name: str) -> Doc | None:
    """``/apis/{group}``."""
    versions = groups().get(name) or [v for g, v in REVIEWS if g == name]
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


@functools.cache
def resource_list(group: str, version: str) -> Doc | None:
    """``/api/v1`` or ``/apis/{group}/{version}``: the APIResourceList, or None when not served."""
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
