"""Errors as the Kubernetes API server words them: a ``Status`` object with reason, message,
details and causes, under the HTTP status kubectl and client-go switch on."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, json_response

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def status_body(code: int, message: str, reason: str = "", details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, ""),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def status_error(code: int, message: str, reason: str = "", details: dict[str, Any] | None = None) -> ApiError:
    return ApiError(json_response(status_body(code, message, reason, details), code))


def _details(group_resource: str, name: str, causes: list[dict[str, str]] | None = None) -> dict[str, Any]:
    group, _, kind = "", "", group_resource
    if "." in group_resource:
        kind, group = group_resource.split(".", 1)
    out: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        out["group"] = group
    if causes:
        out["causes"] = causes
    return out


def not_found(group_resource: str, name: str) -> ApiError:
    return status_error(404, f'{group_resource} "{name}" not found', "NotFound", _details(group_resource, name))


def already_exists(group_resource: str, name: str) -> ApiError:
    return status_error(
        409, f'{group_resource} "{name}" already exists', "AlreadyExists", _details(group_resource, name)
    )


def conflict(group_resource: str, name: str, why: str = "") -> ApiError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return status_error(
        409,
        f'Operation cannot be fulfilled on {group_resource} "{name}": {why}',
        "Conflict",
        _details(group_resource, name),
    )


def invalid(kind: str, group: str, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 with one cause per field: ``{"reason": "FieldValueRequired", "message": ..., "field": ...}``."""
    listed = ", ".join(f"{c['field']}: {c['message']}" for c in causes)
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return status_error(422, f'{kind} "{name}" is invalid: {listed}', "Invalid", details)


def bad_request(message: str) -> ApiError:
    return status_error(400, message, "BadRequest")


def forbidden(user: str, verb: str, group_resource: str, namespace: str = "", name: str = "") -> ApiError:
    """``pods "x" is forbidden: User "learner" cannot delete resource "pods" in API group "" in the namespace "y"``."""
    plural, _, group = group_resource.partition(".")
    subject = f'{group_resource} "{name}"' if name else group_resource
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    message = f'{subject} is forbidden: User "{user}" cannot {verb} resource "{plural}" in API group "{group}"{where}'
    return status_error(403, message, "Forbidden", _details(group_resource, name))


def unauthorized() -> ApiError:
    return status_error(401, "Unauthorized", "Unauthorized")


def gone(message: str = "too old resource version") -> ApiError:
    return status_error(410, message, "Expired")
