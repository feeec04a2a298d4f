"""The workshop's HTTP server (Starlette on uvicorn): the dashboard, and the door learners post to.

Routes (relative, so the app also works under a JupyterHub service's prefix):

- ``GET /``: the dashboard when signed in, else the sign-in page (``?token=`` signs in too);
- ``POST /signin``, ``POST /signout``;
- ``GET /api/room``: the dashboard's JSON (instructor: the session cookie or ``Authorization: Bearer``);
- ``GET|POST /api/join-token``: read or rotate the learners' join token (instructor);
- ``POST /api/results``: a learner's batch (``X-Learner-Key`` always; ``Authorization: Bearer
  <join token>`` to join); 400 malformed, 401 no valid join, 403 a learner id claimed by
  another key, 413 over the size cap;
- ``GET /healthz``; ``GET /static/...``: the page's script and plotly.js from the plotly package.

A ``Gate`` passed to ``create_app`` replaces the instructor token as the judge of who sees the
dashboard and its JSON (``hub``: a JupyterHub's accounts); the learners' door is the same either way.

Learners' batches go to one writer thread that commits whatever has queued up in one transaction
(``writer``); the dashboard reads in Starlette's thread pool on connections of its own, beside
the writer (SQLite's WAL), so neither waits for the other.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .pages import dashboard_page, signin_page
from .payload import MAX_BYTES, PayloadError, parse_batch
from .room import course_checks, room
from .store import ClaimedByAnother, NotJoined, Store
from .tokens import COOKIE, Tokens
from .writer import Writer

__all__ = ["DB_NAME", "Gate", "Workshop", "create_app", "running"]

DB_NAME = "workshop.sqlite"
STATIC = Path(__file__).resolve().parent / "static"
REFRESH_S = 3.0
ROOM_MAX_AGE_S = 1.0


class BodyTooLarge(Exception):
    pass


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Workshop:
    """The workshop's state: its folder, store, tokens and the course's check names."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.folder / DB_NAME)
        self.tokens = Tokens(self.folder)
        self.writer = Writer(self.store)
        self.boot = secrets.token_hex(4)  # a restart changes the version the page compares
        self._checks: list[str] | None = None
        self._cache: tuple[int, float, bytes] | None = None  # (store version, when built, JSON)
        self._cache_lock = threading.Lock()

    def checks(self) -> list[str]:
        if self._checks is None:
            try:
                self._checks = course_checks()
            except Exception:  # an installed course without its labs: show only checks seen
                self._checks = []
        return self._checks

    def room(self) -> bytes:
        """The dashboard's JSON, encoded. Rebuilt when a result arrived, at most once per
        ``ROOM_MAX_AGE_S``; while one thread rebuilds it, other viewers get the previous one at once,
        so a busy room delays the page's numbers by about a second, never its answer."""
        cached = self._cache
        if cached and (cached[0] == self.store.version or time.monotonic() - cached[1] < ROOM_MAX_AGE_S):
            return cached[2]
        if not self._cache_lock.acquire(blocking=cached is None):
            assert cached is not None
            return cached[2]
        try:
            version = self.store.version
            data = room(self.store.snapshot(), self.checks())
            data["version"] = f"{self.boot}-{version}"
            body = json.dumps(data, separators=(",", ":")).encode()
            self._cache = (version, time.monotonic(), body)
            return body
        finally:
            self._cache_lock.release()


class Gate(Protocol):
    """Who may see the dashboard when something other than the instructor token decides.

    ``page`` and ``api`` answer None to let the instructor in, else the response for everyone else
    (a redirect to sign in, 401, 403); ``routes`` are the gate's own (an OAuth callback)."""

    routes: Sequence[BaseRoute]

    async def page(self, request: Request) -> Response | None: ...

    async def api(self, request: Request) -> Response | None: ...

    async def signout(self, request: Request) -> Response: ...


