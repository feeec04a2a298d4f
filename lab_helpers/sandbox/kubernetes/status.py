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
    """422 with one cause per field: ``{"reason": "FieldValueRequired", "message": ..., "field": ...}``.

    Worded as the API server words it: ``Deployment.apps "web" is invalid: spec.selector: Required value``,
    several causes in brackets."""
    listed = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    shown = listed[0] if len(listed) == 1 else "[" + ", ".join(listed) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    qualified = f"{kind}.{group}" if group else kind
    return status_error(422, f'{qualified} "{name}" is invalid: {shown}', "Invalid", details)


def bad_request(message: str) -> ApiError:
    return status_error(400, message, "BadRequest")


def forbidden(
    user: str, verb: str, group_resource: str, namespace: str = "", name: str = "", subresource: str = ""
) -> ApiError:
    """``pods "x" is forbidden: User "learner" cannot delete resource "pods" in API group "" in the namespace "y"``."""
    plural, _, group = group_resource.partition(".")
    subject = f'{group_resource} "{name}"' if name else group_resource
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    shown = f"{plural}/{subresource}" if subresource else plural
    message = f'{subject} is forbidden: User "{user}" cannot {verb} resource "{shown}" in API group "{group}"{where}'
    return status_error(403, message, "Forbidden", _details(group_resource, name))


def forbidden_because(group_resource: str, name: str, why: str, causes: list[dict[str, str]] | None = None) -> ApiError:
    """A 403 with the admission plugin's reason: ``namespaces "default" is forbidden: this namespace may not be
    deleted``."""
    subject = f'{group_resource} "{name}"' if name else group_resource
    return status_error(403, f"{subject} is forbidden: {why}", "Forbidden", _details(group_resource, name, causes))


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return status_error(405, message, "MethodNotAllowed")


def unsupported_media_type(content_type: str, accepted: tuple[str, ...]) -> ApiError:
    return status_error(
        415,
        f"the body of the request was in an unknown format - accepted media types include: {', '.join(accepted)}",
        "UnsupportedMediaType",
    )


def server_not_found() -> ApiError:
    """An unknown path under a served prefix (no such resource in the group version)."""
    return status_error(404, "the server could not find the requested resource", "NotFound", {})


def unauthorized() -> ApiError:
    return status_error(401, "Unauthorized", "Unauthorized")


def gone(message: str = "too old resource version") -> ApiError:
    return status_error(410, message, "Expired")
