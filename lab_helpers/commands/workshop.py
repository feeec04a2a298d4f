"""`lab workshop`: the instructor's live view of the room; `lab bench workshop`: its throughput."""

from __future__ import annotations

import argparse

from ..cli import group

DEFAULT_PORT = 8765
DEFAULT_HUB_GROUP = "instructors"  # the same as workshop.hub.DEFAULT_GROUP, without importing the server here
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _folder(raw: str | None):
    from pathlib import Path

    from ..config import state_dir

    return Path(raw).expanduser() if raw else state_dir() / "workshop-view"


def _listen(host: str, port: int):
    import socket

    from ..errors import UsageError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # connections inherit it: no 40 ms Nagle stalls
    try:
        sock.bind((host, port))
        sock.listen(2048)  # from here on a browser's request waits in the queue instead of being refused
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}).",
            hint="Pick another port with --port N, or stop what is using it.",
        ) from None
    return sock


def _run(app, sock) -> int:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, backlog=2048)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


def _hub_config(args: argparse.Namespace) -> int:
    import shutil

    from ..workshop.hub import hub_config

    lab = shutil.which("lab") or "lab"
    command = [lab, "workshop", "--state", str(_folder(args.state).resolve()), "--hub-group", args.hub_group]
    print(hub_config(command, args.port, group=args.hub_group), end="")
    return 0


def _serve_hub(args: argparse.Namespace) -> int:
    from ..workshop.hub import create_hub_app, service_env

    env = service_env()  # a one-line error naming what is missing when the Hub did not start us
    folder = _folder(args.state)
    host, port = env.address
    sock = _listen(host, port)
    app = create_hub_app(folder, env, group=args.hub_group)
    ws = app.workshop  # type: ignore[attr-defined]
    if args.rotate_join_token:
        ws.tokens.rotate_join()
    where = env.public_url.rstrip("/") or f"<hub>{env.prefix.rstrip('/')}"
    print(f"Workshop view as the Hub service {env.name!r} on {host}:{port}, under {env.prefix}  (state: {folder})")
    print(f"  instructors: Hub admins and the group {args.hub_group!r} open {where}/ and sign in with the Hub")
    print(f"  learners:    lab start --workshop {where} --workshop-token JOIN_TOKEN  (the token is on the page)")
    print("  (the Hub restarts it if it stops)", flush=True)
    return _run(app, sock)


def _serve(args: argparse.Namespace) -> int:
    import os
    import socket
    import sys

    from ..workshop.hub import in_service_env
    from ..workshop.server import create_app

    if args.hub_config:
        return _hub_config(args)
    if args.hub or in_service_env(os.environ):
        return _serve_hub(args)
    folder = _folder(args.state)
    sock = _listen(args.host, args.port)
    app = create_app(folder)
    ws = app.state.workshop
    if args.rotate_join_token:
        ws.tokens.rotate_join()
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if args.host in LOOPBACK else args.host
    room_host = socket.gethostname() if args.host in ("0.0.0.0", "::") else shown
    if args.host not in LOOPBACK:
        print(
            f"warning: the workshop listens on {args.host}:{port}, open to every machine that can reach this one. "
            "Learners need the join token and the dashboard the instructor token, but traffic is plain HTTP: "
            "use it on the room's own network or behind HTTPS.",
            file=sys.stderr,
        )
    print(f"Workshop view of the room: http://{shown}:{port}/  (state: {folder})")
    print(f"  instructor: open http://{shown}:{port}/?token={ws.tokens.instructor}  (instructor token)")
    print(f"  learners:   lab start --workshop http://{room_host}:{port} --workshop-token {ws.tokens.join}")
    print("  (rotate the join token from the page, or restart with --rotate-join-token; Ctrl+C stops)", flush=True)
    return _run(app, sock)


def _bench(args: argparse.Namespace) -> int:
    import json

    from ..bench.workshop import run

    reports = run(
        learners=args.learners,
        seconds=args.seconds,
        viewers=args.viewers,
        refresh_every_s=args.refresh_s,
        pace_s=args.pace_s,
    )
    if args.json:
        print(json.dumps({"capacity": reports[0].as_dict(), "paced": reports[1].as_dict()}, indent=2))
    else:
        print("\n\n".join(r.text() for r in reports))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    text = (
        "Serve the instructor's live view of a workshop: each learner's checks (passed, failing, how often, "
        "not started), a figure per check, and resources still running with their SU/hour."
    )
    p = commands.add_parser(
        "workshop", help="The instructor's live view of the room's check results.", description=text
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 opens it to the room)"
    )
    p.add_argument("--state", metavar="DIR", help="the workshop's folder (default: workshop-view in LAB_STATE_DIR)")
    p.add_argument("--rotate-join-token", action="store_true", help="issue a new join token before serving")
    p.add_argument(
        "--hub",
        action="store_true",
        help="serve as a JupyterHub service (automatic when the Hub starts it): the address comes from "
        "JUPYTERHUB_SERVICE_URL and instructors sign in with their Hub account",
    )
    p.add_argument(
        "--hub-group",
        default=DEFAULT_HUB_GROUP,
        help=f"hub mode: the Hub group whose members see the dashboard besides Hub admins (default {DEFAULT_HUB_GROUP})",
    )
    p.add_argument(
        "--hub-config",
        action="store_true",
        help="print the lines for jupyterhub_config.py that run this as a managed service on --port, and exit",
    )
    p.set_defaults(func=_serve)

    sub = group(commands, "bench", "Benchmarks that print numbers.")
    text = "Results accepted per second and dashboard refresh latency with simulated learners (a temporary workshop)."
    p = sub.add_parser("workshop", help=text, description=text)
    p.add_argument("--learners", type=int, default=200, help="simulated learners sending results (default 200)")
    p.add_argument("--seconds", type=float, default=10.0, help="how long each of the two phases lasts (default 10)")
    p.add_argument("--viewers", type=int, default=2, help="dashboards refreshing at the same time (default 2)")
    p.add_argument("--refresh-s", type=float, default=0.5, help="seconds between one viewer's refreshes (default 0.5)")
    p.add_argument(
        "--pace-s", type=float, default=1.0, help="second phase: seconds between one learner's results (default 1)"
    )
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=_bench)
