"""`lab ci runs | logs | subset`: the workflow runs of the course's runner (like GitHub Actions)."""

from __future__ import annotations

import argparse


def _runs(args: argparse.Namespace) -> int:
    from ..deploy.ci import runs_table

    print(runs_table(args.owner, args.repo, limit=args.limit))
    return 0


def _logs(args: argparse.Namespace) -> int:
    from ..deploy.ci import logs, run

    print(run(args.run))
    print(logs(args.run))
    return 0


def _subset(args: argparse.Namespace) -> int:
    from ..deploy.ci import SUBSET

    print(SUBSET)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ci",
        help="Workflow runs started by pushes to the sandbox's forge (like GitHub Actions).",
        description="The course's workflow runner runs .github/workflows/*.yaml of each push to the sandbox's forge.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("runs", help="List the newest runs.", description="List the newest workflow runs.")
    p.add_argument("--repo", help="OWNER/NAME or NAME (the learner's); default: every repository")
    p.add_argument("--owner", help="only this owner's repositories")
    p.add_argument("--limit", type=int, default=20, help="at most this many runs (default 20)")
    p.set_defaults(func=_runs)
    p = sub.add_parser("logs", help="Print a run and its logs.", description="Print a run and its jobs' logs.")
    p.add_argument("run", type=int, metavar="RUN", help="the run's id (lab ci runs lists them)")
    p.set_defaults(func=_logs)
    p = sub.add_parser("subset", help="What the runner supports.", description="Print the workflow subset.")
    p.set_defaults(func=_subset)
