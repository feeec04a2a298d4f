"""`lab doctor`: what this machine offers each backend."""

from __future__ import annotations


def _doctor(args) -> int:
    from ..doctor import doctor

    print(doctor(settings=True))
    return 0


def register(commands) -> None:
    p = commands.add_parser(
        "doctor",
        help="Show what this machine offers each backend (never a credential's value).",
        description="Show what this machine offers each backend, and how to fix what is missing.",
    )
    p.set_defaults(func=_doctor)
