"""Server-side field validation against the bundled schemas (``fieldValidation=Strict|Warn|Ignore``).

kubectl sends ``Strict`` (the OpenAPI paths advertise the parameter): an unknown field or a value
of the wrong type is the API server's 400, naming the field; ``Warn`` (the default for a client
that names none) drops unknown fields and answers with a ``Warning`` header; ``Ignore`` drops them
silently. A wrong type is an error whatever the mode, as decoding into Go structs fails."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from .. import status
from ..resources import Resource

MODES = ("Strict", "Warn", "Ignore")


def mode(request: Request) -> str:
    raw = request.args.get("fieldValidation") or "Warn"
    if raw not in MODES:
        raise status.bad_request(
            f'fieldValidation parameter unsupported: "{raw}", supported values: "Ignore", "Warn", "Strict"'
        )
    return raw


def check(res: Resource, obj: dict[str, Any], unknown: str) -> list[str]:
    """Validate ``obj`` as ``res``'s kind; returns the warnings (``Warn``). Unknown fields under ``Strict`` are
    the API server's 400 (``strict decoding error: unknown field "spec.foo"``), every other failure its 422."""
    from ..wire import schemas, validation

    typed = {**obj, "apiVersion": res.api_version, "kind": res.kind}
    causes, warnings = schemas.validate(typed, unknown=unknown)
    unknown_fields = [c for c in causes if validation.is_unknown_field(c)]
    name = (obj.get("metadata") or {}).get("name", "") if isinstance(obj.get("metadata"), dict) else ""
    if unknown_fields:
        listed = ", ".join(c["message"] for c in unknown_fields)
        message = (
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: strict decoding error: {listed}'
        )
        raise status.status_error(400, message, "BadRequest")
    if causes:
        raise status.invalid(res.kind, res.group, name, causes)
    return list(warnings)
