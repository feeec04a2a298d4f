"""`lab bench gpu`: the lab 01 suite from a terminal, on the GPU or (without one) on the CPU."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    from ..cli import group

    sub = group(commands, "bench", "Benchmarks that print numbers.")
    p = sub.add_parser(
        "gpu",
        help="Measure bandwidth, GEMM, copies and launch overhead (the GPU with CuPy, else the CPU with NumPy).",
        description="Runs lab 01's benchmark suite. Without a usable GPU it measures the CPU with NumPy and says so.",
    )
    p.add_argument("--json", action="store_true", help='print only JSON: {"device": ..., "results": [...]}')
    p.add_argument(
        "--elements",
        type=int,
        default=None,
        help="elements per array for the headline records (default: far beyond the last-level cache)",
    )
    p.add_argument("--quick", action="store_true", help="fewer repeats, smaller GEMMs, a short sweep (a few seconds)")
    p.add_argument("--no-sweep", action="store_true", help="skip the array-size sweep")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..gpu.bench import run_suite

    report = run_suite(n=args.elements, quick=args.quick, sweep=not args.no_sweep)
    print(report.to_json() if args.json else report.table())
    return 0
