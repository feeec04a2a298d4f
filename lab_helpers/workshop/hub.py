"""The workshop as a JupyterHub service: launched by the Hub, served under its prefix, behind Hub OAuth.

The Hub starts ``lab workshop`` with ``JUPYTERHUB_SERVICE_URL`` (where to listen),
``JUPYTERHUB_SERVICE_PREFIX`` (the path the proxy forwards, kept in the request), an API token and
an OAuth client id. Browsers sign in with their Hub account through JupyterHub's own ``HubOAuth``
(state, PKCE, code for token, token for user); who sees the dashboard is a Hub admin or a member
of the instructors' group. Learners' results still come in with the workshop's join token, so
``lab start --workshop URL --workshop-token T`` works the same through the Hub's proxy.

``jupyterhub`` is imported only here and only in hub mode: the course runs without it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pprint
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import MissingPiece, UsageError
from .server import REFRESH_S, create_app

__all__ = [
    "DEFAULT_GROUP",
    "HubGate",
    "ServiceEnv",
    "StripPrefix",
    "bind_address",
    "create_hub_app",
    "hub_config",
    "in_service_env",
    "service_env",
]

DEFAULT_GROUP = "instructors"
REQUIRED = (
    "JUPYTERHUB_SERVICE_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_CLIENT_ID",
)
HUB_FIX = (
    "Run it from JupyterHub as a managed service: `lab workshop --hub-config` prints the lines for "
    "jupyterhub_config.py (or drop --hub to serve on this machine)."
)


@dataclass(frozen=True)
class ServiceEnv:
    """What the Hub tells a managed service through its environment."""

    name: str
    url: str  # where to listen, e.g. http://127.0.0.1:10101
    prefix: str  # e.g. /services/workshop/
    api_url: str
    api_token: str
    client_id: str
    hub_prefix: str  # e.g. /hub/
    oauth_callback: str
    public_url: str  # the service's public address when the Hub knows it, else ""

    @property
    def address(self) -> tuple[str, int]:
        return bind_address(self.url)


def in_service_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when this process was started by a JupyterHub as a service with a URL."""
    env = os.environ if environ is None else environ
    return bool(env.get("JUPYTERHUB_SERVICE_URL"))


def service_env(environ: Mapping[str, str] | None = None) -> ServiceEnv:
    """The Hub's service environment; UsageError naming what is missing when it is not complete."""
    env = os.environ if environ is None else environ
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise UsageError(
            f"hub mode needs the Hub's service environment: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set.",
            hint=HUB_FIX,
        )
    prefix = "/" + env["JUPYTERHUB_SERVICE_PREFIX"].strip("/") + "/"
    hub_prefix = "/" + (env.get("JUPYTERHUB_BASE_URL") or "/").strip("/") + "/hub/"
    return ServiceEnv(
        name=env.get("JUPYTERHUB_SERVICE_NAME") or prefix.strip("/").rsplit("/", 1)[-1],
        url=env["JUPYTERHUB_SERVICE_URL"],
        prefix=prefix.replace("//", "/"),
        api_url=env["JUPYTERHUB_API_URL"].rstrip("/"),
        api_token=env["JUPYTERHUB_API_TOKEN"],
        client_id=env["JUPYTERHUB_CLIENT_ID"],
        hub_prefix=hub_prefix.replace("//", "/"),
        oauth_callback=env.get("JUPYTERHUB_OAUTH_CALLBACK_URL") or prefix + "oauth_callback",
        public_url=env.get("JUPYTERHUB_PUBLIC_URL", ""),
    )


def bind_address(service_url: str) -> tuple[str, int]:
    """Host and port to listen on, from the service URL the Hub gave (``http://127.0.0.1:10101``)."""
    parsed = urllib.parse.urlsplit(service_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(
            f"the service URL {service_url!r} is not an http address.",
            hint='Set the service\'s "url" in jupyterhub_config.py to http://127.0.0.1:PORT.',
        )
    return parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)


