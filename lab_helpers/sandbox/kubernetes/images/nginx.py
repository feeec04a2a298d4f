"""The sandbox registry's stand-in for nginx: serves static files as nginx's default server does.

It reads the ``listen`` and ``root`` directives of the first server in ``/etc/nginx/conf.d/*.conf``
(so a ConfigMap mounted there can move the port or the document root), serves
``/usr/share/nginx/html`` by default with ``index.html`` for a folder, nginx's own error pages
and ``Server`` header, and writes nginx's access log lines to stdout and its notices to stderr,
as the real image does (``kubectl logs`` shows them). SIGTERM and SIGQUIT stop it.
Standard library only: it runs in the container, under ``boot.py``.
"""

from __future__ import annotations

import glob
import mimetypes
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION = os.environ.get("NGINX_VERSION", "1.29.3")
ERRORS = {403: "Forbidden", 404: "Not Found", 405: "Not Allowed", 500: "Internal Server Error"}


def host_path(path: str) -> str:
    boot: Any = sys.modules.get("sandbox_boot")
    return boot.host_path(path) if boot is not None else path


def now_local() -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S")


def notice(message: str) -> None:
    sys.stderr.write(f"{now_local()} [notice] 1#1: {message}\n")
    sys.stderr.flush()


def read_config() -> tuple[int, str, list[str]]:
    """(port, document root, index files) of the first server block found."""
    port, root, index = 80, "/usr/share/nginx/html", ["index.html", "index.htm"]
    for path in sorted(glob.glob(host_path("/etc/nginx/conf.d") + "/*.conf")):
        try:
            text = open(path, encoding="utf-8").read()
        except OSError:
            continue
        text = re.sub(r"#.*", "", text)
        listen = re.search(r"\blisten\s+(?:[\d.]+:)?(\d+)[^;]*;", text)
        if listen:
            port = int(listen.group(1))
        found = re.search(r"\broot\s+([^;\s]+)\s*;", text)
        if found:
            root = found.group(1)
        found = re.search(r"\bindex\s+([^;]+);", text)
        if found:
            index = found.group(1).split()
        break
    return port, root, index


def error_page(code: int) -> bytes:
    title = f"{code} {ERRORS.get(code, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        f"<hr><center>nginx/{VERSION}</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    server_version = f"nginx/{VERSION}"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: without this a kept-alive
    # connection waits ~40 ms for the client's delayed ACK on every response, as real nginx does not
    root = "/usr/share/nginx/html"
    index: list[str] = ["index.html"]

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # the access log is written in send_body
        pass

    def access_log(self, code: int, size: int) -> None:
        when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        request = self.requestline.replace('"', '\\"')
        line = (
            f'{self.client_address[0]} - - [{when}] "{request}" {code} {size} '
            f'"{self.headers.get("Referer", "-")}" "{self.headers.get("User-Agent", "-")}" '
            f'"{self.headers.get("X-Forwarded-For", "-")}"\n'
        )
        sys.stdout.write(line)
        sys.stdout.flush()

    def send_body(self, code: int, body: bytes, ctype: str = "text/html", extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.access_log(code, len(body) if self.command != "HEAD" else 0)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        from urllib.parse import unquote

        path = unquote(path)
        if ".." in path.split("/"):
            self.send_body(403, error_page(403))
            return
        local = host_path(os.path.join(self.root, path.lstrip("/")))
        if os.path.isdir(local):
            if not path.endswith("/"):
                host = self.headers.get("Host", "localhost")
                self.send_body(301, error_page(301), extra={"Location": f"http://{host}{path}/"})
                return
            for name in self.index:
                if os.path.isfile(os.path.join(local, name)):
                    local = os.path.join(local, name)
                    break
            else:
                self.send_body(403, error_page(403))
                return
        try:
            with open(local, "rb") as fh:
                body = fh.read()
        except FileNotFoundError:
            self.send_body(404, error_page(404))
            return
        except (PermissionError, IsADirectoryError):
            self.send_body(403, error_page(403))
            return
        ctype = mimetypes.guess_type(local)[0] or "application/octet-stream"
        modified = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(os.path.getmtime(local)))
        self.send_body(200, body, ctype, {"Last-Modified": modified, "Accept-Ranges": "bytes"})

    do_HEAD = do_GET

    def do_POST(self) -> None:
        self.send_body(405, error_page(405))

    do_PUT = do_DELETE = do_PATCH = do_POST


def main(argv: list[str]) -> int:
    if "-v" in argv or "-V" in argv:
        sys.stderr.write(f"nginx version: nginx/{VERSION}\n")
        return 0
    port, root, index = read_config()
    if "-t" in argv:
        sys.stderr.write("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n")
        sys.stderr.write("nginx: configuration file /etc/nginx/nginx.conf test is successful\n")
        return 0
    Handler.root, Handler.index = root, index
    try:
        server = ThreadingHTTPServer(("", port), Handler)
    except OSError as exc:
        sys.stderr.write(f"{now_local()} [emerg] 1#1: bind() to 0.0.0.0:{port} failed ({exc.errno}: {exc.strerror})\n")
        sys.stderr.write(f"nginx: [emerg] bind() to 0.0.0.0:{port} failed ({exc.errno}: {exc.strerror})\n")
        return 1
    server.daemon_threads = True
    notice('using the "epoll" event method')
    notice(f"nginx/{VERSION}")
    notice(f"OS: {os.uname().sysname} {os.uname().release}")
    notice("start worker processes")

    def stop(signum: int, frame: Any) -> None:
        kind = "SIGQUIT" if signum == signal.SIGQUIT else "SIGTERM"
        notice(f"signal {signum} ({kind}) received, exiting")
        threading.Thread(target=server.shutdown, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
        signal.signal(sig, stop)
    server.serve_forever(poll_interval=0.2)
    notice("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
