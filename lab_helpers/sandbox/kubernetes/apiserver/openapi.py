"""``/openapi/v3`` (the index, each group version's ``serverRelativeURL`` with its hash) and
``/openapi/v3/{api/v1|apis/g/v}``, from the bundled schemas. kubectl reads these for ``explain``
and to learn that the server validates fields itself; ``/openapi/v2`` it reads as protobuf only,
so it is not served. Each answer is serialised once (the schemas never change at run time) and
marked immutable, as the API server marks a hashed URL."""

from __future__ import annotations

import functools
import json

from werkzeug.wrappers import Response

from ...api import Ctx, Routes
from .. import status

routes = Routes()


@functools.cache
def _index() -> bytes:
    from ..wire import schemas

    return json.dumps(schemas.openapi_v3_index(), separators=(",", ":")).encode()


@functools.cache
def _document(gv_path: str) -> bytes | None:
    from ..wire import schemas

    doc = schemas.openapi_v3_document(gv_path)
    return None if doc is None else json.dumps(doc, separators=(",", ":")).encode()


@routes("/openapi/v3", "GET")
def index(ctx: Ctx) -> Response:
    return Response(_index(), mimetype="application/json")


@routes("/openapi/v3/<path:gv_path>", "GET")
def document(ctx: Ctx, gv_path: str) -> Response:
    body = _document(gv_path.strip("/"))
    if body is None:
        raise status.server_not_found()
    response = Response(body, mimetype="application/json")
    if ctx.request.args.get("hash"):
        response.headers["Cache-Control"] = "public, immutable"
        response.headers["Expires"] = "Thu, 01 Jan 2099 00:00:00 GMT"
    else:
        response.headers["Cache-Control"] = "no-cache, private"
    return response
