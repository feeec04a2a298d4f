"""Request bodies and query parameters as the API server reads them.

Objects arrive as JSON, YAML or protobuf (``kubectl create namespace|secret|configmap|deployment|job``
and Helm's release Secret send ``application/vnd.kubernetes.protobuf``); a client that names no
content type (the Python client 37 on some POSTs) is read as JSON, then YAML. DeleteOptions come in
the body or the query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

from .. import status

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
OBJECT_TYPES = (JSON, YAML, PROTOBUF)
_YAML_ALIASES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
PROPAGATION = ("Orphan", "Background", "Foreground")


def flag(request: Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter, spelt as Go's strconv.ParseBool reads it (``watch=true``, ``=1``, ``=True``)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise status.bad_request(f'strconv.ParseBool: parsing "{raw}": invalid syntax')


def integer(request: Request, name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise status.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def dry_run(values: list[str]) -> bool:
    """``dryRun=All`` (the only value the API server knows), or a 400."""
    for v in values:
        if v != "All":
            raise status.bad_request(f'Invalid dryRun value: dryRun: Unsupported value: "{v}": supported values: "All"')
    return bool(values)


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise status.bad_request(f"couldn't get version/kind; json parse error: {_first_line(exc)}") from None


def _parse_yaml(raw: bytes) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise status.bad_request(f"error converting YAML to JSON: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def decode(request: Request) -> dict[str, Any]:
    """The object in the request body, by its content type; a 415 for a type the API server does not read."""
    raw = request.get_data(cache=True)
    mime = request.mimetype
    if not raw.strip():
        raise status.bad_request("Object 'Kind' is missing in ''")
    if mime == PROTOBUF:
        from ..wire import protobuf

        try:
            data: Any = protobuf.decode(raw)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise status.bad_request(f"failed to decode protobuf body: {_first_line(exc)}") from None
    elif mime == JSON or mime.endswith("+json"):
        data = _parse_json(raw)
    elif mime in _YAML_ALIASES:
        data = _parse_yaml(raw)
    elif not mime:
        data = _parse_json(raw) if raw.lstrip()[:1] in (b"{", b"[") else _parse_yaml(raw)
    else:
        raise status.unsupported_media_type(mime, OBJECT_TYPES)
    if not isinstance(data, dict):
        raise status.bad_request(
            f"couldn't get version/kind; json parse error: cannot unmarshal {_kind(data)} into Go value of type struct"
        )
    return data


def _kind(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "bool"}.get(type(value), "null")


@dataclass
class DeleteOptions:
    propagation: str | None = None
    grace_seconds: int | None = None
    dry_run: bool = False
    preconditions: dict[str, str] = field(default_factory=dict)


def delete_options(request: Request) -> DeleteOptions:
    """DeleteOptions from the body (JSON, YAML or protobuf) and the query; the query fills what the body leaves."""
    body: dict[str, Any] = {}
    if request.get_data(cache=True).strip():
        body = decode(request)
    opts = DeleteOptions()
    policy = body.get("propagationPolicy") or request.args.get("propagationPolicy")
    orphan = body.get("orphanDependents")
    if orphan is None and request.args.get("orphanDependents"):
        orphan = flag(request, "orphanDependents")
    if policy is None and orphan is not None:
        policy = "Orphan" if orphan else "Background"
    if policy is not None and policy not in PROPAGATION:
        raise status.bad_request(
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
            'supported values: "Foreground", "Background", "Orphan", "nil"'
        )
    opts.propagation = policy
    grace = body.get("gracePeriodSeconds")
    if grace is None:
        grace = integer(request, "gracePeriodSeconds")
    if grace is not None:
        if isinstance(grace, bool) or not isinstance(grace, int):
            raise status.bad_request("DeleteOptions: gracePeriodSeconds must be an integer")
        if grace < 0:
            grace = 1  # the API server treats a negative grace period as 1 second
    opts.grace_seconds = grace
    runs = body.get("dryRun") or request.args.getlist("dryRun")
    if not isinstance(runs, list) or not all(isinstance(r, str) for r in runs):
        raise status.bad_request("DeleteOptions: dryRun must be a list of strings")
    opts.dry_run = dry_run(runs)
    pre = body.get("preconditions") or {}
    if not isinstance(pre, dict):
        raise status.bad_request("DeleteOptions: preconditions must be an object")
    opts.preconditions = {k: str(v) for k, v in pre.items() if k in ("uid", "resourceVersion") and v}
    return opts
