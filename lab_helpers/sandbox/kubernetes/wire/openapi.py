"""``/openapi/v3``: one OpenAPI 3.0 document per group/version, built from the bundled schemas.

kubectl reads these for ``explain``, for client-side ``apply`` (the merge keys) and to decide
whether the server validates fields itself: when a kind's PATCH operation lists the
``fieldValidation`` parameter, kubectl skips its own checks and sends ``fieldValidation=Strict``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from ..resources import GIT_VERSION, RESOURCES, Resource
from .definitions import INT_OR_STRING, QUANTITY, REF_PREFIX, definition_of, definitions, scalar_type

COMPONENTS = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
SCALE = "io.k8s.api.autoscaling.v1.Scale"
MEDIA = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_MEDIA = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

QUERY = {
    "dryRun": (
        "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun "
        "directive will result in an error response and no further processing of the request. Valid values are: "
        "- All: all dry run stages will be processed",
    ),
    "fieldManager": (
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. It is required "
        "for apply requests (application/apply-patch).",
    ),
    "fieldValidation": (
        "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing "
        "unknown or duplicate fields. Valid values are: - Ignore - Warn (the default) - Strict: the request fails "
        "with the unknown fields named.",
    ),
    "force": ("boolean", 'Force is going to "force" Apply requests: the applier re-acquires conflicting fields.'),
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their labels."),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their fields."),
    "limit": ("integer", "limit is a maximum number of responses to return for a list call."),
    "continue": ("string", "The continue option should be set when retrieving more results from the server."),
    "resourceVersion": (
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    "resourceVersionMatch": ("string", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a stream of events."),
    "allowWatchBookmarks": ("boolean", 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
    "sendInitialEvents": ("boolean", "With watch=true, the stream begins with the existing objects."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "propagationPolicy": (
        "string",
        "Whether and how garbage collection will be performed: Orphan, Background or Foreground.",
    ),
}
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
LIST_PARAMS = (
    "labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "resourceVersionMatch",
    "timeoutSeconds", "watch", "allowWatchBookmarks", "sendInitialEvents",
)  # fmt: skip


def _param(name: str, where: str = "query", description: str = "") -> dict[str, Any]:
    if where == "path":
        return {
            "description": description,
            "in": "path",
            "name": name,
            "required": True,
            "schema": {"type": "string", "uniqueItems": True},
        }
    t, text = QUERY[name]
    return {"description": text, "in": "query", "name": name, "schema": {"type": t, "uniqueItems": True}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENTS + name}


def _content(name: str, media: tuple[str, ...] = MEDIA) -> dict[str, Any]:
    return {m: {"schema": _ref(name)} for m in media}


# --- schemas ---------------------------------------------------------------------------------


def convert(schema: Any) -> Any:
    """A shipped JSON Schema (2020-12, nullable types) as the API server's OpenAPI 3.0 writes it."""
    if isinstance(schema, list):
        return [convert(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            continue
        if key == "type":
            t = scalar_type(schema)
            if t:
                out["type"] = t
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _property(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _property(value, wrap=False)
        else:
            out[key] = convert(value)
    ref = schema.get("$ref")
    if ref:
        out["$ref"] = COMPONENTS + ref.removeprefix(REF_PREFIX)
    return out


def _property(schema: dict[str, Any], wrap: bool = True) -> dict[str, Any]:
    """A ``$ref`` with siblings becomes ``allOf: [$ref]`` (OpenAPI 3.0 ignores a ref's siblings)."""
    ref = schema.get("$ref")
    if ref and wrap and len(schema) > 1:
        out = convert({k: v for k, v in schema.items() if k != "$ref"})
        out["allOf"] = [{"$ref": COMPONENTS + ref.removeprefix(REF_PREFIX)}]
        return out
    out = convert(schema)
    if "enum" in out and set(out) <= {"enum", "type", "description"} and len(out["enum"]) == 1:
        del out["enum"]  # apiVersion/kind: the API server's documents list no enum there
    return out


def _component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if name == QUANTITY:
        return {"description": schema.get("description", ""), "oneOf": [{"type": "string"}, {"type": "number"}]}
    if name == INT_OR_STRING:
        return {
            "description": schema.get("description", ""),
            "format": "int-or-string",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        }
    return convert(schema)


def _closure(roots: list[str]) -> list[str]:
    defs = definitions()
    seen: set[str] = set()
    stack = [r for r in roots if r in defs]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(r for r in _refs(defs[name]) if r in defs and r not in seen)
    return sorted(seen)


def _refs(schema: Any) -> list[str]:
    out: list[str] = []
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            out.append(ref.removeprefix(REF_PREFIX))
        for value in schema.values():
            if isinstance(value, (dict, list)):
                out.extend(_refs(value))
    elif isinstance(schema, list):
        for value in schema:
            out.extend(_refs(value))
    return out


# --- paths -----------------------------------------------------------------------------------


def _gvk(r: Resource, kind: str = "") -> dict[str, str]:
    return {"group": r.group, "kind": kind or r.kind, "version": r.version}


def _op_id(verb: str, r: Resource, scope: str, suffix: str = "") -> str:
    group = "".join(p.capitalize() for p in r.group.split(".")[0].split("-")) if r.group else "Core"
    return f"{verb}{group}{r.version.capitalize()}{scope}{r.kind}{suffix}"


def _operation(
    r: Resource,
    action: str,
    op_id: str,
    response: str,
    *,
    params: tuple[str, ...] = (),
    body: str | None = None,
    patch: bool = False,
    gvk: dict[str, str] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "description": f"{action} {r.kind}",
        "operationId": op_id,
        "responses": {
            "200": {"content": _content(response), "description": "OK"},
            "401": {"description": "Unauthorized"},
        },
        "tags": [f"{r.group.split('.')[0] or 'core'}_{r.version}"],
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk or _gvk(r),
    }
    if params:
        op["parameters"] = [_param(p) for p in params]
    if body:
        media = PATCH_MEDIA if patch else ("*/*",)
        op["requestBody"] = {"content": {m: {"schema": _ref(body)} for m in media}, "required": True}
    if action in ("post", "put", "patch"):
        op["responses"]["201"] = {"content": _content(response), "description": "Created"}
    return op


def _item_ops(
    r: Resource, name: str, scope: str, suffix: str = "", target: str = "", gvk: dict[str, str] | None = None
) -> dict[str, Any]:
    target = target or name
    ops: dict[str, Any] = {}
    if "get" in r.verbs:
        ops["get"] = _operation(r, "get", _op_id("read", r, scope, suffix), target, gvk=gvk)
    if "update" in r.verbs:
        ops["put"] = _operation(
            r, "put", _op_id("replace", r, scope, suffix), target, params=WRITE_PARAMS, body=target, gvk=gvk
        )
    if "patch" in r.verbs:
        ops["patch"] = _operation(
            r,
            "patch",
            _op_id("patch", r, scope, suffix),
            target,
            params=(*WRITE_PARAMS, "force"),
            body=META + "Patch",
            patch=True,
            gvk=gvk,
        )
    return ops


def _paths(r: Resource, name: str) -> dict[str, Any]:
    root = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
    list_name = name + "List"
    paths: dict[str, Any] = {}
    if r.namespaced:
        scope = "Namespaced"
        collection = f"{root}/namespaces/{{namespace}}/{r.plural}"
        scope_params = [_param("namespace", "path", "object name and auth scope, such as for teams and projects")]
        every = f"{root}/{r.plural}"
        paths[every] = {
            "get": _operation(r, "list", _op_id("list", r, "", "ForAllNamespaces"), list_name, params=LIST_PARAMS),
            "parameters": [_param("pretty")],
        }
    else:
        scope, collection, scope_params = "", f"{root}/{r.plural}", []
    coll: dict[str, Any] = {"parameters": [*scope_params, _param("pretty")]}
    if "list" in r.verbs:
        coll["get"] = _operation(r, "list", _op_id("list", r, scope), list_name, params=LIST_PARAMS)
    if "create" in r.verbs:
        coll["post"] = _operation(r, "post", _op_id("create", r, scope), name, params=WRITE_PARAMS, body=name)
    if "deletecollection" in r.verbs:
        coll["delete"] = _operation(
            r, "deletecollection", _op_id("deleteCollection", r, scope), META + "Status",
            params=("dryRun", "gracePeriodSeconds", "propagationPolicy", *LIST_PARAMS[:5]), body=META + "DeleteOptions",
        )  # fmt: skip
    paths[collection] = coll
    item_params = [_param("name", "path", f"name of the {r.kind}"), *scope_params, _param("pretty")]
    item = _item_ops(r, name, scope)
    if "delete" in r.verbs:
        item["delete"] = _operation(
            r, "delete", _op_id("delete", r, scope), META + "Status",
            params=("dryRun", "gracePeriodSeconds", "propagationPolicy"), body=META + "DeleteOptions",
        )  # fmt: skip
    paths[f"{collection}/{{name}}"] = {**item, "parameters": item_params}
    if "status" in r.subresources:
        paths[f"{collection}/{{name}}/status"] = {**_item_ops(r, name, scope, "Status"), "parameters": item_params}
    if "scale" in r.subresources:
        scale_gvk = {"group": "autoscaling", "kind": "Scale", "version": "v1"}
        paths[f"{collection}/{{name}}/scale"] = {
            **_item_ops(r, name, scope, "Scale", target=SCALE, gvk=scale_gvk),
            "parameters": item_params,
        }
    return paths


# --- documents -------------------------------------------------------------------------------


def gv_path(r: Resource) -> str:
    return f"apis/{r.group}/{r.version}" if r.group else f"api/{r.version}"


@functools.cache
def _documents() -> dict[str, tuple[bytes, str]]:
    """Every group/version's document, serialised once, with its hash (the index's cache key)."""
    defs = definitions()
    by_gv: dict[str, list[Resource]] = {}
    for r in RESOURCES:
        by_gv.setdefault(gv_path(r), []).append(r)
    out: dict[str, tuple[bytes, str]] = {}
    for path, resources in by_gv.items():
        paths: dict[str, Any] = {}
        roots = [META + n for n in ("Status", "DeleteOptions", "Patch", "WatchEvent", "APIResourceList")]
        for r in resources:
            name = definition_of(r.api_version, r.kind)
            if not name:
                continue
            paths.update(_paths(r, name))
            roots += [name, name + "List"]
            if "scale" in r.subresources:
                roots.append(SCALE)
        doc = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": GIT_VERSION},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": {n: _component(n, defs[n]) for n in _closure(roots)}},
        }
        body = json.dumps(doc, separators=(",", ":")).encode()
        out[path] = (body, hashlib.sha512(body).hexdigest().upper())
    return out


def index() -> dict[str, Any]:
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
            for path, (_, digest) in sorted(_documents().items())
        }
    }


def document_bytes(path: str) -> tuple[bytes, str] | None:
    """The serialised document of ``api/v1`` or ``apis/apps/v1`` and its hash, or None."""
    return _documents().get(path.strip("/"))


@functools.cache
def document(path: str) -> dict[str, Any] | None:
    found = document_bytes(path)
    return json.loads(found[0]) if found else None
