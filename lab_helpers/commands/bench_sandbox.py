"""`lab bench sandbox`: latency of typical openstacksdk calls against a temporary sandbox."""

from __future__ import annotations

import argparse

from ..cli import group
from ..config import SANDBOX


def _bench(args: argparse.Namespace) -> int:
    import json

    from ..bench.sandbox import run, table

    rows = run(n=args.n, boot_s=args.boot_s, servers=args.servers, objects=args.objects)
    if args.json:
        print(json.dumps({"results": [r.as_dict() for r in rows]}, indent=2))
    else:
        print(table(rows))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    sub = group(commands, "bench", "Benchmarks that print numbers.")
    text = "Per-request latency of the sandbox cloud through openstacksdk (a temporary sandbox; yours is untouched)."
    p = sub.add_parser(SANDBOX, help=text, description=text)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("-n", type=int, default=30, help="repetitions per call (default 30)")
    p.add_argument("--boot-s", type=float, default=None, help="seconds in BUILD (default LAB_SANDBOX_BOOT_S, else 3)")
    p.add_argument("--servers", type=int, default=500, help="servers to list (default 500)")
    p.add_argument("--objects", type=int, default=2000, help="objects to list (default 2000)")
    p.set_defaults(func=_bench)
