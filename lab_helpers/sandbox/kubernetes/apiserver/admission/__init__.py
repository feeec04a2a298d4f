"""Admission: what the API server does to a write after its defaults and before it is stored, as its
admission plugins do. Mutating plugins run before validation (``mutate``: LimitRanger's default
requests, the default StorageClass of a claim), validating ones after it (``validate``: ResourceQuota,
a claim's expansion). Controllers' creates go through the same plugins, so a ReplicaSet's pods meet
the quota as a client's do.

Each plugin is a module of this package with ``mutate`` and ``validate`` functions of the shape
below; a plugin refuses by raising the API server's error (``status.forbidden_because`` ...).
"""

from __future__ import annotations

from . import default_tolerations, quota, rbac_escalation, storage
from .request import Request

__all__ = ["PLUGINS", "Request", "mutate", "validate"]

PLUGINS = (default_tolerations, storage, quota, rbac_escalation)


def mutate(req: Request) -> None:
    """Let each plugin change ``req.obj`` in place (before validation)."""
    for plugin in PLUGINS:
        plugin.mutate(req)


def validate(req: Request) -> None:
    """Let each plugin refuse the write (after validation)."""
    for plugin in PLUGINS:
        plugin.validate(req)