class StripPrefix:
    """ASGI middleware: serve the app under the Hub's prefix.

    The Hub's proxy forwards ``/services/workshop/api/room`` unchanged; setting ``root_path`` lets
    Starlette route it as ``/api/room`` while the request's URL keeps the prefix (OAuth's next URL).
    The bare prefix without its slash is redirected, so the page's relative links resolve."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app, self.prefix = app, "/" + prefix.strip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.prefix != "/":
            path = scope["path"]
            if path == self.prefix and scope["type"] == "http":
                await RedirectResponse(self.prefix + "/", status_code=301)(scope, receive, send)
                return
            if path.startswith(self.prefix + "/"):
                scope = dict(scope, root_path=self.prefix)
        await self.app(scope, receive, send)


def _hub_oauth(env: ServiceEnv) -> Any:
    try:
        from jupyterhub.services.auth import HubOAuth
    except ImportError:
        raise MissingPiece(
            "hub mode needs the jupyterhub package, which is not installed here.",
            hint="pip install 'jupyterhub>=5,<7' in the environment the Hub starts `lab workshop` from.",
        ) from None
    return HubOAuth(
        api_url=env.api_url,
        api_token=env.api_token,
        oauth_client_id=env.client_id,
        base_url=env.prefix,
        hub_prefix=env.hub_prefix,
        oauth_redirect_uri=env.oauth_callback,
        cache_max_age=60,
    )


class HubGate:
    """Hub OAuth in front of the dashboard (``server.Gate``): admins and the group's members get in.

    The OAuth token goes in a cookie signed with a key derived from the service's API token (the
    Hub keeps that token across restarts, so a restarted service keeps its signed-in browsers)."""

    def __init__(self, env: ServiceEnv, group: str = DEFAULT_GROUP, auth: Any = None) -> None:
        self.env, self.group = env, group
        self.auth = auth if auth is not None else _hub_oauth(env)
        self._key = hmac.new(env.api_token.encode(), b"workshop hub cookie", hashlib.sha256).digest()
        self.routes: Sequence[BaseRoute] = [Route("/oauth_callback", self.callback)]

    # signed cookies
    def _sign(self, value: str) -> str:
        return value + "." + hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def _unsign(self, signed: str | None) -> str | None:
        value, _, mac = (signed or "").rpartition(".")
        good = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return value if value and hmac.compare_digest(mac, good) else None

    def _cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        secure = urllib.parse.urlsplit(self.env.public_url).scheme == "https"
        path = self.auth.cookie_path
        response.set_cookie(name, self._sign(value), max_age, path=path, httponly=True, samesite="lax", secure=secure)

    # who is asking
    async def _user(self, request: Request) -> dict | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.strip():
            token = self._unsign(request.cookies.get(self.auth.cookie_name)) or ""
        if not token:
            return None
        return await self.auth.user_for_token(token.strip(), sync=False)

    def allowed(self, user: Mapping[str, Any]) -> bool:
        """A Hub admin, or a member of the instructors' group."""
        return user.get("kind", "user") == "user" and (
            bool(user.get("admin")) or self.group in (user.get("groups") or [])
        )

    def _refusal(self, user: Mapping[str, Any]) -> str:
        return (
            f"{user.get('name', 'this account')} is signed in to the Hub but is not an instructor: "
            f"ask a Hub admin to add you to the group {self.group!r}."
        )

    async def _who(self, request: Request) -> tuple[dict | None, Response | None]:
        try:
            return await self._user(request), None
        except Exception as exc:  # the Hub is down or refused the service's token
            text = f"the Hub did not confirm who you are ({exc}); try again in a minute, or tell the Hub's admin."
            return None, PlainTextResponse(text, status_code=502)

    async def page(self, request: Request) -> Response | None:
        user, failed = await self._who(request)
        if failed is not None:
            return failed
        if user is None:
            return self._login(request)
        if not self.allowed(user):
            return PlainTextResponse(self._refusal(user), status_code=403)
        return None

    async def api(self, request: Request) -> Response | None:
        user, failed = await self._who(request)
        if failed is not None:
            return failed
        if user is None:
            return JSONResponse({"error": "sign in with your Hub account first (open the workshop's page)"}, 401)
        if not self.allowed(user):
            return JSONResponse({"error": self._refusal(user)}, 403)
        return None

    def _login(self, request: Request) -> Response:
        """Off to the Hub's OAuth authorize page, with a state (kept by HubOAuth) and PKCE."""
        verifier, challenge, method = self.auth.generate_pkce_code_challenge()
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        state = self.auth.generate_state(next_url=next_url, code_verifier=verifier)
        query = urllib.parse.urlencode({"state": state, "code_challenge": challenge, "code_challenge_method": method})
        response = RedirectResponse(f"{self.auth.login_url}&{query}", status_code=302)
        self._cookie(response, self.auth.state_cookie_name, state, max_age=self.auth.oauth_state_max_age)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def callback(self, request: Request) -> Response:
        """The Hub sends the browser back here with a code: trade it for a token, keep it in a cookie."""
        params = request.query_params
        if params.get("error"):
            return PlainTextResponse(
                f"the Hub refused the sign-in: {params.get('error_description') or params['error']}", 400
            )
        code, state = params.get("code"), params.get("state")
        cookie_state = self._unsign(request.cookies.get(self.auth.state_cookie_name))
        if not code or not state or not cookie_state or not hmac.compare_digest(state, cookie_state):
            return PlainTextResponse("the sign-in expired or came from another browser: open the page again.", 400)
        next_url = self.auth.get_next_url(state)
        verifier = self.auth.get_code_verifier(state)
        self.auth.clear_oauth_state(state)
        try:
            token = await self.auth.token_for_code(code, code_verifier=verifier, sync=False)
        except Exception as exc:
            return PlainTextResponse(f"the Hub did not finish the sign-in ({exc}): open the page again.", 502)
        if not next_url.startswith(self.env.prefix):  # only ever back into this service
            next_url = self.env.prefix
        response = RedirectResponse(next_url, status_code=302)
        response.delete_cookie(self.auth.state_cookie_name, path=self.auth.cookie_path)
        self._cookie(response, self.auth.cookie_name, token)
        return response

    async def signout(self, request: Request) -> Response:
        response = RedirectResponse(self.env.hub_prefix + "logout", status_code=303)
        response.delete_cookie(self.auth.cookie_name, path=self.auth.cookie_path)
        return response


