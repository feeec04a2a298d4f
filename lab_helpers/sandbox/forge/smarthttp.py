"""Git's smart HTTP, served by the real ``git http-backend`` called as CGI from the WSGI handler.

The request body is read (gzip bodies, as git sends fetch negotiations, are inflated here) into a file in
the forge's folder, capped, then handed to the backend; its CGI headers become the response's and its output
streams back. Pushes (``git-receive-pack``) need the owner's token: anonymous ones get 401 with
``WWW-Authenticate`` so git asks its credential helper; another user's get 403 with whose repository it is.
"""

from __future__ import annotations

import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from werkzeug.wrappers import Response

from ..api import Ctx, Routes
from . import events, repos
from .common import readable, writable

routes = Routes()

MAX_PUSH_BYTES = 200 * 1024 * 1024  # one push's pack
MAX_FETCH_BYTES = 16 * 1024 * 1024  # a fetch negotiation (wants and haves), inflated
CHUNK = 64 * 1024
PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # the folder holding lab_helpers/, for the hooks' Python


def _name(repo: str) -> str:
    return repo[: -len(".git")] if repo.endswith(".git") else repo


@routes("/<owner>/<repo>/info/refs", "GET")
def info_refs(ctx: Ctx, owner: str, repo: str) -> Response:
    service = ctx.request.args.get("service", "")
    if service not in ("git-upload-pack", "git-receive-pack"):
        raise ctx.bad(
            "Only git's smart HTTP is served: use git 2.x (service=git-upload-pack or git-receive-pack).", 403
        )
    name = _name(repo)
    check = writable if service == "git-receive-pack" else readable
    check(ctx, owner, name)
    return _backend(ctx, owner, name, "info/refs", None)


@routes("/<owner>/<repo>/git-upload-pack", "POST")
def upload_pack(ctx: Ctx, owner: str, repo: str) -> Response:
    name = _name(repo)
    readable(ctx, owner, name)
    return _backend(ctx, owner, name, "git-upload-pack", _body(ctx, MAX_FETCH_BYTES))


@routes("/<owner>/<repo>/git-receive-pack", "POST")
def receive_pack(ctx: Ctx, owner: str, repo: str) -> Response:
    name = _name(repo)
    writable(ctx, owner, name)
    return _backend(ctx, owner, name, "git-receive-pack", _body(ctx, MAX_PUSH_BYTES))


def _body(ctx: Ctx, limit: int) -> IO[bytes]:
    """The request body, inflated when gzip, in a file of the forge's folder; 413 over ``limit``, 400 when the
    gzip stream is broken."""
    request = ctx.request
    length = request.content_length
    too_large = ctx.bad(f"Request body over the forge's limit of {limit // (1024 * 1024)} MiB.", 413)
    if length is not None and length > limit:
        raise too_large
    encoding = (request.headers.get("Content-Encoding") or "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise ctx.bad(f"Content-Encoding {encoding!r} is not supported (gzip or none).", 415)
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    tmp_dir = repos.forge_dir(ctx.state_dir) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    out = tempfile.TemporaryFile(dir=tmp_dir)
    size = 0
    stream = request.stream
    try:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            if inflate is not None:
                chunk = inflate.decompress(chunk, limit + 1 - size)
                if inflate.unconsumed_tail:
                    raise too_large
            size += len(chunk)
            if size > limit:
                raise too_large
            out.write(chunk)
        if inflate is not None:
            if not inflate.eof:
                raise ctx.bad("The gzip request body ended early or is not gzip.", 400)
    except zlib.error:
        out.close()
        raise ctx.bad("The gzip request body is corrupt.", 400) from None
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def cgi_env(ctx: Ctx, owner: str, name: str, tail: str, size: int | None) -> dict[str, str]:
    """The CGI variables ``git http-backend`` reads, and the forge's own for its hooks; no credentials."""
    request = ctx.request
    env = repos.git_env(ctx.state_dir)
    env.update(
        {
            "GIT_PROJECT_ROOT": str(repos.forge_dir(ctx.state_dir) / "repos"),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{owner}/{name}.git/{tail}",
            "QUERY_STRING": request.query_string.decode("latin-1"),
            "REQUEST_METHOD": request.method,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "REMOTE_ADDR": request.remote_addr or "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "FORGE_STATE_DIR": str(ctx.state_dir),
            "FORGE_OWNER": owner,
            "FORGE_REPO": name,
            "PYTHONPATH": str(PACKAGE_ROOT),
        }
    )
    if size is not None:
        env["CONTENT_LENGTH"] = str(size)
    if ctx.user:
        env["REMOTE_USER"] = ctx.user
    protocol = request.headers.get("Git-Protocol", "")
    if protocol:
        env["HTTP_GIT_PROTOCOL"] = protocol
    return env


def _backend(ctx: Ctx, owner: str, name: str, tail: str, body: IO[bytes] | None) -> Response:
    size = None
    if body is not None:
        body.seek(0, 2)
        size = body.tell()
        body.seek(0)
    log = open(repos.forge_dir(ctx.state_dir) / "http-backend.log", "ab")
    proc = subprocess.Popen(
        ["git", "http-backend"],
        stdin=body if body is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env=cgi_env(ctx, owner, name, tail, size),
        cwd=repos.forge_dir(ctx.state_dir),
    )
    assert proc.stdout is not None
    status, headers = 200, []
    while True:
        line = proc.stdout.readline()
        if not line or not line.strip():
            break
        key, _, value = line.decode("latin-1").partition(":")
        if key.strip().lower() == "status":
            status = int(value.split()[0])
        else:
            headers.append((key.strip(), value.strip()))
    pushed = tail == "git-receive-pack"
    store = ctx.store

    def stream() -> Iterator[bytes]:
        assert proc.stdout is not None
        try:
            while True:
                chunk = proc.stdout.read1(CHUNK)  # type: ignore[attr-defined]  # a BufferedReader
                if not chunk:
                    break
                yield chunk
        finally:
            proc.stdout.close()
            if proc.wait(timeout=600) is None:  # pragma: no cover - wait raises on timeout
                proc.kill()
            log.close()
            if body is not None:
                body.close()
            if pushed:
                events.publish_new(store)

    return Response(stream(), status=status, headers=headers, direct_passthrough=True)
