"""An object checked against its kind's schema, as the API server's decoder and validation see it:
unknown fields (by the request's ``fieldValidation``), wrong types and missing required fields,
each a cause with the field's path (``spec.template.spec.containers[0].image``)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .definitions import Node

Cause = dict[str, str]

# The grammar the API server's Quantity parser accepts (its own error message quotes this).
QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

UNKNOWN_PREFIX = "unknown field "

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), "null" if value is None else type(value).__name__)


def go_value(value: Any) -> str:
    """A value as the API server quotes it in a message (``"abc"``, ``3``, ``true``)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json_type(value)


def type_cause(path: str, value: Any, want: str) -> Cause:
    got = json_type(value)
    return {
        "reason": "FieldValueTypeInvalid",
        "message": f'Invalid value: "{got}": {path or "body"} in body must be of type {want}: "{got}"',
        "field": path,
    }


def unknown_cause(path: str) -> Cause:
    return {"reason": "FieldValueInvalid", "message": f'{UNKNOWN_PREFIX}"{path}"', "field": path}


def is_unknown_field(cause: Cause) -> bool:
    """Whether a cause is an unknown field (the API server answers those 400, the rest 422)."""
    return cause.get("message", "").startswith(UNKNOWN_PREFIX)


class Walker:
    """One validation pass: ``causes`` for errors, ``unknown`` for the paths of unknown fields."""

    def __init__(self) -> None:
        self.causes: list[Cause] = []
        self.unknown: list[str] = []

    def walk(self, value: Any, node: Node, path: str) -> None:
        if value is None:
            return  # null is "not set" for every field, as the API server's decoder reads it
        shape = node.shape
        if shape == "struct":
            if not isinstance(value, dict):
                self.causes.append(type_cause(path, value, "object"))
                return
            fields = node.fields
            prefix = path + "." if path else ""
            for key, sub in value.items():
                child = fields.get(key)
                if child is None:
                    self.unknown.append(prefix + key)
                else:
                    self.walk(sub, child, prefix + key)
            for key in node.required:
                if value.get(key) is None:
                    self.causes.append(
                        {"reason": "FieldValueRequired", "message": "Required value", "field": prefix + key}
                    )
        elif shape == "map":
            if not isinstance(value, dict):
                self.causes.append(type_cause(path, value, "object"))
                return
            elem = node.elem
            if elem is not None and elem.shape != "any":
                for key, sub in value.items():
                    self.walk(sub, elem, f"{path}[{key}]")
        elif shape == "list":
            if not isinstance(value, list):
                self.causes.append(type_cause(path, value, "array"))
                return
            elem = node.elem
            if elem is not None and elem.shape != "any":
                for i, sub in enumerate(value):
                    self.walk(sub, elem, f"{path}[{i}]")
        elif shape == "scalar":
            self._scalar(value, node, path)
        elif shape == "quantity":
            if isinstance(value, str):
                if not QUANTITY_RE.match(value):
                    self.causes.append({"reason": "FieldValueInvalid", "message": QUANTITY_MESSAGE, "field": path})
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                self.causes.append(type_cause(path, value, "string"))
        elif shape == "int-or-string":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                if not (isinstance(value, float) and value.is_integer()):
                    self.causes.append(type_cause(path, value, "integer or string"))

    def _scalar(self, value: Any, node: Node, path: str) -> None:
        t = node.type
        if t == "string":
            if not isinstance(value, str):
                self.causes.append(type_cause(path, value, "string"))
            elif node.format == "byte":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    self.causes.append({"reason": "FieldValueInvalid", "message": "illegal base64 data", "field": path})
        elif t == "integer":
            if isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            ):
                self.causes.append(type_cause(path, value, "integer"))
        elif t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.causes.append(type_cause(path, value, "number"))
        elif t == "boolean":
            if not isinstance(value, bool):
                self.causes.append(type_cause(path, value, "boolean"))


def without_unknown(value: Any, node: Node | None) -> Any:
    """``value`` without the fields its schema does not have (what the API server stores under
    ``fieldValidation=Warn`` or ``Ignore``: unknown fields are dropped, not kept). Shares unchanged parts."""
    if node is None or value is None:
        return value
    if node.shape == "struct" and isinstance(value, dict):
        return {k: without_unknown(v, node.fields[k]) for k, v in value.items() if k in node.fields}
    if node.shape == "map" and isinstance(value, dict) and node.elem is not None and node.elem.shape != "any":
        return {k: without_unknown(v, node.elem) for k, v in value.items()}
    if node.shape == "list" and isinstance(value, list) and node.elem is not None and node.elem.shape != "any":
        return [without_unknown(v, node.elem) for v in value]
    return value