def create_hub_app(folder: Path, env: ServiceEnv, group: str = DEFAULT_GROUP, refresh_s: float = REFRESH_S) -> ASGIApp:
    """The workshop app behind Hub OAuth, under the service's prefix. ``.workshop`` is its state."""
    app = create_app(folder, refresh_s, gate=HubGate(env, group))
    wrapped = StripPrefix(app, env.prefix)
    wrapped.workshop = app.state.workshop  # type: ignore[attr-defined]
    return wrapped


def hub_config(command: Sequence[str], port: int, name: str = "workshop", group: str = DEFAULT_GROUP) -> str:
    """The lines an admin pastes into jupyterhub_config.py to run ``lab workshop`` as a managed service.

    JupyterHub 5 gives users no access to services by default: the role lets every user finish the
    OAuth sign-in (the service itself then admits only admins and the group), and lets the service
    read names and groups."""
    service = {
        "name": name,
        "command": list(command),
        "url": f"http://127.0.0.1:{port}",
        "oauth_no_confirm": True,
    }
    roles = [
        {"name": "user", "scopes": ["self", f"access:services!service={name}"]},
        {
            "name": f"{name}-service",
            "scopes": ["read:users:name", "read:users:groups", "read:groups:name"],
            "services": [name],
        },
    ]
    return (
        f"# The workshop view as a JupyterHub service: instructors (Hub admins, or members of the group\n"
        f"# {group!r}) open <hub>/services/{name}/; learners send results there with the join token.\n"
        f"c.JupyterHub.services = {pprint.pformat([service], sort_dicts=False)}\n"
        f"c.JupyterHub.load_roles = {pprint.pformat(roles, sort_dicts=False)}\n"
        f"# the instructors: create the group on the Hub's admin page, or\n"
        f"# c.JupyterHub.load_groups = {{{group!r}: {{'users': ['NAME']}}}}\n"
    )
