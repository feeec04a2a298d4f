"""The cluster's ingress proxy: a plain-HTTP port and an HTTPS port on 127.0.0.1 (each chosen once, kept
in the store so it survives a restart) where requests are routed by the Ingresses of the sandbox's
class, as ingress-nginx routes them:

- the Host header picks the server: an exact host first, then a wildcard (``*.foo.com`` matches one
  label more, ``bar.foo.com``, not ``foo.com`` nor ``a.b.foo.com``), then the rules without a host;
- within it, the longest matching path wins and ``Exact`` beats ``Prefix`` at the same length;
  ``Prefix`` matches whole path elements (``/foo`` matches ``/foo`` and ``/foo/bar``, not
  ``/foobar``); ``ImplementationSpecific`` is treated as ``Prefix``;
- no path matches: the Ingress's ``defaultBackend`` (that host's Ingress first, then the oldest
  Ingress that has one); nothing at all: 404 saying so. Several Ingresses naming one host and path:
  the oldest wins, as in ingress-nginx;
- the backend is a Service of the Ingress's own namespace, by port number or name; one of its ready
  endpoints takes the request (503 when it has none, saying so).

The path is normalised before matching (``%2e%2e``, ``..`` and ``.`` resolved, as nginx does), and the
endpoint gets the normalised path: a route to ``/api`` cannot be used to reach ``/admin``. A path that
climbs above ``/`` is a 400. ``X-Forwarded-For``/``-Host``/``-Proto``/``-Port`` and ``X-Real-IP`` are
set (any a client sent are replaced); ``Host`` is kept.

TLS: a second loopback port speaks HTTPS. For a host listed in an Ingress's ``spec.tls``, the
certificate is that entry's Secret (``kubernetes.io/tls``: ``tls.crt``/``tls.key``), chosen by SNI;
any other host, or a Secret that is missing or not a certificate, gets the sandbox's default one
(its API server certificate, for 127.0.0.1 and localhost), as ingress-nginx serves its fake
default certificate. A plain-HTTP request for a TLS host is redirected there (308), as
ingress-nginx's ``ssl-redirect`` does.

What is simulated: a real cluster runs ingress-nginx as pods behind a LoadBalancer Service on ports
80 and 443; here the sandbox service itself listens, on two loopback ports chosen once.
"""

from __future__ import annotations

import base64
import logging
import os
import posixpath
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from ..objects import Objects
from . import network
from .forward import end_to_end, forward

log = logging.getLogger("lab_helpers.sandbox.kubelet")

Obj = dict[str, Any]
PORT_KEY = "listener_port:ingress"  # the store's record of the port, as the sandbox's other listeners keep theirs
TLS_PORT_KEY = "listener_port:ingress-tls"
MAX_HOST = 255  # a host name is at most 253 characters, with a port a few more
SERVER = "sandbox-ingress"
PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Backend:
    """A Service port of the Ingress's namespace (``port`` a number or a name)."""

    namespace: str
    service: str
    port: int | str
    ingress: str  # namespace/name of the Ingress that gave this route, for messages


@dataclass(frozen=True)
class PathRule:
    path: str
    exact: bool
    backend: Backend

    def matches(self, path: str) -> bool:
        if self.exact:
            return path == self.path
        base = self.path.rstrip("/")
        return not base or path == base or path.startswith(base + "/")

    def rank(self) -> tuple[int, int]:
        return (len(self.path.rstrip("/") if not self.exact else self.path), 1 if self.exact else 0)


@dataclass
class Server:
    """Every path of one host, across Ingresses (the oldest Ingress's rule first)."""

    host: str
    paths: list[PathRule] = field(default_factory=list)
    default: Backend | None = None

    def pick(self, path: str) -> PathRule | None:
        best: PathRule | None = None
        for rule in self.paths:
            if rule.matches(path) and (best is None or rule.rank() > best.rank()):
                best = rule
        return best


