"""``/openapi/v3`` (the index, each group version's ``serverRelativeURL`` with its hash) and
``/openapi/v3/{api/v1|apis/g/v}``, from the bundled schemas. kubectl reads these for ``explain``
and to learn that the server validates fields itself; ``/openapi/v2`` it reads as protobuf only,
so it is not served. Each built-in answer is serialised once (those schemas never change at run time);
the custom resources' documents (``wire.customopenapi``) are rebuilt when the stored CRDs change, and
their hashes in the index with them. A hashed URL is marked immutable, as the API server marks it."""

from __future__ import annotations

import functools
import json

from werkzeug.wrappers import Response

from ...api import Ctx, Routes
from .. import crds, status
from ..objects import Objects, objects_for

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


_CUSTOM: dict[str, dict[str, tuple[bytes, str]]] = {}


def _custom_documents(objects: Objects) -> dict[str, tuple[bytes, str]]:
    """The custom resources' documents by path, for the stored CRDs as they are now."""
    from ..wire import customopenapi

    generation = crds.registry(objects).fingerprint()
    found = _CUSTOM.get(generation)
    if found is None:
        found = customopenapi.documents(crds.served(objects))
        _CUSTOM.clear()
        _CUSTOM[generation] = found
    return found


@routes("/openapi/v3", "GET")
def index(ctx: Ctx) -> Response:
    custom = _custom_documents(objects_for(ctx.store))
    if not custom:
        return Response(_index(), mimetype="application/json")
    doc = json.loads(_index())
    for path, (_, digest) in custom.items():
        doc["paths"].setdefault(path, {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"})
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return Response(json.dumps(doc, separators=(",", ":")), mimetype="application/json")


@routes("/openapi/v3/<path:gv_path>", "GET")
def document(ctx: Ctx, gv_path: str) -> Response:
    body = _document(gv_path.strip("/"))
    if body is None:
        found = _custom_documents(objects_for(ctx.store)).get(gv_path.strip("/"))
        body = found[0] if found else None
    if body is None:
        raise status.server_not_found()
    response = Response(body, mimetype="application/json")
    if ctx.request.args.get("hash"):
        response.headers["Cache-Control"] = "public, immutable"
        response.headers["Expires"] = "Thu, 01 Jan 2099 00:00:00 GMT"
    else:
        response.headers["Cache-Control"] = "no-cache, private"
    return response
