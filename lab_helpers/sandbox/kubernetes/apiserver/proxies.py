"""The API server's proxy subresources: ``services/[scheme:]NAME[:PORT]/proxy/PATH`` (to one ready
endpoint of the Service's port, a number or a name), ``pods/[scheme:]NAME[:PORT]/proxy/PATH`` (to
the pod's address and port; its first container port when none is named) and
``nodes/NAME/proxy/PATH`` (the node's kubelet: the sandbox simulates only its ``/healthz``).

As the API server does: any method; the bodies stream both ways (nothing is held whole); the
caller's credentials are not passed on; a redirect that points into the backend comes back
rewritten to the proxy path (``Location: /login`` becomes ``.../proxy/login``), and so do the
links of an HTML page (``href``, ``src``, ``action``; pages up to 4 MiB, uncompressed); an
upgrade (a WebSocket to the backend) is tunnelled, bytes both ways; a path that ends
at ``/proxy`` is redirected to ``/proxy/``; 503 with the reason when nothing can answer. What
``kubectl proxy`` (client side) forwards ends here too."""

from __future__ import annotations

import http.client
import re
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from ...api import Ctx
from .. import status
from ..objects import Objects
from .auth import authorize
from .paths import Target

Obj = dict[str, Any]
_VERB = {"GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "POST": "create", "DELETE": "delete"}
_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "authorization",
    "host",
    "content-length",
}
CHUNK = 64 * 1024
CONNECT_TIMEOUT_S = 10.0
HTML_REWRITE_MAX = (
    4 * 1024 * 1024
)  # an HTML page up to this size has its links rewritten; larger ones stream as they are
READ_TIMEOUT_S = 300.0  # a backend that streams slowly (server-sent events) is waited for this long per read


def split_name(name: str) -> tuple[str, str, str]:
    """``[scheme:]name[:port]`` -> (scheme, name, port)."""
    parts = name.split(":")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return "", parts[0], ""


def handle(ctx: Ctx, objects: Objects, t: Target) -> Response:
    request = ctx.request
    scheme, name, port = split_name(t.name)
    authorize(objects, ctx.user, _VERB.get(request.method, request.method.lower()), t.res, t.namespace, name, "proxy")
    obj = objects.need(t.res, t.namespace, name)
    where = f"namespaces/{t.namespace}/" if t.namespace else ""
    base = f"/api/v1/{where}{t.res.plural}/{t.name}/proxy/"
    if request.path.endswith("/proxy"):  # no slash after ``proxy``: where the API server sends it
        query = f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
        return Response("", status=301, headers={"Location": base + query})
    if t.res.kind == "Node":
        return _node(obj, t.rest, request.method)
    if t.res.kind == "Service":
        from ..kubelet import network

        host, target_port = network.service_target(objects, t.namespace, name, port)
    else:
        host, target_port = _pod_target(obj, port)
    return forward(ctx, scheme or "http", host, target_port, "/" + t.rest, base)


def _pod_target(pod: Obj, port: str) -> tuple[str, int]:
    name = pod["metadata"]["name"]
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        raise status.status_error(
            503, f'pod "{name}" has no IP address yet (phase {pod.get("status", {}).get("phase")})'
        )
    containers = (pod.get("spec") or {}).get("containers") or []
    declared = [p for c in containers for p in c.get("ports") or []]
    if not port:
        return ip, int(declared[0].get("containerPort", 80)) if declared else 80
    if port.isdigit():
        return ip, int(port)
    for p in declared:
        if p.get("name") == port:
            return ip, int(p.get("containerPort", 0))
    raise status.status_error(503, f'no port named "{port}" in pod "{name}"', "ServiceUnavailable")