def _bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(folder: Path, refresh_s: float = REFRESH_S, gate: Gate | None = None) -> Starlette:
    """The workshop's ASGI app over the state folder ``folder``; ``gate`` replaces the instructor token."""
    ws = Workshop(folder)

    def instructor(request: Request) -> bool:
        return ws.tokens.is_session(request.cookies.get(COOKIE)) or ws.tokens.is_instructor(_bearer(request))

    def signed_in(response: Response) -> Response:
        response.set_cookie(COOKIE, ws.tokens.session_value(), httponly=True, samesite="strict", path="/")
        return response

    async def index(request: Request) -> Response:
        if gate is not None:
            refusal = await gate.page(request)
            return refusal or HTMLResponse(dashboard_page(refresh_s), headers={"Cache-Control": "no-store"})
        if ws.tokens.is_instructor(request.query_params.get("token")):
            return signed_in(RedirectResponse("./", status_code=303))  # the token leaves the address bar
        if not instructor(request):
            return HTMLResponse(signin_page(), headers={"Cache-Control": "no-store"})
        return HTMLResponse(dashboard_page(refresh_s), headers={"Cache-Control": "no-store"})

    async def signin(request: Request) -> Response:
        if gate is not None:  # the gate signs people in: back to the page, which sends them there
            return RedirectResponse("./", status_code=303)
        try:
            form = urllib.parse.parse_qs((await _body(request)).decode("utf-8", "replace"))
        except BodyTooLarge:
            return _error(413, f"the form is over {MAX_BYTES} bytes")
        if not ws.tokens.is_instructor((form.get("token") or [""])[0].strip()):
            page = signin_page("That is not the instructor token: copy it from where `lab workshop` started.")
            return HTMLResponse(page, status_code=401)
        return signed_in(RedirectResponse("./", status_code=303))

    async def signout(request: Request) -> Response:
        if gate is not None:
            return await gate.signout(request)
        response = RedirectResponse("./", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def room_json(request: Request) -> Response:
        if gate is not None:
            refusal = await gate.api(request)
            if refusal is not None:
                return refusal
        elif not instructor(request):
            return _error(401, "sign in with the instructor token first (open the workshop's page)")
        body = await run_in_threadpool(ws.room)
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})

    async def join_token(request: Request) -> Response:
        if gate is not None:
            refusal = await gate.api(request)
            if refusal is not None:
                return refusal
        elif not instructor(request):
            return _error(401, "only the instructor may see or rotate the join token: sign in first")
        if request.method == "POST":
            return JSONResponse({"join_token": await run_in_threadpool(ws.tokens.rotate_join)})
        return JSONResponse({"join_token": ws.tokens.join})

    async def results(request: Request) -> Response:
        key = request.headers.get("x-learner-key", "")
        if not 16 <= len(key) <= 200:
            return _error(
                401, "missing X-Learner-Key: results are sent by the course's sender (`lab start --workshop`)"
            )
        try:
            raw = await _body(request)
        except BodyTooLarge:
            return _error(413, f"the request is over {MAX_BYTES} bytes: send results in smaller batches")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not valid JSON ({exc})")
        try:
            batch = parse_batch(body)
        except PayloadError as exc:
            return _error(400, str(exc))
        try:
            new = await asyncio.wrap_future(ws.writer.submit(batch, key, ws.tokens.is_join(_bearer(request))))
        except NotJoined:
            return _error(
                401,
                "the join token is missing or wrong: ask your instructor for the current one and run "
                "`lab start --workshop URL --workshop-token TOKEN`",
            )
        except ClaimedByAnother:
            return _error(
                403,
                f"learner id {batch.learner!r} already joined from another machine: set LAB_LEARNER to your own id, "
                "or ask your instructor",
            )
        return JSONResponse({"accepted": len(batch.results), "new": new})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            return FileResponse(_plotly_js(), media_type="text/javascript")
        if name == "dashboard.js":
            return FileResponse(STATIC / name, media_type="text/javascript")
        return _error(404, f"no static file {name!r}")

    routes = [
        Route("/", index),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/api/room", room_json),
        Route("/api/join-token", join_token, methods=["GET", "POST"]),
        Route("/api/results", results, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/static/{name}", static),
        *(gate.routes if gate is not None else ()),
    ]
    app = Starlette(routes=routes)
    app.state.workshop = ws
    return app


@dataclass
class Running:
    url: str
    workshop: Workshop
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout=10)


def running(folder: Path, host: str = "127.0.0.1", port: int = 0, refresh_s: float = REFRESH_S) -> Running:
    """Serve a workshop in a background thread (tests, the benchmark); ``stop()`` ends it."""
    import socket

    import uvicorn

    app = create_app(folder, refresh_s)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # connections inherit it: no 40 ms Nagle stalls
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, backlog=2048)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="workshop-server")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("the workshop server did not start within 10 s")
    bound = sock.getsockname()
    return Running(f"http://{bound[0]}:{bound[1]}", app.state.workshop, server, thread)
