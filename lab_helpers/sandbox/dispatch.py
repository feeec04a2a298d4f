"""The sandbox's WSGI app: one werkzeug routing map over every service of every API family.

The dispatcher knows no API: for each request it finds the service that owns the path, then asks
that service (an ``api.Service``) for its body limit, its authentication, its header negotiation,
its error style and the headers every response carries. A handler's ``ApiError`` is the response;
anything else a handler raises is the service's 400 (a malformed write) or 500 (a bug, logged).
"""

from __future__ import annotations

import io
import logging
import os
import traceback
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .api import Ctx, Family, Service, reply
from .errors import ApiError
from .store import Store, now

log = logging.getLogger("lab_helpers.sandbox")


class SandboxApp:
    def __init__(self, state_dir: Path, port: int, boot_s: float, families: tuple[Family, ...]) -> None:
        self.state_dir = Path(state_dir)
        self.store = Store(self.state_dir)
        self.base = f"http://127.0.0.1:{port}"
        self.urls: dict[str, str] = {"main": self.base}  # the server adds each listener's base URL
        self.boot_s = boot_s
        self.families = families
        self.services = [svc for fam in families for svc in fam.services]
        self.fallback = families[0].fallback
        rules = [Rule("/healthz", endpoint=(None, True, self.health), methods=["GET"])]
        for svc in self.services:
            for path, methods, public, func in svc.table:
                rules.append(Rule(path, endpoint=(svc, public, func), methods=list(methods)))
        self.map = Map(rules, strict_slashes=False, merge_slashes=False)
        for fam in families:
            fam.prepare(self.store)
        with self.store.tx():
            if not self.store.meta("created"):
                self.store.set_meta("created", f"{now():.5f}")

    def health(self, ctx: Ctx) -> Response:
        return reply({"ok": True, "pid": os.getpid(), "state_dir": str(self.state_dir), "boot_s": self.boot_s})

    def announce(self) -> list[Path]:
        """Each family's client configuration, written now that the port is known."""
        return [fam.announce(self.store, self.state_dir, self.urls) for fam in self.families]

    def service_of(self, path: str) -> Service:
        for svc in self.services:
            if svc.owns_path(path):
                return svc
        return self.fallback

    def _too_large(self, ctx: Ctx, request: Request) -> ApiError | None:
        limit = ctx.service.body_limit(request)
        if limit is None:
            return None
        too_large = ctx.bad("Request is too large.", 413, "RequestEntityTooLarge")
        if request.content_length is not None:
            return too_large if request.content_length > limit else None
        if request.environ.get("wsgi.input_terminated"):  # chunked: read up to the limit, then hand the bytes on
            data = request.environ["wsgi.input"].read(limit + 1)
            if len(data) > limit:
                return too_large
            request.environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))})
            request.environ.pop("wsgi.input_terminated", None)
        return None

    def dispatch(self, request: Request) -> Response:
        ctx = Ctx(
            request=request,
            store=self.store,
            base=self.base,
            state_dir=self.state_dir,
            boot_s=self.boot_s,
            service=self.service_of(request.path),
            urls=self.urls,
        )
        negotiated: dict[str, str] = {}
        try:
            adapter = self.map.bind_to_environ(request.environ)
            # WebSocket upgrades are routed as plain requests: the handler answers the upgrade itself (pods/exec)
            (service, public, func), args = adapter.match(websocket=False)
            if service is not None:
                ctx.service = service
            too_large = self._too_large(ctx, request)
            if too_large is not None:
                raise too_large
            if not public and ctx.service.authenticate is not None:
                ctx.service.authenticate(ctx)
            if ctx.service.negotiate is not None:
                negotiated = ctx.service.negotiate(ctx)
            response = func(ctx, **args)
        except ApiError as exc:
            response = exc.response
        except NotFound:
            response = ctx.bad("The resource could not be found.", 404, "HTTPNotFound").response
        except MethodNotAllowed:
            response = ctx.bad("The method is not allowed for the requested URL.", 405, "HTTPMethodNotAllowed").response
        except HTTPException as exc:
            response = ctx.bad(exc.description or "Bad request", exc.code or 400).response
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            if request.method in ("POST", "PUT"):
                # A body of the wrong shape that a handler did not validate field by field: the client's error.
                log.warning("%s %s: malformed body\n%s", request.method, request.full_path, traceback.format_exc())
                response = ctx.bad(
                    "Invalid input for the request body: a field has the wrong type or is missing.", 400
                ).response
            else:
                response = _internal_error(ctx, request, exc)
        except Exception as exc:
            response = _internal_error(ctx, request, exc)
        if ctx.service.stamp is not None:
            ctx.service.stamp(response)
        for k, v in negotiated.items():
            response.headers[k] = v
        return response

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)


def _internal_error(ctx: Ctx, request: Request, exc: BaseException) -> Response:
    """A bug in the sandbox: answer as the service would (500), and log the traceback."""
    log.error("%s %s: %r\n%s", request.method, request.full_path, exc, traceback.format_exc())
    return ctx.bad(
        "Unexpected API Error. Please report this at the course's issue tracker and attach the "
        "sandbox log (lab sandbox status shows where it is).",
        500,
        "HTTPInternalServerError",
    ).response