@dataclass
class Routes:
    exact: dict[str, Server] = field(default_factory=dict)
    wildcard: dict[str, Server] = field(default_factory=dict)  # "foo.com" for "*.foo.com"
    any_host: Server = field(default_factory=lambda: Server(""))
    default: Backend | None = None
    ingresses: int = 0
    tls_hosts: set[str] = field(default_factory=set)  # hosts (and "*.foo" patterns) of spec.tls entries
    certificates: dict[str, ssl.SSLContext] = field(default_factory=dict)  # host or "*.foo" -> its context

    def tls_for(self, host: str, table: Iterable[str] | None = None) -> str | None:
        """The entry of ``table`` (the TLS hosts by default) that names ``host``: itself or its wildcard."""
        names = self.tls_hosts if table is None else table
        if host in names:
            return host
        _, dot, parent = host.partition(".")
        return f"*.{parent}" if dot and f"*.{parent}" in names else None

    def server(self, host: str) -> Server:
        if host in self.exact:
            return self.exact[host]
        _, dot, parent = host.partition(".")
        if dot and parent in self.wildcard:
            return self.wildcard[parent]
        return self.any_host

    def route(self, host: str, path: str) -> tuple[Backend | None, str]:
        """The backend for ``host`` and (normalised) ``path``, and which rule chose it."""
        server = self.server(host)
        rule = server.pick(path)
        if rule is not None:
            kind = "Exact" if rule.exact else "Prefix"
            return rule.backend, f"{kind} {rule.path} of host {server.host or '*'}"
        if server.default is not None:
            return server.default, f"the defaultBackend of {server.default.ingress}"
        if self.default is not None:
            return self.default, f"the defaultBackend of {self.default.ingress}"
        return None, ""


def _backend(namespace: str, ingress: str, raw: Any) -> Backend | None:
    service = (raw or {}).get("service") if isinstance(raw, dict) else None
    if not isinstance(service, dict) or not service.get("name"):
        return None  # a resource backend: nothing the sandbox can send HTTP to
    port = service.get("port") or {}
    number = port.get("number") if isinstance(port, dict) else None
    name = port.get("name") if isinstance(port, dict) else None
    return Backend(namespace, str(service["name"]), int(number) if number else str(name or ""), ingress)


def build(ingresses: Iterable[Obj]) -> Routes:
    """The routing table of the given Ingresses (those of the sandbox's class), oldest first."""
    routes = Routes()
    ordered = sorted(
        ingresses, key=lambda i: (i["metadata"].get("creationTimestamp", ""), i["metadata"].get("namespace", ""))
    )
    for ing in ordered:
        meta, spec = ing["metadata"], ing.get("spec") or {}
        ns, ref = meta.get("namespace", ""), f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        routes.ingresses += 1
        for entry in spec.get("tls") or []:
            routes.tls_hosts |= {str(h).lower() for h in entry.get("hosts") or [] if h}
        default = _backend(ns, ref, spec.get("defaultBackend"))
        if default is not None and routes.default is None:
            routes.default = default
        for rule in spec.get("rules") or []:
            host = str(rule.get("host") or "").lower()
            if host.startswith("*."):
                server = routes.wildcard.setdefault(host[2:], Server(host))
            elif host:
                server = routes.exact.setdefault(host, Server(host))
            else:
                server = routes.any_host
            if default is not None and server.default is None and host:
                server.default = default
            taken = {(r.path, r.exact) for r in server.paths}
            for p in (rule.get("http") or {}).get("paths") or []:
                backend = _backend(ns, ref, p.get("backend"))
                path = str(p.get("path") or "/")
                exact = p.get("pathType") == "Exact"
                if backend is None or (path, exact) in taken:
                    continue  # the older Ingress keeps a host and path both name
                taken.add((path, exact))
                server.paths.append(PathRule(path, exact, backend))
    return routes


def normalise_path(raw: bytes) -> str | None:
    """The request path as nginx matches it: percent-decoded, ``.``/``..`` resolved, slashes merged;
    None when it climbs above ``/`` (or is not a path)."""
    if not raw.startswith(b"/"):
        return None
    text = unquote_to_bytes(raw).decode("utf-8", "replace")
    depth = 0
    for part in text.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return None
        elif part not in ("", "."):
            depth += 1
    clean = posixpath.normpath(text)
    clean = "/" + clean.lstrip("/")
    if text.endswith("/") and clean != "/":
        clean += "/"
    return clean


def split_host(value: str) -> str | None:
    """The host part of a Host header, lower case; None when it cannot be a host."""
    if len(value) > MAX_HOST:
        return None
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8080
        end = value.find("]")
        return value[1:end] if end > 0 else None
    host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
    return host.rstrip(".")


