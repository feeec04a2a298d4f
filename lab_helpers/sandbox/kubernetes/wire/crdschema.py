"""Custom resources checked against their CRD's structural schema, and CRDs checked as the API server
checks them.

A custom resource's write goes through the steps of the API server's apiextensions code: nulls in
fields that are not ``nullable`` are dropped, fields the schema does not declare are pruned (unless
``x-kubernetes-preserve-unknown-fields``; ``fieldValidation=Strict`` makes them a 400 instead),
``default:`` values are filled in, then the value is validated: types, ``required``, ``enum``,
``pattern``, ``minimum``/``maximum`` (and exclusive), ``minLength``/``maxLength``,
``minItems``/``maxItems``, ``x-kubernetes-int-or-string``, ``additionalProperties`` maps. Each
failure is a cause with the field path and the API server's wording.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .validation import Cause, go_value, json_type, type_cause

Obj = dict[str, Any]

ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# -- custom resources ---------------------------------------------------------------------------------


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_of(schema: Obj) -> str:
    t = schema.get("type")
    return t if isinstance(t, str) else ""


def _keeps_unknown(schema: Obj) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune(value: Any, schema: Obj | None, path: str, unknown: list[str], root: bool = False) -> Any:
    """``value`` without the fields ``schema`` does not declare (their paths added to ``unknown``) and
    without nulls where the schema does not allow them."""
    if schema is None:
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out: Obj = {}
        for key, sub in value.items():
            sub_schema = props.get(key) if isinstance(props, dict) else None
            if sub is None and not (isinstance(sub_schema, dict) and sub_schema.get("nullable")):
                if sub_schema is not None or isinstance(extra, dict) or not _keeps_unknown(schema):
                    continue  # null in a field that may not be null: dropped before defaulting
            if root and key in ROOT_FIELDS:
                out[key] = sub
            elif isinstance(sub_schema, dict):
                out[key] = prune(sub, sub_schema, _child(path, key), unknown)
            elif isinstance(extra, dict) and not isinstance(props, dict):
                out[key] = prune(sub, extra, f"{path}[{key}]" if path else key, unknown)
            elif extra is True or _keeps_unknown(schema):
                out[key] = sub
            else:
                unknown.append(_child(path, key))
        return out
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [prune(v, items, f"{path}[{i}]", unknown) for i, v in enumerate(value)]
    return value


def apply_defaults(value: Any, schema: Obj | None) -> Any:
    """``default:`` values filled in where a field is unset, at every depth."""
    if schema is None:
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for key, sub_schema in props.items():
                if isinstance(sub_schema, dict) and "default" in sub_schema and key not in value:
                    value[key] = copy.deepcopy(sub_schema["default"])
            for key, sub in value.items():
                sub_schema = props.get(key)
                if isinstance(sub_schema, dict):
                    value[key] = apply_defaults(sub, sub_schema)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not isinstance(props, dict):
            for key in list(value):
                value[key] = apply_defaults(value[key], extra)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [apply_defaults(v, items) for v in value]
    return value


def _invalid(path: str, value: Any, why: str) -> Cause:
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {go_value(value)}: {why}", "field": path}


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class _Checker:
    def __init__(self) -> None:
        self.causes: list[Cause] = []

    def check(self, value: Any, schema: Obj, path: str) -> None:
        if value is None:
            if not schema.get("nullable"):
                want = _type_of(schema)
                if want:
                    self.causes.append(type_cause(path, value, want))
            return
        if schema.get("x-kubernetes-int-or-string"):
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                self.causes.append(type_cause(path, value, "integer,string"))
                return
        else:
            want = _type_of(schema)
            if want and not _is_type(value, want):
                self.causes.append(type_cause(path, value, want))
                return
        self._enum(value, schema, path)
        if isinstance(value, str):
            self._string(value, schema, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._numeric(value, schema, path)
        elif isinstance(value, list):
            self._array(value, schema, path)
        elif isinstance(value, dict):
            self._object(value, schema, path)

    def _enum(self, value: Any, schema: Obj, path: str) -> None:
        allowed = schema.get("enum")
        if isinstance(allowed, list) and value not in allowed:
            listed = ", ".join(go_value(v) for v in allowed)
            self.causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "message": f"Unsupported value: {go_value(value)}: supported values: {listed}",
                    "field": path,
                }
            )

    def _string(self, value: str, schema: Obj, path: str) -> None:
        shown = path or "body"
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(high, int) and len(value) > high:
            self.causes.append(
                {
                    "reason": "FieldValueTooLong",
                    "message": f"Too long: may not be more than {high} bytes",
                    "field": path,
                }
            )
        if isinstance(low, int) and len(value) < low:
            self.causes.append(_invalid(path, value, f"{shown} in body should be at least {low} chars long"))
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                matched = re.search(pattern, value) is not None
            except re.error:
                matched = True
            if not matched:
                self.causes.append(_invalid(path, value, f"{shown} in body should match '{pattern}'"))

    def _numeric(self, value: float, schema: Obj, path: str) -> None:
        shown = path or "body"
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, (int, float)):
            if schema.get("exclusiveMinimum") and value <= low:
                self.causes.append(_invalid(path, value, f"{shown} in body should be greater than {_number(low)}"))
            elif value < low:
                self.causes.append(
                    _invalid(path, value, f"{shown} in body should be greater than or equal to {_number(low)}")
                )
        if isinstance(high, (int, float)):
            if schema.get("exclusiveMaximum") and value >= high:
                self.causes.append(_invalid(path, value, f"{shown} in body should be less than {_number(high)}"))
            elif value > high:
                self.causes.append(
                    _invalid(path, value, f"{shown} in body should be less than or equal to {_number(high)}")
                )
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step and (value / step) != int(value / step):
            self.causes.append(_invalid(path, value, f"{shown} in body should be a multiple of {_number(step)}"))

    def _array(self, value: list[Any], schema: Obj, path: str) -> None:
        shown = path or "body"
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(high, int) and len(value) > high:
            self.causes.append(
                {
                    "reason": "FieldValueTooMany",
                    "message": f"Too many: {len(value)}: must have at most {high} items",
                    "field": path,
                }
            )
        if isinstance(low, int) and len(value) < low:
            self.causes.append(_invalid(path, len(value), f"{shown} in body should have at least {low} items"))
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                self.check(item, items, f"{path}[{i}]")

    def _object(self, value: Obj, schema: Obj, path: str) -> None:
        props = schema.get("properties")
        for key in schema.get("required") or []:
            if value.get(key) is None:
                self.causes.append(
                    {"reason": "FieldValueRequired", "message": "Required value", "field": _child(path, key)}
                )
        if isinstance(props, dict):
            for key, sub in value.items():
                sub_schema = props.get(key)
                if isinstance(sub_schema, dict) and not (not path and key in ROOT_FIELDS):
                    self.check(sub, sub_schema, _child(path, key))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not isinstance(props, dict):
            for key, sub in value.items():
                self.check(sub, extra, f"{path}[{key}]" if path else key)
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if isinstance(high, int) and len(value) > high:
            self.causes.append(
                {
                    "reason": "FieldValueTooMany",
                    "message": f"Too many: {len(value)}: must have at most {high} items",
                    "field": path,
                }
            )
        if isinstance(low, int) and len(value) < low:
            self.causes.append(
                _invalid(path, len(value), f"{path or 'body'} in body should have at least {low} properties")
            )


def _is_type(value: Any, want: str) -> bool:
    if want == "integer":
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    if want == "number":
        return not isinstance(value, bool) and isinstance(value, (int, float))
    return json_type(value) == {"object": "object", "array": "array", "string": "string", "boolean": "boolean"}.get(
        want, json_type(value)
    )


def _metadata_causes(obj: Obj) -> list[Cause]:
    """The object's metadata as the API server checks every kind's: the name (a DNS subdomain), label and
    annotation keys, label values."""
    from .semantics import metadata

    return metadata(obj, "subdomain") if isinstance(obj.get("metadata"), dict) else []


def check_custom(obj: Obj, schema: Obj | None, unknown_mode: str) -> tuple[Obj, list[str], list[Cause]]:
    """One custom resource as written: ``(the object to store, unknown field paths, causes)``.

    The object comes back pruned (unknown fields dropped) and defaulted; the caller answers 400 for
    unknown fields under ``Strict`` and 422 for causes."""
    unknown: list[str] = []
    if schema is None:
        return obj, unknown, _metadata_causes(obj)
    pruned = prune(obj, schema, "", unknown, root=True)
    if not isinstance(pruned, dict):
        pruned = obj
    if unknown_mode != "Strict":
        pass
    apply_defaults(pruned, schema)
    checker = _Checker()
    checker.check(pruned, schema, "")
    return pruned, unknown, _metadata_causes(pruned) + checker.causes


# -- the definitions ----------------------------------------------------------------------------------


def _dns1035_message(value: str) -> str:
    return (
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    )


def _name_causes(names: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(names, dict):
        return [{"reason": "FieldValueRequired", "message": "Required value", "field": path}]
    for key in ("plural", "singular"):
        value = names.get(key)
        if key == "plural" and not value:
            causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": f"{path}.plural"})
        elif isinstance(value, str) and value and not _DNS1035.match(value):
            causes.append(_invalid(f"{path}.{key}", value, _dns1035_message(value)))
    kind = names.get("kind")
    if not kind:
        causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": f"{path}.kind"})
    elif isinstance(kind, str) and not _DNS1035.match(kind.lower()):
        causes.append(
            _invalid(f"{path}.kind", kind, "may have mixed case, but should otherwise match: " + _dns1035_message(kind))
        )
    list_kind = names.get("listKind")
    if isinstance(list_kind, str) and list_kind:
        if not _DNS1035.match(list_kind.lower()):
            causes.append(
                _invalid(
                    f"{path}.listKind",
                    list_kind,
                    "may have mixed case, but should otherwise match: " + _dns1035_message(list_kind),
                )
            )
        if list_kind == kind:
            causes.append(_invalid(f"{path}.listKind", list_kind, "kind and listKind may not be the same"))
    for key in ("shortNames", "categories"):
        for i, value in enumerate(names.get(key) or []):
            if isinstance(value, str) and not _DNS1035.match(value):
                causes.append(_invalid(f"{path}.{key}[{i}]", value, _dns1035_message(value)))
    return causes


def _structural(schema: Any, path: str, root: bool = False) -> list[Cause]:
    """The rules that make a schema structural: a type everywhere (but where int-or-string or
    preserve-unknown-fields says otherwise), object at the root, properties xor additionalProperties."""
    if not isinstance(schema, dict):
        return []
    causes: list[Cause] = []
    t = schema.get("type")
    loose = schema.get("x-kubernetes-int-or-string") or schema.get("x-kubernetes-preserve-unknown-fields")
    if root:
        if not t:
            causes.append(
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: must not be empty at the root",
                    "field": f"{path}.type",
                }
            )
        elif t != "object":
            causes.append(_invalid(f"{path}.type", t, "must be object at the root"))
    elif not t and not loose:
        causes.append(
            {
                "reason": "FieldValueRequired",
                "message": "Required value: must not be empty for specified object fields",
                "field": f"{path}.type",
            }
        )
    if isinstance(schema.get("properties"), dict) and schema.get("additionalProperties") not in (None, False):
        causes.append(
            {
                "reason": "FieldValueForbidden",
                "message": "Forbidden: additionalProperties and properties are mutual exclusive",
                "field": f"{path}.additionalProperties",
            }
        )
    for key, sub in (schema.get("properties") or {}).items():
        causes += _structural(sub, f"{path}.properties[{key}]")
    if isinstance(schema.get("items"), dict):
        causes += _structural(schema["items"], f"{path}.items")
    elif t == "array" and "items" not in schema:
        causes.append(
            {"reason": "FieldValueRequired", "message": "Required value: must be specified", "field": f"{path}.items"}
        )
    if isinstance(schema.get("additionalProperties"), dict):
        causes += _structural(schema["additionalProperties"], f"{path}.additionalProperties")
    return causes


def check_definition(crd: Obj) -> list[Cause]:
    """What the API server finds wrong with a CustomResourceDefinition (beyond its own schema)."""
    causes: list[Cause] = []
    spec = crd.get("spec") if isinstance(crd.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    group = spec.get("group")
    names = spec.get("names") or {}
    if not group:
        causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": "spec.group"})
    elif isinstance(group, str):
        if not _DNS1123_SUBDOMAIN.match(group):
            causes.append(_invalid("spec.group", group, "a lowercase RFC 1123 subdomain must consist of lower case "
                                   "alphanumeric characters, '-' or '.'"))  # fmt: skip
        elif "." not in group:
            causes.append(_invalid("spec.group", group, "should be a domain with at least one dot"))
    name = (crd.get("metadata") or {}).get("name", "")
    plural = names.get("plural", "") if isinstance(names, dict) else ""
    if group and plural and name != f"{plural}.{group}":
        causes.append(_invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if scope not in ("Cluster", "Namespaced"):
        if not scope:
            causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": "spec.scope"})
        else:
            causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "message": f'Unsupported value: {go_value(scope)}: supported values: "Cluster", "Namespaced"',
                    "field": "spec.scope",
                }
            )
    causes += _name_causes(names, "spec.names")
    versions = spec.get("versions") or []
    if not versions:
        causes.append(
            {"reason": "FieldValueInvalid", "message": "Invalid value: null: must have exactly one version marked as "
             "storage version", "field": "spec.versions"}
        )  # fmt: skip
        return causes
    seen: set[str] = set()
    storage = 0
    for i, version in enumerate(versions):
        if not isinstance(version, dict):
            continue
        path = f"spec.versions[{i}]"
        vname = version.get("name")
        if not vname:
            causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": f"{path}.name"})
        elif isinstance(vname, str) and not _DNS1035.match(vname):
            causes.append(_invalid(f"{path}.name", vname, _dns1035_message(vname)))
        elif vname in seen:
            causes.append(
                {
                    "reason": "FieldValueDuplicate",
                    "message": f"Duplicate value: {go_value(vname)}",
                    "field": f"{path}.name",
                }
            )
        seen.add(str(vname))
        storage += 1 if version.get("storage") else 0
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            causes.append(
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: schemas are required",
                    "field": f"{path}.schema.openAPIV3Schema",
                }
            )
        else:
            causes += _structural(schema, f"{path}.schema.openAPIV3Schema", root=True)
        scale = (version.get("subresources") or {}).get("scale")
        if isinstance(scale, dict):
            for key in ("specReplicasPath", "statusReplicasPath"):
                value = scale.get(key)
                if not value:
                    causes.append(
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value",
                            "field": f"{path}.subresources.scale.{key}",
                        }
                    )
                elif not str(value).startswith("."):
                    causes.append(_invalid(f"{path}.subresources.scale.{key}", value, "should be a json path"))
        for j, column in enumerate(version.get("additionalPrinterColumns") or []):
            if isinstance(column, dict) and not column.get("jsonPath"):
                causes.append(
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value",
                        "field": f"{path}.additionalPrinterColumns[{j}].jsonPath",
                    }
                )
    if storage != 1:
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly "
                "one version marked as storage version",
                "field": "spec.versions",
            }
        )
    if not any(isinstance(v, dict) and v.get("served") for v in versions):
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have at least "
                "one version marked as served",
                "field": "spec.versions",
            }
        )
    return causes
