"""The body of a write to a custom resource or a CRD, checked as the API server checks it (a module of its
own: ``schema`` calls it, and ``custom``'s handlers import what ``schema`` is imported by)."""

from __future__ import annotations

import contextvars
from typing import Any

from .. import crds, status
from ..objects import Objects
from ..resources import Resource

Obj = dict[str, Any]


def check_body(res: Resource, obj: Obj, mode: str) -> list[str]:
    """Validate, prune and default a custom resource's body by its version's schema, in place; returns the
    warnings (``fieldValidation=Warn``). Unknown fields under ``Strict`` are the API server's 400, other
    failures its 422, worded as for a built-in kind."""
    from ..wire import crdschema

    assert isinstance(res, crds.CustomResource)
    schema = res.custom.schema if res.custom is not None else None
    pruned, unknown, causes = crdschema.check_custom(obj, schema, mode)
    if unknown and mode == "Strict":
        listed = ", ".join(f'unknown field "{p}"' for p in unknown)
        message = (
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: strict decoding error: {listed}'
        )
        raise status.status_error(400, message, "BadRequest")
    if causes:
        meta = pruned.get("metadata")
        name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
        raise status.invalid(res.kind, res.group, name, causes)
    obj.clear()
    obj.update(pruned)
    return [f'unknown field "{p}"' for p in unknown] if mode == "Warn" else []


# The store of the request being served (``rest`` sets it): what a CRD write is checked against.
REQUEST_OBJECTS: contextvars.ContextVar[Objects | None] = contextvars.ContextVar("k8s_objects", default=None)


def _update_causes(old: Obj, new: Obj) -> list[dict[str, str]]:
    """What may not change once a CRD is Established: its scope; and every version objects are stored
    in must stay in ``spec.versions``."""
    causes = []
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if crds.established(old) and spec.get("scope") != old_spec.get("scope"):
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "{spec.get("scope")}": field is immutable',
                "field": "spec.scope",
            }
        )
    names = {v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict)}
    for i, stored in enumerate((old.get("status") or {}).get("storedVersions") or []):
        if stored not in names:
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": f'Invalid value: "{stored}": must appear in spec.versions',
                    "field": f"status.storedVersions[{i}]",
                }
            )
    return causes


def check_definition(res: Resource, obj: Obj) -> None:
    """The API server's rules for a CustomResourceDefinition: its names, group, versions and schemas, and on
    an update what may not change."""
    if res.kind != "CustomResourceDefinition" or res.group != "apiextensions.k8s.io":
        return
    from ..wire import crdschema

    causes = crdschema.check_definition(obj)
    meta = obj.get("metadata")
    name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
    objects = REQUEST_OBJECTS.get()
    old = objects.get(res, "", name) if objects is not None and name else None
    if old is not None:
        causes += _update_causes(old, obj)
    if causes:
        raise status.invalid(res.kind, res.group, name, causes)
