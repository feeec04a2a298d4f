"""Errors sorted by who can fix them, each carrying what to do next.

- ``UsageError``: the learner's input (an unknown lab, a bad backend name, a wrong answer type).
- ``ResourceStateError``: the state of a resource (a server still building, a quota used up).
- ``ServiceError``: the service behind the lab (the cloud, the cluster, the GPU driver).
- ``MissingPiece``: something this machine lacks (credentials, a binary, an extra).

The ``lab`` command prints any of them as one line and exits 2, without a traceback.
"""

from __future__ import annotations

__all__ = ["LabError", "MissingPiece", "ResourceStateError", "ServiceError", "UsageError"]


class LabError(Exception):
    """Base class: a message and the next step."""

    who = "lab"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UsageError(LabError):
    """The learner's input is wrong: fix the call."""

    who = "your input"


class ResourceStateError(LabError):
    """A resource is not in the state the step needs: wait, or clean up."""

    who = "resource state"


class ServiceError(LabError):
    """The service behind the lab failed: retry, or tell the workshop host."""

    who = "service"


class MissingPiece(LabError):
    """This machine lacks something (credentials, a binary, an optional extra)."""

    who = "this machine"
