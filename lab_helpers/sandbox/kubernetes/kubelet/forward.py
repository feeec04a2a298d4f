"""Forwarding one HTTP request to an endpoint, streaming both ways: the request body goes on as it
arrives (``Content-Length`` or chunked), the response comes back as the upstream sends it (so a
streamed or long response is not held in memory). Hop-by-hop headers (RFC 9110 section 7.6.1, and
any the ``Connection`` header names) are dropped both ways; the caller says which headers to send.

Used by the ingress proxy (``ingress.py``); any other HTTP proxy of the sandbox may use it too."""

from __future__ import annotations

import http.client
from collections.abc import Iterable, Iterator

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

CHUNK = 64 * 1024
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def hop_by_hop(headers: Headers | Iterable[tuple[str, str]]) -> set[str]:
    """The lower-case names not to pass on: the fixed hop-by-hop set and those ``Connection`` lists."""
    names = set(HOP_BY_HOP)
    for key, value in headers:
        if key.lower() == "connection":
            names |= {part.strip().lower() for part in value.split(",") if part.strip()}
    return names


def end_to_end(headers: Headers, drop: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The request headers a proxy passes on: hop-by-hop ones and ``drop`` (lower case) left out;
    ``Content-Length`` too (``forward`` sets the framing itself)."""
    skip = hop_by_hop(headers) | {"content-length"} | {d.lower() for d in drop}
    return [(k, v) for k, v in headers.items() if k.lower() not in skip]


def _body(request: Request) -> tuple[bool, int]:
    """(chunked, length) of the request body as the client framed it."""
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return True, 0
    return False, int(request.content_length or 0)


def _send_body(conn: http.client.HTTPConnection, request: Request, chunked: bool, length: int) -> None:
    stream = request.stream
    if chunked:
        while True:
            data = stream.read(CHUNK)
            if not data:
                break
            conn.send(b"%x\r\n%s\r\n" % (len(data), data))
        conn.send(b"0\r\n\r\n")
        return
    left = length
    while left > 0:
        data = stream.read(min(CHUNK, left))
        if not data:
            break
        conn.send(data)
        left -= len(data)


def _stream(upstream: http.client.HTTPResponse, conn: http.client.HTTPConnection) -> Iterator[bytes]:
    try:
        while True:
            data = upstream.read1(CHUNK)
            if not data:
                return
            yield data
    except OSError:  # the endpoint went away mid-response: the client sees the body end early
        return
    finally:
        conn.close()


def forward(
    request: Request,
    target: tuple[str, int],
    path: str,
    headers: list[tuple[str, str]],
    timeout: float = 60.0,
) -> Response:
    """Send ``request`` (its method and body) to ``target`` as ``path`` with ``headers``, and answer
    with the endpoint's response, streamed. Raises ``OSError`` when the endpoint cannot be reached
    or answers no HTTP response (the caller says 502/503 in its own words)."""
    host, port = target
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(request.method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in headers:
            conn.putheader(key, value)
        chunked, length = _body(request)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        elif length or request.method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(length))
        conn.endheaders()
        _send_body(conn, request, chunked, length)
        upstream = conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise OSError(str(exc) or type(exc).__name__) from None
    raw = upstream.getheaders()
    skip = hop_by_hop(raw)
    out = Headers([(k, v) for k, v in raw if k.lower() not in skip])
    body: Iterable[bytes] = [] if request.method == "HEAD" else _stream(upstream, conn)
    status = f"{upstream.status} {upstream.reason}".strip()
    response = Response(body, status=status, headers=out, direct_passthrough=True)
    if not any(k.lower() == "content-type" for k, _ in raw):
        response.headers.pop("Content-Type", None)
    response.call_on_close(conn.close)
    return response
