"""The sandbox cloud's WSGI app and its process entry point.

``python -m lab_helpers.sandbox.server --state-dir DIR`` binds 127.0.0.1 on a free port, writes
``clouds.yaml`` and the port file, and serves Keystone, Nova, Glance, Cinder, Swift and Neutron
from one werkzeug routing map. Loopback only; every request but version discovery needs a token.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import auth, compute, errors, image, network, object_store, volume
from .api import Ctx, reply
from .store import Store, now

# The largest request body the JSON APIs take (oslo.middleware's max_request_body_size, 112 KiB,
# in front of Keystone, Nova, Cinder, Glance and Neutron). Object data streams to Swift (and image
# data to Glance) without this limit, as in the real services; Swift's other requests (bulk delete,
# account and container metadata) get a generous one of their own.
MAX_JSON_BODY = 114688
MAX_SWIFT_BODY = 16 * 1024 * 1024
SERVICES = (auth.routes, compute.routes, image.routes, network.routes, volume.routes, object_store.routes)
MV_SERVICE = {"nova": ("compute", compute.MIN_VERSION, compute.MAX_VERSION)}
log = logging.getLogger("lab_helpers.sandbox")


def prepare(store: Store, state_dir: Path) -> None:
    """Identities once per sandbox; networks and images again after each reset."""
    auth.bootstrap(store)
    with store.tx():
        if store.meta("seeded") != "1":
            network.seed(store, store.meta("project_id"))
            image.seed(store)
            store.set_meta("seeded", "1")
        network.readdress_public(store)  # a sandbox seeded before its public network used a documentation range
        if not store.meta("created"):
            store.set_meta("created", "%.5f" % now())


def _parse_mv(header: str, service: str) -> str | None:
    for part in header.split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == service:
            return words[1]
    return None


class SandboxApp:
    def __init__(self, state_dir: Path, port: int, boot_s: float) -> None:
        self.state_dir = Path(state_dir)
        self.store = Store(self.state_dir)
        self.base = f"http://127.0.0.1:{port}"
        self.boot_s = boot_s
        rules = [Rule("/healthz", endpoint=("health", True, self.health), methods=["GET"])]
        for svc in SERVICES:
            for path, methods, public, func in svc.table:
                rules.append(Rule(path, endpoint=(svc.style, public, func), methods=list(methods)))
        self.map = Map(rules, strict_slashes=False, merge_slashes=False)
        prepare(self.store, self.state_dir)

    def health(self, ctx: Ctx) -> Response:
        return reply({"ok": True, "pid": os.getpid(), "state_dir": str(self.state_dir), "boot_s": self.boot_s})

    def _style_of(self, path: str) -> str:
        for svc in SERVICES:
            if path.startswith(svc.prefix + "/") or path == svc.prefix:
                return svc.style
        return "nova"

    def _microversion(self, ctx: Ctx, request: Request) -> dict[str, str]:
        if ctx.style == "nova" and request.path.startswith("/compute"):
            name, lo, hi = "compute", compute.MIN_VERSION, compute.MAX_VERSION
            raw = _parse_mv(request.headers.get("OpenStack-API-Version", ""), "compute") or request.headers.get("X-OpenStack-Nova-API-Version")
        elif request.path.startswith("/volume"):
            name, lo, hi = "volume", (3, 0), tuple(int(x) for x in volume.MAX_VERSION.split("."))
            raw = _parse_mv(request.headers.get("OpenStack-API-Version", ""), "volume")
        else:
            return {}
        if raw in (None, ""):
            ver = lo
        elif raw == "latest":
            ver = hi
        else:
            m = re.fullmatch(r"(\d+)\.(\d+)", raw.strip())
            if not m:
                raise ctx.bad(f"Invalid API version request string {raw}", 400)
            ver = (int(m[1]), int(m[2]))
            if not lo <= ver <= hi:
                raise errors.ApiError(errors.json_response({"computeFault": {"code": 406, "message": (
                    f"Version {raw} is not supported by the API. Minimum is {lo[0]}.{lo[1]} and maximum is {hi[0]}.{hi[1]}.")}}, 406))
        ctx.microversion = ver
        text = f"{ver[0]}.{ver[1]}"
        headers = {"OpenStack-API-Version": f"{name} {text}", "Vary": "OpenStack-API-Version"}
        if name == "compute":
            headers.update({"X-OpenStack-Nova-API-Version": text, "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"})
        return headers

    def body_limit(self, request: Request, style: str) -> int | None:
        """How many body bytes this request may carry (None: unlimited, it streams data)."""
        if style == "swift":
            parts = request.path.split("/")  # '', 'swift', 'v1', account, container, object...
            if request.method == "PUT" and len(parts) >= 6 and parts[5]:
                return None
            return MAX_SWIFT_BODY
        if style == "glance" and request.method == "PUT" and request.path.endswith("/file"):
            return None
        return MAX_JSON_BODY

    def _too_large(self, ctx: Ctx, request: Request) -> errors.ApiError | None:
        limit = self.body_limit(request, ctx.style)
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
        style = self._style_of(request.path)
        ctx = Ctx(request=request, store=self.store, base=self.base, state_dir=self.state_dir, boot_s=self.boot_s, style=style)
        extra: dict[str, str] = {}
        try:
            adapter = self.map.bind_to_environ(request.environ)
            (style, public, func), args = adapter.match()
            ctx.style = style if style != "health" else "nova"
            too_large = self._too_large(ctx, request)
            if too_large is not None:
                raise too_large
            if not public:
                ctx.token = auth.check_token(self.store, request.headers.get("X-Auth-Token", ""))
                if ctx.token is None:
                    raise errors.unauthorized(f"{self.base}/identity/v3")
            extra = self._microversion(ctx, request)
            response = func(ctx, **args)
        except errors.ApiError as exc:
            response = exc.response
        except NotFound:
            response = ctx.bad("The resource could not be found.", 404, "HTTPNotFound").response
        except MethodNotAllowed:
            response = ctx.bad("The method is not allowed for the requested URL.", 405, "HTTPMethodNotAllowed").response
        except HTTPException as exc:
            response = ctx.bad(exc.description or "Bad request", exc.code or 400).response
        except (AttributeError, TypeError, KeyError, ValueError) if request.method in ("POST", "PUT") else ():
            # A body of the wrong shape that a handler did not validate field by field: the client's error.
            log.warning("%s %s: malformed body\n%s", request.method, request.full_path, traceback.format_exc())
            response = ctx.bad("Invalid input for the request body: a field has the wrong type or is missing.", 400).response
        except Exception:  # a bug in the sandbox: answer like the service would, log the traceback
            log.error("%s %s\n%s", request.method, request.full_path, traceback.format_exc())
            response = ctx.bad("Unexpected API Error. Please report this at the course's issue tracker and attach the "
                               "sandbox log (lab sandbox status shows where it is).", 500, "HTTPInternalServerError").response
        rid = "req-" + str(uuid.uuid4())
        response.headers.setdefault("X-Openstack-Request-Id", rid)
        if ctx.style == "nova" and request.path.startswith("/compute"):
            response.headers.setdefault("X-Compute-Request-Id", rid)
        for k, v in extra.items():
            response.headers[k] = v
        return response

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)


def write_clouds_yaml(store: Store, state_dir: Path, base: str) -> Path:
    """The sandbox's clouds.yaml (mode 0600): `sandbox` for the learner, `sandbox-admin` for admin views."""
    import yaml

    auth_url = f"{base}/identity/v3"
    common = {"region_name": "IU", "interface": "public", "identity_api_version": 3}
    doc = {"clouds": {
        "sandbox": {"auth_type": "v3applicationcredential", "auth": {"auth_url": auth_url,
                    "application_credential_id": store.meta("app_cred_id"), "application_credential_secret": store.meta("app_cred_secret")}, **common},
        "sandbox-admin": {"auth_type": "v3password", "auth": {"auth_url": auth_url, "username": "admin", "password": store.meta("admin_password"),
                          "user_domain_name": "Default", "project_id": store.meta("project_id"), "project_domain_name": "Default"}, **common},
    }}
    path = state_dir / "clouds.yaml"
    tmp = state_dir / "clouds.yaml.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    from werkzeug.serving import WSGIRequestHandler, make_server

    parser = argparse.ArgumentParser(description="Run the sandbox cloud (normally started by `lab sandbox start`).")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--boot-s", type=float, default=3.0)
    args = parser.parse_args(argv)
    state = args.state_dir
    state.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=state / "sandbox.log", level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    class Quiet(WSGIRequestHandler):
        def log_request(self, *a: Any, **k: Any) -> None:
            pass

    holder: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    try:  # the same port as last time, so open connections and clouds.yaml stay valid across restarts
        server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=Quiet)
    except OSError:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    port = server.socket.getsockname()[1]
    holder["app"] = sandbox = SandboxApp(state, port, args.boot_s)
    write_clouds_yaml(sandbox.store, state, sandbox.base)
    info = {"port": port, "pid": os.getpid(), "boot_s": args.boot_s, "started": now()}
    tmp = state / "service.json.tmp"
    tmp.write_text(json.dumps(info))
    os.replace(tmp, state / "service.json")
    log.info("sandbox cloud listening on 127.0.0.1:%d (pid %d)", port, os.getpid())

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)

    def watch_state_dir() -> None:
        """Exit when the state directory is deleted (a test's temporary one): no orphan services."""
        while (state / "cloud.sqlite").exists():
            time.sleep(5)
        log.info("state directory gone; stopping")
        server.shutdown()

    threading.Thread(target=watch_state_dir, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        log.info("sandbox cloud stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
