"""`lab sandbox start | stop | status | reset | env`: the local Jetstream2."""

from __future__ import annotations

import argparse

from ..config import SANDBOX


def _start(args: argparse.Namespace) -> int:
    from ..sandbox import start

    print(start())
    return 0


def _stop(args: argparse.Namespace) -> int:
    from ..sandbox import stop

    print("sandbox cloud: stopped (its state is kept)" if stop() else "sandbox cloud: was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ..sandbox import status

    current = status()
    print(current)
    if current.running:
        print(f"clouds.yaml: {current.clouds_yaml} (clouds: sandbox, sandbox-admin)")
        print(f"log: {current.log_file}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from ..sandbox import reset

    current = reset()
    print(
        "sandbox cloud: reset (no servers, volumes, floating IPs or containers; default network, router and security group back)"
    )
    print(current)
    return 0


def _env(args: argparse.Namespace) -> int:
    from ..sandbox import env_lines

    print("\n".join(env_lines()))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        SANDBOX,
        help="The local sandbox cloud (a Jetstream2 on 127.0.0.1).",
        description="The local sandbox cloud that the real openstacksdk and `openstack` CLI talk to.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    sub.required = True
    for name, func, text in (
        ("start", _start, "Start the sandbox cloud (labs start it on their own when they connect)."),
        ("stop", _stop, "Stop it; its servers, volumes and objects are kept for next time."),
        ("status", _status, "Say whether it runs, where, and where its clouds.yaml and log are."),
        ("reset", _reset, "Start over: an empty project with only the default network, router and security group."),
        (
            "env",
            _env,
            "Print the shell lines for the `openstack` CLI, boto3, the AWS CLI, kubectl and helm (the course's "
            'first on PATH): eval "$(lab sandbox env)".',
        ),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(func=func)
