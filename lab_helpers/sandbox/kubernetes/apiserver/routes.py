"""The Kubernetes API service: where it is mounted and the conventions it answers in."""

from __future__ import annotations

from typing import Any

from ...api import Ctx, ErrorStyle, Routes, Service, reply
from ..resources import GIT_VERSION, MAJOR, MINOR
from ..status import status_error

routes = Routes()


@routes("/version", "GET", public=True)
def version(ctx: Ctx) -> Any:
    return reply(
        {
            "major": MAJOR,
            "minor": MINOR,
            "emulationMajor": MAJOR,
            "emulationMinor": MINOR,
            "minCompatibilityMajor": MAJOR,
            "minCompatibilityMinor": str(int(MINOR) - 1),
            "gitVersion": GIT_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.25.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    )


def _error(code: int, message: str, kind: str) -> Any:
    return status_error(code, message)


SERVICE = Service(
    "kubernetes", "/kubernetes", (routes,), ErrorStyle(_error), body_limit=lambda request: 3 * 1024 * 1024
)
