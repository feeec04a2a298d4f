"""What every handler shares, and what every service declares: the request context, route tables,
and the ``Service`` and ``Family`` declarations the dispatcher reads.

A handler module declares its own table, ``routes = Routes()``, and its handlers with
``@routes("/servers/<sid>", "GET")``; a service's top module (``openstack/nova/routes.py``)
mounts those tables under its prefix in a :class:`Service`, which also names the service's
authentication, error style, header negotiation and body limit. The dispatcher (``dispatch.py``)
asks the matched service for each of these instead of knowing any API family itself (moto's and
LocalStack's shape: routes -> handlers -> one state backend).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from .errors import ApiError, json_response
from .store import Store

# A request body larger than this is refused unless the service declares its own limit (1 MiB).
DEFAULT_BODY_LIMIT = 1024 * 1024


@dataclass
class Ctx:
    """One request: who sent it (as the service's authentication found it), against which store,
    at what microversion, answered in which service's conventions."""

    request: Request
    store: Store
    base: str
    state_dir: Path
    boot_s: float
    service: Service
    token: dict[str, Any] | None = None
    microversion: tuple[int, int] = (0, 0)
    urls: Mapping[str, str] = field(default_factory=dict)  # base URL of each listener, "main" included

    @property
    def project(self) -> str:
        return self.token["project_id"] if self.token else ""

    @property
    def user(self) -> str:
        return self.token["user_id"] if self.token else ""

    @property
    def is_admin(self) -> bool:
        if not self.token:
            return False
        return "admin" in self.token.get("roles", [])

    def mv(self, major: int, minor: int) -> bool:
        """True when the request's microversion is at least ``major.minor``."""
        return self.microversion >= (major, minor)

    def body(self, key: str | None = None, required: bool = True) -> Any:
        """The JSON body (or its ``key``); a malformed one is the service's 400."""
        raw = self.request.get_data(cache=True)
        try:
            data = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser goes
            raise self.bad("Malformed request body.") from None
        if not isinstance(data, dict):
            raise self.bad("Malformed request body: expected a JSON object.")
        if key is None:
            return data
        if not isinstance(data, dict) or (required and not isinstance(data.get(key), dict)):
            raise self.bad(
                f"Invalid input for field/attribute {key}. Value: {raw[:80]!r}. '{key}' is a required property"
            )
        return data.get(key) or {}

    def bad(self, message: str, status: int = 400, kind: str = "BadRequest") -> ApiError:
        """An error in this service's own shape."""
        return self.service.errors.error(status, message, kind)

    def forbid_non_admin(self, rule: str) -> None:
        if not self.is_admin:
            raise self.bad(f"Policy doesn't allow {rule} to be performed.", 403, "PolicyNotAuthorized")

    def owns(self, doc: dict[str, Any]) -> bool:
        """Whether this request may change ``doc``: an admin, or a member of the project that owns it."""
        owner = doc.get("project_id", doc.get("tenant_id"))
        return self.is_admin or owner in (None, "", self.project)


Handler = Callable[..., Any]


class Routes:
    """One handler module's routes, relative to the prefix its service is mounted under."""

    def __init__(self) -> None:
        self.table: list[tuple[str, tuple[str, ...], bool, Handler]] = []

    def __call__(self, path: str, *methods: str, public: bool = False) -> Callable[[Handler], Handler]:
        def add(func: Handler) -> Handler:
            self.table.append((path, methods, public, func))
            return func

        return add


def _schema_words(field: str, shown: str, reason: str) -> tuple[str, str]:
    return f"Invalid input for field/attribute {field}. Value: {shown}. {reason}", "BadRequest"


@dataclass(frozen=True, eq=False)
class ErrorStyle:
    """How one service words its errors.

    ``error(status, message, kind)`` builds any error in the service's body shape (``errors.py``);
    ``invalid(field, shown value, reason)`` gives the (message, kind) of a field failing its schema;
    ``marker_status`` is what a list answers for an unknown ``marker``.
    """

    error: Callable[[int, str, str], ApiError]
    invalid: Callable[[str, str, str], tuple[str, str]] = _schema_words
    marker_status: int = 400


def _default_body_limit(request: Request) -> int | None:
    return DEFAULT_BODY_LIMIT


@dataclass(frozen=True, eq=False)
class Service:
    """One REST service: where it is mounted, its routes, and the conventions it answers in.

    ``authenticate(ctx)`` runs before every non-public route: it sets ``ctx.token`` or raises the
    service's 401. ``negotiate(ctx)`` reads version headers into ``ctx`` and returns the headers
    the response must carry. ``stamp(response)`` adds the headers every response of the service
    carries (request ids). ``body_limit(request)`` is the largest body the request may carry
    (None: unlimited, the handler streams it).
    """

    name: str
    prefix: str
    routes: tuple[Routes, ...]
    errors: ErrorStyle
    authenticate: Callable[[Ctx], None] | None = None
    negotiate: Callable[[Ctx], dict[str, str]] | None = None
    stamp: Callable[[Response], None] | None = None
    body_limit: Callable[[Request], int | None] = _default_body_limit

    @property
    def table(self) -> list[tuple[str, tuple[str, ...], bool, Handler]]:
        """Every route of the service with its full path."""
        return [
            (self.prefix + path, methods, public, func) for r in self.routes for path, methods, public, func in r.table
        ]

    def owns_path(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


@dataclass(frozen=True)
class Listener:
    """A port of its own for part of the sandbox. A request arriving there is served as if its path
    began with ``prefix``: S3 at the root of its port (as path-style S3 clients expect), the
    Kubernetes API over TLS (kubectl sends no credentials over plain HTTP). The port is kept across
    restarts, so the client configuration written by ``announce`` stays valid."""

    name: str
    prefix: str
    tls: bool = False


@dataclass(frozen=True, eq=False)
class Family:
    """One API family the sandbox serves (OpenStack; later Kubernetes): its services, how its state
    is seeded (``prepare``, again after a reset), and the client configuration it writes once the
    port is known (``announce``: clouds.yaml, later a kubeconfig). ``fallback`` answers a path no
    service owns. ``listeners`` are the extra ports the family is served on; ``announce`` gets the
    base URL of each by name (``"main"`` for the shared port). ``start`` runs once the service
    listens, for a family's background work (the Kubernetes controllers and kubelet); it gets an
    event that is set when the service stops."""

    name: str
    services: tuple[Service, ...]
    fallback: Service
    prepare: Callable[[Store], None]
    announce: Callable[[Store, Path, Mapping[str, str]], Path]
    listeners: tuple[Listener, ...] = ()
    start: Callable[[Store, Path, Mapping[str, str], threading.Event], None] | None = None


def reply(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status=status, headers=headers or {})
    return json_response(body, status, headers)
