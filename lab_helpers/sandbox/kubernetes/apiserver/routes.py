"""The Kubernetes API service: where it is mounted, its routes, and the conventions it answers in
(bearer tokens, ``Status`` errors). ``/version`` and the health checks need no credentials, as in
a real cluster; everything else does."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, ErrorStyle, Routes, Service, reply
from ..status import status_error
from . import metrics, openapi, rest, reviews
from .auth import authenticate
from .discovery import version_info

routes = Routes()
BODY_LIMIT = 3 * 1024 * 1024  # the API server's limit on a request body (etcd's object size is 1.5 MiB)


@routes("/version", "GET", public=True)
def version(ctx: Ctx) -> Response:
    return reply(version_info())


@routes("/healthz", "GET", public=True)
@routes("/livez", "GET", public=True)
@routes("/readyz", "GET", public=True)
def health(ctx: Ctx) -> Response:
    return Response("ok", mimetype="text/plain")


def _error(code: int, message: str, kind: str) -> Any:
    return status_error(code, message)


SERVICE = Service(
    "kubernetes",
    "/kubernetes",
    (routes, openapi.routes, reviews.routes, metrics.routes, rest.routes),
    ErrorStyle(_error),
    authenticate=authenticate,
    body_limit=lambda request: BODY_LIMIT,
)