def _node(node: Obj, rest: str, method: str) -> Response:
    name = node["metadata"]["name"]
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )
    if rest.strip("/") == "healthz" and method in ("GET", "HEAD"):
        if not ready:
            raise status.status_error(503, f'error trying to reach node "{name}": its kubelet is not ready')
        return Response("ok", mimetype="text/plain")
    raise status.status_error(
        503,
        f'the sandbox simulates no kubelet HTTP endpoint on node "{name}": only nodes/{name}/proxy/healthz answers '
        "(pod logs: kubectl logs; metrics: none in the sandbox)",
        "ServiceUnavailable",
    )


def forward(ctx: Ctx, scheme: str, host: str, port: int, path: str, base: str) -> Response:
    """Send the request on to ``scheme://host:port/path`` and stream the answer back."""
    request = ctx.request
    if request.query_string:
        path += "?" + request.query_string.decode("latin-1")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
    headers["X-Forwarded-For"] = request.remote_addr or "127.0.0.1"
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # as the API server's proxy: not verified
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=CONNECT_TIMEOUT_S, context=context
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)
    if "upgrade" in {
        v.strip().lower() for v in request.headers.get("Connection", "").split(",")
    } and request.headers.get("Upgrade"):
        return _tunnel(request, conn, scheme, host, port, path)
    length = request.content_length
    body: Any = None
    if length:
        body = _body(request.stream, length)
        headers["Content-Length"] = str(length)
    elif request.environ.get("wsgi.input_terminated") or request.headers.get("Transfer-Encoding"):
        body = _body(request.stream, None)
    try:
        conn.connect()
        conn.sock.settimeout(READ_TIMEOUT_S)
        conn.request(request.method, path, body=body, headers=headers, encode_chunked=body is not None and not length)
        upstream = conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise status.status_error(
            503, f"error trying to reach service: dial tcp {host}:{port}: {_reason(exc)}", "ServiceUnavailable"
        ) from None
    page = _small_html(upstream)
    if page is not None:
        conn.close()
        body_out: Any = [rewrite_links(page, scheme, host, port, base)]
    else:
        body_out = _stream(conn, upstream)
    out = Response(body_out, status=upstream.status, direct_passthrough=True)
    out.headers.clear()
    for k, v in upstream.getheaders():
        low = k.lower()
        if (low in _HOP and low != "content-length") or low in ("date", "server"):  # the server writes its own
            continue
        if low == "location":
            v = rewrite_location(v, scheme, host, port, base)
        if low == "content-length" and page is not None:
            continue
        out.headers.add(k, v)
    if page is not None:
        out.headers["Content-Length"] = str(len(body_out[0]))
    return out


def _small_html(upstream: http.client.HTTPResponse) -> bytes | None:
    """An uncompressed HTML page of known, small length, read whole (its links get rewritten);
    None for anything else, which streams through untouched."""
    kind = (upstream.getheader("Content-Type") or "").split(";")[0].strip().lower()
    length = upstream.getheader("Content-Length")
    encoding = (upstream.getheader("Content-Encoding") or "identity").lower()
    if kind != "text/html" or encoding != "identity" or not length or not length.isdigit():
        return None
    if int(length) > HTML_REWRITE_MAX:
        return None
    try:
        return upstream.read()
    except (OSError, http.client.HTTPException):
        return b""


_LINK = re.compile(rb"""(\s(?:href|src|action)\s*=\s*)(["'])(/(?!/)[^"']*|https?://[^"']*)\2""", re.IGNORECASE)


def rewrite_links(page: bytes, scheme: str, host: str, port: int, base: str) -> bytes:
    """Links in an HTML page that point into the backend (``href="/static/a.css"``), as paths under
    the proxy, as the API server's proxy rewrites them; other links are left alone."""

    def one(m: re.Match[bytes]) -> bytes:
        url = m.group(3).decode("latin-1")
        new = rewrite_location(url, scheme, host, port, base)
        return m.group(1) + m.group(2) + new.encode("latin-1") + m.group(2)

    return _LINK.sub(one, page)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(exc, TimeoutError):
        return "i/o timeout"
    return str(exc) or type(exc).__name__


