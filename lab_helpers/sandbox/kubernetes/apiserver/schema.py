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
    """Validate ``obj`` as ``res``'s kind; returns the warnings (``Warn``), raises the 400 (unknown fields under
    ``Strict``, wrong types always)."""
    from ..wire import schemas

    causes, warnings = schemas.validate(obj, unknown=unknown)
    if causes:
        shown = ", ".join(c.get("message", "") for c in causes)
        prefix = f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
        details = {"causes": causes, "kind": res.kind, "name": obj.get("metadata", {}).get("name", "")}
        raise status.status_error(400, prefix + shown, "BadRequest", details)
    return list(warnings)
