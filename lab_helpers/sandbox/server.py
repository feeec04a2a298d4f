"""The sandbox cloud's process entry point.

``python -m lab_helpers.sandbox.server --state-dir DIR`` binds 127.0.0.1 on a free port, serves
every API family in ``FAMILIES`` through one dispatcher (``dispatch.py``), has each family write
its client configuration (OpenStack's ``clouds.yaml``), then writes the port file. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .api import Listener
from .dispatch import SandboxApp, log
from .forge.family import FORGE
from .kubernetes.family import KUBERNETES
from .openstack.family import OPENSTACK
from .pki import ensure_pki
from .store import now

# The API families the sandbox serves, each with its services.
FAMILIES = (OPENSTACK, KUBERNETES, FORGE)


def _listen(sandbox: SandboxApp, listener: Listener, handler: Any) -> tuple[Listener, Any]:
    """Bind one family's extra port (the same one as last time when free), serving its prefix."""
    from werkzeug.serving import make_server

    prefix = listener.prefix

    def app(wsgi_env: dict[str, Any], start_response: Any) -> Any:
        wsgi_env["PATH_INFO"] = prefix + wsgi_env.get("PATH_INFO", "")
        return sandbox(wsgi_env, start_response)

    ssl_context = ensure_pki(sandbox.state_dir).server_context() if listener.tls else None
    key = f"listener_port:{listener.name}"
    last = int(sandbox.store.meta(key) or 0)
    try:
        srv = make_server("127.0.0.1", last, app, threaded=True, request_handler=handler, ssl_context=ssl_context)
    except (OSError, SystemExit):  # werkzeug exits when the port is taken: take a free one instead
        srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler, ssl_context=ssl_context)
    with sandbox.store.tx():
        sandbox.store.set_meta(key, str(srv.socket.getsockname()[1]))
    return listener, srv


def main(argv: list[str] | None = None) -> int:
    from werkzeug.serving import WSGIRequestHandler, make_server

    parser = argparse.ArgumentParser(description="Run the sandbox cloud (normally started by `lab sandbox start`).")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--boot-s", type=float, default=3.0)
    args = parser.parse_args(argv)
    state = args.state_dir
    state.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=state / "sandbox.log", level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )

    class Quiet(WSGIRequestHandler):
        def log_request(self, *a: Any, **k: Any) -> None:
            pass

    holder: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    try:  # the same port as last time, so open connections and clouds.yaml stay valid across restarts
        server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=Quiet)
    except (OSError, SystemExit):  # werkzeug exits when the port is taken: take a free one instead
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    port = server.socket.getsockname()[1]
    holder["app"] = sandbox = SandboxApp(state, port, args.boot_s, FAMILIES)
    extra = [_listen(sandbox, lis, Quiet) for fam in FAMILIES for lis in fam.listeners]
    for lis, srv in extra:
        sandbox.urls[lis.name] = f"{'https' if lis.tls else 'http'}://127.0.0.1:{srv.socket.getsockname()[1]}"
        threading.Thread(target=srv.serve_forever, name=f"listener-{lis.name}", daemon=True).start()
    sandbox.announce()
    stopping = threading.Event()
    for fam in FAMILIES:
        if fam.start is not None:
            fam.start(sandbox.store, state, sandbox.urls, stopping)
    info = {
        "port": port,
        "pid": os.getpid(),
        "boot_s": args.boot_s,
        "started": now(),
        "urls": sandbox.urls,
    }
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
        stopping.set()
        for _, srv in extra:
            srv.shutdown()
            srv.server_close()
        server.server_close()
        log.info("sandbox cloud stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