def _body(stream: Any, length: int | None) -> Iterator[bytes]:
    left = length
    while left is None or left > 0:
        data = stream.read(CHUNK if left is None else min(CHUNK, left))
        if not data:
            return
        if left is not None:
            left -= len(data)
        yield data


def _stream(conn: http.client.HTTPConnection, upstream: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while True:
            try:
                data = upstream.read1(CHUNK)
            except (OSError, http.client.HTTPException):
                return
            if not data:
                return
            yield data
    finally:
        conn.close()


def rewrite_location(location: str, scheme: str, host: str, port: int, base: str) -> str:
    """A redirect into the backend, as a path under the proxy (``base`` ends with ``/proxy/``);
    one to anywhere else is left as it is."""
    url = urlsplit(location)
    if url.scheme or url.netloc:
        same = url.hostname == host and (url.port or (443 if url.scheme == "https" else 80)) == port
        if not same:
            return location
    elif not url.path.startswith("/"):
        return location  # relative to the current path: already under the proxy
    rewritten = base.rstrip("/") + (url.path or "/")
    if url.query:
        rewritten += "?" + url.query
    if url.fragment:
        rewritten += "#" + url.fragment
    return rewritten


# -- upgrades (WebSocket and others) through the proxy: bytes both ways -----------------------------


def _tunnel(request: Any, conn: http.client.HTTPConnection, scheme: str, host: str, port: int, path: str) -> Response:
    """An upgrade request goes to the backend as it came (less the caller's credentials); once the
    backend has answered, bytes flow both ways until either side closes, as the API server's
    upgrade-aware proxy does."""
    from . import websocket

    if not websocket.can_upgrade(request):
        raise status.bad_request("this server cannot hand over its connection for an upgrade")
    try:
        conn.connect()
    except OSError as exc:
        conn.close()
        raise status.status_error(
            503, f"error trying to reach service: dial tcp {host}:{port}: {_reason(exc)}", "ServiceUnavailable"
        ) from None
    backend = conn.sock
    lines = [f"{request.method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    for k, v in request.headers.items():
        if k.lower() not in ("host", "authorization", "proxy-authorization", "content-length", "transfer-encoding"):
            lines.append(f"{k}: {v}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return _Tunnel(head, backend)


class _Tunnel(Response):
    def __init__(self, head: bytes, backend: Any) -> None:
        super().__init__(status=101)
        self.head = head
        self.backend = backend

    def __call__(self, wsgi_env: dict[str, Any], start_response: Any) -> Any:
        from .watch import stopping

        client = wsgi_env["werkzeug.socket"]
        try:
            self.backend.sendall(self.head)
            pump(client, self.backend, stopping())
        finally:
            for sock in (client, self.backend):
                try:
                    sock.settimeout(1.0)
                    sock.shutdown(2)
                except OSError:
                    pass
            self.backend.close()
        raise ConnectionAbortedError("tunnel closed")


def pump(client: Any, backend: Any, stop: Any) -> None:
    """Copy bytes between the client's connection (TLS, maybe) and the backend's until one closes;
    one thread, so a TLS connection is never read and written at once; each side's unsent bytes
    are bounded (the other side is not read meanwhile)."""
    import selectors

    client.settimeout(0.0)
    backend.settimeout(0.0)
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, backend)
    sel.register(backend, selectors.EVENT_READ, client)
    try:
        while not stop.is_set():
            pending = [client] if isinstance(client, ssl.SSLSocket) and client.pending() else []
            ready: list[Any] = [k.fileobj for k, _ in sel.select(0 if pending else 0.5)] + pending
            for src in dict.fromkeys(ready):
                dst = backend if src is client else client
                try:
                    data = src.recv(CHUNK)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError, InterruptedError):
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    dst.settimeout(READ_TIMEOUT_S)
                    dst.sendall(data)
                    dst.settimeout(0.0)
                except OSError:
                    return
    finally:
        sel.close()
