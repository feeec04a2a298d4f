"""`lab bench cluster`: latency of the real kubectl, helm and Python client against a temporary sandbox cluster."""

from __future__ import annotations

import argparse

from ..cli import group


def _bench(args: argparse.Namespace) -> int:
    import json

    from ..bench.cluster import run, table

    rows = run(n=args.n, objects=args.objects)
    if args.json:
        print(json.dumps({"results": [r.as_dict() for r in rows]}, indent=2))
    else:
        print(table(rows))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    sub = group(commands, "bench", "Benchmarks that print numbers.")
    text = (
        "Latency of the sandbox's Kubernetes API through kubectl, helm and the kubernetes client "
        "(a temporary sandbox and cluster; yours are untouched)."
    )
    p = sub.add_parser("cluster", help=text, description=text)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument(
        "-n",
        type=int,
        default=20,
        help="repetitions per call (default 20; apply-to-Ready n/2 of them, at most 5; helm install n/5, at most 3)",
    )
    p.add_argument(
        "--objects",
        type=int,
        nargs="+",
        default=[100, 1000],
        metavar="N",
        help="ConfigMaps in the namespace while measuring, one pass each (default 100 1000)",
    )
    p.set_defaults(func=_bench)
