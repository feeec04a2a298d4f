"""The bundled Kubernetes schemas, compiled once into a tree of :class:`Node` that validation,
strategic merge and server-side apply all walk.

The definitions come from the ``kubernetes-validate`` package (one JSON Schema file per Kubernetes
minor; the sandbox reports the same minor as the pinned kubectl). They carry descriptions, each
kind's ``x-kubernetes-group-version-kind`` and the list/map extensions (merge keys, patch strategies,
list types) the API server's own OpenAPI has.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..resources import MINOR

SCHEMA_DIR = f"v1.{MINOR}.0-local"
REF_PREFIX = "#/$defs/"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """Every definition by its name (``io.k8s.api.apps.v1.Deployment``), as shipped."""
    # Found without importing the package: its import pulls in jsonschema, which takes seconds.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the kubernetes-validate package (the bundled Kubernetes schemas) is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema" / SCHEMA_DIR
    doc = json.loads((root / "_definitions.json").read_bytes())
    return dict(doc["$defs"])


@functools.cache
def kinds() -> dict[tuple[str, str], str]:
    """``(apiVersion, kind)`` -> definition name, from each definition's group-version-kind."""
    out: dict[tuple[str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
            out.setdefault((api_version, gvk["kind"]), name)
    return out


def definition_of(api_version: str, kind: str) -> str | None:
    return kinds().get((api_version, kind))


def scalar_type(schema: dict[str, Any]) -> str:
    """``["string", "null"]`` -> ``"string"`` (the shipped schemas mark every field nullable)."""
    t = schema.get("type")
    if isinstance(t, list):
        return next((x for x in t if x != "null"), "")
    return t or ""


@dataclass(eq=False)
class Node:
    """One place in a kind's schema.

    ``shape`` is ``struct`` (named fields), ``map`` (any keys, one value type), ``list``,
    ``scalar``, ``quantity``, ``int-or-string`` or ``any`` (free-form JSON)."""

    shape: str
    name: str = ""  # the definition this node comes from, when it is one
    type: str = ""  # scalar: string | integer | number | boolean
    format: str = ""
    fields: dict[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    elem: Node | None = None  # map values, list items
    list_type: str = ""  # atomic | set | map ("" is atomic)
    map_keys: tuple[str, ...] = ()  # x-kubernetes-list-map-keys
    merge_key: str | None = None  # x-kubernetes-patch-merge-key
    strategy: str = ""  # x-kubernetes-patch-strategy: merge | retainKeys | merge,retainKeys | replace
    map_type: str = ""  # x-kubernetes-map-type: atomic | granular

    @property
    def atomic(self) -> bool:
        """Owned and replaced as a whole by server-side apply."""
        if self.shape == "list":
            return self.list_type not in ("set", "map")
        if self.shape in ("struct", "map"):
            return self.map_type == "atomic"
        return True

    def child(self, key: str) -> Node | None:
        if self.shape == "struct":
            return self.fields.get(key)
        if self.shape == "map":
            return self.elem
        return None


ANY = Node("any")


class _Compiler:
    def __init__(self, defs: dict[str, dict[str, Any]]) -> None:
        self.defs = defs
        self.cache: dict[str, Node] = {}

    def definition(self, name: str) -> Node:
        node = self.cache.get(name)
        if node is not None:
            return node
        schema = self.defs.get(name)
        if schema is None:
            return ANY
        if name == QUANTITY:
            node = Node("quantity", name)
        elif name == INT_OR_STRING:
            node = Node("int-or-string", name)
        else:
            node = self._shape(schema, name)
        # Registered before its fields are filled, so recursive definitions terminate.
        self.cache[name] = node
        self._fill(node, schema)
        return node

    def _shape(self, schema: dict[str, Any], name: str = "") -> Node:
        t = scalar_type(schema)
        if t == "object" or (not t and ("properties" in schema or "additionalProperties" in schema)):
            if "properties" in schema:
                shape = "struct"
            elif isinstance(schema.get("additionalProperties"), dict):
                shape = "map"
            else:
                shape = "any"
            return Node(shape, name, map_type=schema.get("x-kubernetes-map-type", ""))
        if t == "array":
            return Node(
                "list",
                name,
                list_type=schema.get("x-kubernetes-list-type", ""),
                map_keys=tuple(schema.get("x-kubernetes-list-map-keys", ())),
                merge_key=schema.get("x-kubernetes-patch-merge-key"),
                strategy=schema.get("x-kubernetes-patch-strategy", ""),
            )
        if t in ("string", "integer", "number", "boolean"):
            return Node("scalar", name, type=t, format=schema.get("format", ""))
        return Node("any", name)

    def _fill(self, node: Node, schema: dict[str, Any]) -> None:
        if node.shape == "struct":
            # ``required`` first: a copy made while the fields recurse shares the fields dict only.
            node.required = tuple(schema.get("required", ()))
            for key, sub in schema.get("properties", {}).items():
                node.fields[key] = self.schema(sub)
        elif node.shape == "map":
            node.elem = self.schema(schema["additionalProperties"])
        elif node.shape == "list":
            node.elem = self.schema(schema.get("items") or {})

    def schema(self, schema: dict[str, Any]) -> Node:
        """A property's or item's schema: a reference (with its own extensions laid over) or inline."""
        ref = schema.get("$ref")
        if ref:
            target = self.definition(ref.removeprefix(REF_PREFIX))
            overlay = {
                attr: schema[key]
                for key, attr in (("x-kubernetes-patch-strategy", "strategy"), ("x-kubernetes-map-type", "map_type"))
                if key in schema
            }
            return dataclasses.replace(target, **overlay) if overlay else target
        node = self._shape(schema)
        self._fill(node, schema)
        return node


@functools.cache
def _compiler() -> _Compiler:
    return _Compiler(definitions())


def node_named(name: str) -> Node:
    """The compiled node of one definition (``ANY`` if there is none by that name)."""
    return _compiler().definition(name)


@functools.cache
def _builtin_node(api_version: str, kind: str) -> Node | None:
    name = definition_of(api_version, kind)
    return node_named(name) if name else None


def node_for(api_version: str, kind: str) -> Node | None:
    """The compiled schema of a kind, or None for a kind the bundled schemas do not have. A custom
    resource's comes from its CRD (``custom_node``)."""
    found = _builtin_node(api_version, kind)
    if found is not None or "/" not in api_version:
        return found
    return custom_node(api_version, kind)


# -- the compiled schema of a custom resource (server-side apply's field sets, merges) ---------------

_NODES: dict[tuple[str, str, str], Any] = {}


def custom_node(api_version: str, kind: str) -> Any:
    """The :class:`definitions.Node` of a served custom resource's schema (with ``metadata`` as
    ObjectMeta), or None for a kind no CRD serves."""
    from ..resources import resource_of_kind

    res = resource_of_kind(api_version, kind)
    custom = getattr(res, "custom", None)
    if custom is None or custom.schema is None:
        return None
    schema = custom.schema
    key = (api_version, kind, str(custom.crd.get("metadata", {}).get("resourceVersion", "")))
    node = _NODES.get(key)
    if node is None:
        node = _compiler().schema({k: v for k, v in schema.items() if k != "$ref"})
        if node.shape != "struct":
            node = Node("struct", fields=dict(node.fields))
        node.fields["metadata"] = node_named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        node.fields["apiVersion"] = Node("scalar", type="string")
        node.fields["kind"] = Node("scalar", type="string")
        if len(_NODES) > 64:
            _NODES.clear()
        _NODES[key] = node
    return node
