"""What the handlers of ``rest`` and ``subresources`` share: the writer of a request (``caller``) and
an object answered as the client's Accept asks (``answer``), with the warnings of the write."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, reply
from .. import status
from ..resources import Resource
from . import accept, bodies, schema, tables, writes

Obj = dict[str, Any]


def caller(ctx: Ctx) -> writes.Caller:
    """The writer of this request: user, field manager (given, or from the User-Agent), dryRun, fieldValidation."""
    request = ctx.request
    given = request.args.get("fieldManager") or ""
    if len(given) > 128:
        raise status.bad_request("fieldManager: Too long: may not be more than 128 bytes")
    manager = given or (request.headers.get("User-Agent", "").split("/")[0][:128] or "unknown")
    return writes.Caller(
        user=ctx.user,
        manager=manager,
        manager_given=bool(given),
        dry_run=bodies.dry_run(request.args.getlist("dryRun")),
        validation=schema.mode(request),
        state_dir=ctx.state_dir,
    )


def warning_headers(response: Response, warnings: list[str]) -> Response:
    for text in warnings:
        response.headers.add("Warning", '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return response


def answer(ctx: Ctx, res: Resource, obj: Obj, code: int = 200, warnings: list[str] | None = None) -> Response:
    """One object, as the client's Accept asks (the object, a one-row Table, or its metadata)."""
    view = accept.view(ctx.request)
    body: Obj = obj
    if view.table:
        meta = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")}
        body = tables.table(res, [obj], meta, include=view.include, version=view.version)
    elif view.partial:
        body = tables.partial_metadata(obj) | {"apiVersion": f"meta.k8s.io/{view.version}"}
    return warning_headers(reply(body, code), warnings or [])
