"""Server-side field validation against the bundled schemas (``fieldValidation=Strict|Warn|Ignore``).

kubectl sends ``Strict`` (the OpenAPI paths advertise the parameter): an unknown field or a value
of the wrong type is the API server's 400, naming the field; ``Warn`` (the default for a client
that names none) drops unknown fields and answers with a ``Warning`` header; ``Ignore`` drops them
silently. A wrong type is an error whatever the mode, as decoding into Go structs fails."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request

from .. import status
from ..crds import is_custom
from ..resources import Resource

MODES = ("Strict", "Warn", "Ignore")


def mode(request: Request) -> str:
    raw = request.args.get("fieldValidation") or "Warn"
    if raw not in MODES:
        raise status.bad_request(
            f'fieldValidation parameter unsupported: "{raw}", supported values: "Ignore", "Warn", "Strict"'
        )
    return raw


_STEP = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


def drop_nulls(value: Any) -> Any:
    """A body as decoding into the API's types leaves it: a null field is an unset one, a null list item an
    empty object (which validation then finds wanting)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [{} if v is None else drop_nulls(v) for v in value]
    return value


def prune(obj: dict[str, Any], path: str) -> None:
    """Drop the field at a validation path (``spec.template.spec.containers[0].foo``, ``data[key]``)."""
    steps = [m.group(1) if m.group(1) is not None else m.group(2) for m in _STEP.finditer(path)]
    cur: Any = obj
    for step in steps[:-1]:
        if isinstance(cur, list) and step.isdigit() and int(step) < len(cur):
            cur = cur[int(step)]
        elif isinstance(cur, dict) and step in cur:
            cur = cur[step]
        else:
            return
    if isinstance(cur, dict) and steps:
        cur.pop(steps[-1], None)


_GO_SCALARS = {("integer", "int32"): "int32", ("integer", "int64"): "int64", ("integer", ""): "int",
               ("number", "double"): "float64", ("number", ""): "float64", ("boolean", ""): "bool"}  # fmt: skip


def _go_type(node: Any) -> str:
    """A schema node as Go names its type in a decoding error (``int32``, ``v1.PodSpec``, ``[]v1.Container``)."""
    if node is None:
        return "interface {}"
    if node.shape == "scalar":
        return _GO_SCALARS.get((node.type, node.format), node.type if node.type != "boolean" else "bool")
    if node.shape == "list":
        return "[]" + _go_type(node.elem)
    if node.shape == "map":
        return "map[string]" + _go_type(node.elem)
    if node.shape == "quantity":
        return "resource.Quantity"
    if node.shape == "int-or-string":
        return "intstr.IntOrString"
    if node.name:
        parts = node.name.split(".")
        return f"{parts[-2]}.{parts[-1]}"
    return "map[string]interface {}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number" if isinstance(value, int) or value.is_integer() else f"number {value}"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def go_decode_error(res: Resource, obj: dict[str, Any], path: str) -> str | None:
    """What Go's decoder says of a value of the wrong type at ``path``: ``json: cannot unmarshal string into Go
    struct field DeploymentSpec.spec.replicas of type int32`` (None where the path leads nowhere known)."""
    from ..wire.definitions import node_for

    node = node_for(res.api_version, res.kind)
    struct, names = "", []
    value: Any = obj
    for m in _STEP.finditer(path):
        name, key = m.group(1), m.group(2)
        if node is None:
            return None
        if name is not None and node.shape == "struct":
            struct = node.name.rsplit(".", 1)[-1]
            names.append(name)
            node = node.fields.get(name)
            value = value.get(name) if isinstance(value, dict) else None
        elif key is not None and node.shape in ("list", "map"):
            node = node.elem
            if isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, dict):
                value = value.get(key)
            else:
                return None
        else:
            return None
    if node is None or not struct:
        return None
    return f"json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{'.'.join(names)} of type {_go_type(node)}"


def check(res: Resource, obj: dict[str, Any], unknown: str) -> list[str]:
    """Validate ``obj`` as ``res``'s kind; returns the warnings (``Warn``). Unknown fields under ``Strict`` are
    the API server's 400 (``strict decoding error: unknown field "spec.foo"``), every other failure its 422.
    Under ``Warn`` and ``Ignore`` unknown fields are dropped from ``obj``, as decoding drops them."""
    from ..wire import schemas, validation

    if is_custom(res):  # a custom resource: its CRD's schema (``custom``)
        from .custom_bodies import check_body

        return check_body(res, obj, unknown)
    cleaned = drop_nulls(obj)
    obj.clear()
    obj.update(cleaned)
    typed = {**obj, "apiVersion": res.api_version, "kind": res.kind}
    causes, warnings = schemas.validate(typed, unknown="Strict" if unknown == "Strict" else "Warn")
    unknown_fields = [c for c in causes if validation.is_unknown_field(c)]
    name = (obj.get("metadata") or {}).get("name", "") if isinstance(obj.get("metadata"), dict) else ""
    if unknown_fields:
        listed = ", ".join(c["message"] for c in unknown_fields)
        message = (
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: strict decoding error: {listed}'
        )
        raise status.status_error(400, message, "BadRequest")
    for cause in causes:
        decoding = cause.get("reason") == "FieldValueTypeInvalid" and go_decode_error(
            res, typed, cause.get("field", "")
        )
        if decoding:  # the Go structs of a built-in kind fail to decode before any validation runs
            message = f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: {decoding}'
            raise status.status_error(400, message, "BadRequest")
    if causes:
        raise status.invalid(res.kind, res.group, name, causes)
    if res.kind == "CustomResourceDefinition":
        from .custom_bodies import check_definition

        check_definition(res, obj)
    for text in warnings:
        if text.startswith('unknown field "') and text.endswith('"'):
            prune(obj, text[len('unknown field "') : -1])
    return list(warnings) if unknown == "Warn" else []
