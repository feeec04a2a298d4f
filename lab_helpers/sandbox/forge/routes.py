"""The forge's two services: the JSON API under ``/git/api/v1`` (Gitea-like errors, small bodies) and git's
smart HTTP under ``/git`` (text errors git shows as ``remote:`` lines; push bodies streamed and capped by
the handler itself)."""

from __future__ import annotations

from werkzeug.wrappers import Request

from ..api import Service
from . import rest, smarthttp
from .actions import routes as actions_routes
from .common import API_ERRORS, GIT_ERRORS, authenticate

PREFIX = "/git"
MAX_API_BODY = 64 * 1024


def _api_limit(request: Request) -> int | None:
    return MAX_API_BODY


def _git_limit(request: Request) -> int | None:
    return None if request.method == "POST" else MAX_API_BODY


API = Service(
    "forge-api",
    f"{PREFIX}/api/v1",
    (rest.routes, actions_routes.routes),
    API_ERRORS,
    authenticate=authenticate,
    body_limit=_api_limit,
)
GIT = Service("forge-git", PREFIX, (smarthttp.routes,), GIT_ERRORS, authenticate=authenticate, body_limit=_git_limit)
