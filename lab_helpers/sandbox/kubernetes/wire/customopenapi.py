"""``/openapi/v3/apis/<group>/<version>`` for the custom resources of the stored CRDs: each served
version's schema as a component named as the API server names it (``io.argoproj.v1alpha1.Application``,
the group's labels reversed), with ``apiVersion``, ``kind`` and ``metadata`` (ObjectMeta) and the
kind's ``x-kubernetes-group-version-kind``, its List, and the paths of the kind (with the
``fieldValidation`` parameter, so kubectl leaves validation to the server). ``kubectl explain
application.spec`` reads these."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from ..resources import Resource
from .definitions import definitions
from .openapi import COMPONENTS, META, SCALE, _closure, _component, _paths, gv_path

Obj = dict[str, Any]

_META_DESCRIPTION = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_API_VERSION = (
    "APIVersion defines the versioned schema of this representation of an object. Servers should convert "
    "recognized schemas to the latest internal value, and may reject unrecognized values."
)
_KIND = (
    "Kind is a string value representing the REST resource this object represents. Servers may infer this "
    "from the endpoint the client submits requests to. Cannot be updated. In CamelCase."
)


def component_name(res: Resource, kind: str = "") -> str:
    """``argoproj.io``, ``v1alpha1``, ``Application`` -> ``io.argoproj.v1alpha1.Application``."""
    reversed_group = ".".join(reversed(res.group.split(".")))
    return f"{reversed_group}.{res.version}.{kind or res.kind}"


def _kind_schema(res: Resource, schema: Obj | None) -> Obj:
    out: Obj = copy.deepcopy(schema) if schema else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    props = out.setdefault("properties", {})
    props["apiVersion"] = {"description": _API_VERSION, "type": "string"}
    props["kind"] = {"description": _KIND, "type": "string"}
    props["metadata"] = {"allOf": [{"$ref": COMPONENTS + META + "ObjectMeta"}], "description": _META_DESCRIPTION}
    out["type"] = "object"
    out["x-kubernetes-group-version-kind"] = [{"group": res.group, "kind": res.kind, "version": res.version}]
    return out


def _list_schema(res: Resource, name: str, list_kind: str) -> Obj:
    return {
        "description": f"{list_kind} is a list of {res.kind}",
        "required": ["items"],
        "type": "object",
        "properties": {
            "apiVersion": {"description": _API_VERSION, "type": "string"},
            "items": {
                "description": f"List of {res.plural}. More info: "
                "https://git.k8s.io/community/contributors/devel/api-conventions.md",
                "items": {"$ref": COMPONENTS + name},
                "type": "array",
            },
            "kind": {"description": _KIND, "type": "string"},
            "metadata": {
                "allOf": [{"$ref": COMPONENTS + META + "ListMeta"}],
                "description": "Standard list metadata. More info: "
                "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
            },
        },
        "x-kubernetes-group-version-kind": [{"group": res.group, "kind": list_kind, "version": res.version}],
    }


def documents(resources: Iterable[Resource]) -> dict[str, tuple[bytes, str]]:
    """Each custom group/version's document, serialised, with its hash."""
    by_gv: dict[str, list[Resource]] = {}
    for res in resources:
        by_gv.setdefault(gv_path(res), []).append(res)
    defs = definitions()
    out: dict[str, tuple[bytes, str]] = {}
    for path, listed in by_gv.items():
        paths: Obj = {}
        schemas: Obj = {}
        roots = [META + n for n in ("Status", "DeleteOptions", "Patch", "WatchEvent", "ObjectMeta", "ListMeta")]
        for res in listed:
            custom = getattr(res, "custom", None)
            name = component_name(res)
            list_kind = custom.list_kind if custom is not None else f"{res.kind}List"
            paths.update(_paths(res, name))
            schemas[name] = _kind_schema(res, custom.schema if custom is not None else None)
            schemas[component_name(res, list_kind)] = _list_schema(res, name, list_kind)
            schemas.setdefault(name + "List", schemas[component_name(res, list_kind)])  # what the paths name
            if "scale" in res.subresources:
                roots.append(SCALE)
        for n in _closure(roots):
            schemas[n] = _component(n, defs[n])
        doc = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": dict(sorted(schemas.items()))},
        }
        body = json.dumps(doc, separators=(",", ":")).encode()
        out[path] = (body, hashlib.sha512(body).hexdigest().upper())
    return out