def _text(status: int, message: str) -> Response:
    return Response(
        message + "\n",
        status=f"{status} {HTTPStatus(status).phrase}",
        content_type="text/plain; charset=utf-8",
        headers={"Server": SERVER, "Date": http_date()},
    )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class IngressProxy:
    """The listener and its routing table (replaced whole by the Ingress controller)."""

    def __init__(self, objects: Objects, stopping: threading.Event) -> None:
        self.objects = objects
        self.routes = Routes()
        self.port = 0
        self.tls_port = 0
        self._servers: list[Any] = []
        self._stopping = stopping

    def start(self) -> int:
        """Bind both ports (the ones the store remembers, when free) and serve; returns the HTTP port."""
        if self._servers:
            return self.port
        from ...pki import ensure_pki

        tls = ensure_pki(self.objects.store.root).server_context()
        tls.sni_callback = self._sni
        plain = self._bind(PORT_KEY, None)
        secure = self._bind(TLS_PORT_KEY, tls)
        self.port, self.tls_port = (int(s.socket.getsockname()[1]) for s in (plain, secure))
        self._servers = [plain, secure]
        for srv in self._servers:
            threading.Thread(target=srv.serve_forever, name="ingress-proxy", daemon=True).start()
        threading.Thread(target=self._stop_when_stopping, name="ingress-proxy-stop", daemon=True).start()
        log.info("ingress proxy: listening on 127.0.0.1:%d (HTTP) and :%d (HTTPS)", self.port, self.tls_port)
        return self.port

    def _bind(self, key: str, tls: ssl.SSLContext | None) -> Any:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *a: Any, **k: Any) -> None:
                pass

            def send_response(self, code: int, message: str | None = None) -> None:
                self.send_response_only(code, message)  # the endpoint's Server and Date, not the proxy's

        store = self.objects.store
        last = int(store.meta(key) or 0)
        try:
            srv = make_server("127.0.0.1", last, self.app, threaded=True, request_handler=Quiet, ssl_context=tls)
        except (OSError, SystemExit):  # werkzeug exits when the port is taken: take a free one instead
            srv = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=Quiet, ssl_context=tls)
        port = int(srv.socket.getsockname()[1])
        if port != last:
            with store.tx():
                store.set_meta(key, str(port))
        return srv

    def _sni(self, conn: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        """The certificate of the TLS entry naming the host the client asked for, if it has one."""
        certs = self.routes.certificates
        found = self.routes.tls_for(name.lower(), certs) if name else None
        if found is not None:
            conn.context = certs[found]

    def _stop_when_stopping(self) -> None:
        self._stopping.wait()
        self.close()

    def close(self) -> None:
        servers, self._servers = self._servers, []
        for srv in servers:
            srv.shutdown()
            srv.server_close()

    def update(self, routes: Routes) -> None:
        self.routes = routes

    # -- serving ----------------------------------------------------------------------------------
    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception:  # noqa: BLE001 - a bug answers this request only
            log.exception("ingress proxy: %s %s", request.method, request.path)
            response = _text(500, "500 Internal Server Error: the sandbox's ingress proxy failed (see the sandbox log)")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        wsgi_env = request.environ
        raw_uri = str(wsgi_env.get("RAW_URI") or wsgi_env.get("REQUEST_URI") or "/")
        raw_path, _, query = raw_uri.partition("?")
        if raw_path.startswith(("http://", "https://")):  # an absolute-form request line
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        path = normalise_path(raw_path.encode("latin-1", "replace"))
        if path is None:
            return _text(400, "400 Bad Request: the path climbs above / (the ingress proxy resolves .. as nginx does)")
        host_header = request.headers.get("Host", "")
        host = split_host(host_header)
        if host is None:
            return _text(400, f"400 Bad Request: the Host header is not a host name ({len(host_header)} characters)")
        routes = self.routes
        secure = wsgi_env.get("wsgi.url_scheme") == "https"
        if not secure and routes.tls_for(host) is not None:
            where = f"https://{host}:{self.tls_port}{quote(path, safe=PATH_SAFE)}" + ("?" + query if query else "")
            redirect = _text(308, f"308 Permanent Redirect: {host} is served over HTTPS, at {where}")
            redirect.headers["Location"] = where
            return redirect
        backend, why = routes.route(host, path)
        if backend is None:
            return _text(
                404,
                f'404 Not Found: no Ingress rule of the sandbox\'s ingress class matches host "{_short(host)}" and '
                f'path "{_short(path)}" ({routes.ingresses} Ingresses routed; kubectl get ingress -A lists them)',
            )
        target, problem = self._endpoint(backend)
        if target is None:
            return _text(503, f"503 Service Temporarily Unavailable: {problem} (routed by {why} in {backend.ingress})")
        forwarded = quote(path, safe=PATH_SAFE) + ("?" + query if query else "")
        headers = end_to_end(
            request.headers,
            drop=("x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip"),
        )
        client = str(wsgi_env.get("REMOTE_ADDR") or "127.0.0.1")
        headers += [
            ("X-Real-IP", client),
            ("X-Forwarded-For", client),
            ("X-Forwarded-Host", host_header),
            ("X-Forwarded-Port", str(self.tls_port if secure else self.port)),
            ("X-Forwarded-Proto", "https" if secure else "http"),
        ]
        try:
            return forward(request, target, forwarded, headers)
        except OSError as exc:
            return _text(502, f"502 Bad Gateway: endpoint {target[0]}:{target[1]} of {backend.service} failed: {exc}")

    def _endpoint(self, backend: Backend) -> tuple[tuple[str, int] | None, str]:
        svc = self.objects.get(network.SERVICES, backend.namespace, backend.service)
        where = f"{backend.namespace}/{backend.service}"
        if svc is None:
            return None, f'service "{where}" not found (an Ingress routes only to Services of its own namespace)'
        svc_port = next(
            (
                dict(p)
                for p in (svc.get("spec") or {}).get("ports") or []
                if (isinstance(backend.port, int) and p.get("port") == backend.port)
                or (isinstance(backend.port, str) and p.get("name") == backend.port)
            ),
            None,
        )
        if svc_port is None:
            return None, f'service "{where}" has no port {backend.port}'
        target = network.pick(self.objects, backend.namespace, backend.service, svc_port)
        if target is None:
            return None, f'service "{where}" has no ready endpoints'
        return target, ""


def tls_context(cert_pem: bytes, key_pem: bytes, folder: Path) -> ssl.SSLContext:
    """A server context holding one certificate and key (read through a private file that is removed
    at once: ``ssl`` loads certificates from files only). Raises ``ssl.SSLError``/``ValueError`` for a
    pair that is not one."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    fd, name = tempfile.mkstemp(dir=folder, suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem.rstrip(b"\n") + b"\n" + cert_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(name)
        return ctx
    finally:
        os.unlink(name)


def certificates(
    ingresses: Iterable[Obj], secret: Callable[[str, str], Obj | None], folder: Path
) -> tuple[dict[str, ssl.SSLContext], dict[str, str]]:
    """The context of each TLS host (oldest Ingress first) from its entry's Secret, and for each
    Ingress (``namespace/name``) what is wrong with a Secret it names, if anything."""
    contexts: dict[str, ssl.SSLContext] = {}
    problems: dict[str, str] = {}
    loaded: dict[tuple[str, str, str], ssl.SSLContext | str] = {}
    ordered = sorted(ingresses, key=lambda i: i["metadata"].get("creationTimestamp", ""))
    for ing in ordered:
        meta = ing["metadata"]
        ns, ref = meta.get("namespace", ""), f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        for entry in (ing.get("spec") or {}).get("tls") or []:
            name = str(entry.get("secretName") or "")
            hosts = [str(h).lower() for h in entry.get("hosts") or [] if h]
            if not name or not hosts:
                continue
            obj = secret(ns, name)
            key = (ns, name, str((obj or {}).get("metadata", {}).get("resourceVersion", "")))
            if key not in loaded:
                loaded[key] = _load(obj, f"{ns}/{name}", folder)
            got = loaded[key]
            if isinstance(got, str):
                problems.setdefault(ref, got)
                continue
            for host in hosts:
                contexts.setdefault(host, got)
    return contexts, problems


def _load(obj: Obj | None, where: str, folder: Path) -> ssl.SSLContext | str:
    if obj is None:
        return f'secret "{where}" not found'
    data = obj.get("data") or {}
    try:
        cert, key = (base64.b64decode(data.get(k) or "") for k in ("tls.crt", "tls.key"))
    except (ValueError, TypeError):
        return f'secret "{where}" holds no base64 tls.crt and tls.key'
    if not cert or not key:
        return f'secret "{where}" has no tls.crt and tls.key'
    try:
        return tls_context(cert, key, folder)
    except (ssl.SSLError, ValueError, OSError) as exc:
        return f'secret "{where}" is not a certificate and its key ({exc.__class__.__name__})'
