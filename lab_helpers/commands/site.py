"""`lab site --out DIR [--executed DIR] [--labs 00,01]`: the course as a static website."""

from __future__ import annotations

import argparse
from pathlib import Path


def _labs(spec: str | None):
    from ..catalog import all_labs, find_lab

    if not spec:
        return all_labs()
    return [find_lab(key) for key in spec.split(",") if key.strip()]


def _site(args: argparse.Namespace) -> int:
    from ..site import build_site

    labs = _labs(args.labs)
    executed = Path(args.executed) if args.executed else None
    if executed is not None and not executed.is_dir():
        from ..errors import UsageError

        raise UsageError(f"--executed {args.executed}: no such folder.", hint="Give the folder `lab run --out` wrote.")
    result = build_site(Path(args.out), labs, executed=executed)
    for line in result.lines():
        print(line)
    if result.warnings:
        print(f"Sphinx warned {len(result.warnings)} times; the first: {result.warnings[0]}")
    print(f"open it: file://{result.index.resolve()}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "site",
        help="build the course as a static website (offline, opens from file://).",
        description=(
            "The whole course as a static website: one page per lab with its executed sandbox outputs "
            "(interactive figures), objectives, timing and how to run it; an index; search. "
            "Built with Sphinx and MyST-NB; nothing is fetched when it is built or viewed."
        ),
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the site (replaced)")
    parser.add_argument(
        "--executed",
        metavar="DIR",
        help="executed notebooks (as `lab run --out DIR` writes them): build from them instead of running the labs",
    )
    parser.add_argument("--labs", metavar="NN,NN", help="only these labs, e.g. 00,01 (default: all)")
    parser.set_defaults(func=_site)
