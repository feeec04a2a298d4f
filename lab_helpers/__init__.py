"""Visualizing Compute: helpers for the labs.

The public surface is small and pinned by ``tests/test_public_api.py``. Attributes load lazily,
so ``import lab_helpers`` stays cheap (no CuPy, openstacksdk or kubernetes at import time).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "LabError": "lab_helpers.errors",
    "UsageError": "lab_helpers.errors",
    "check": "lab_helpers.checks.core",
    "cloud_name": "lab_helpers.cloud",
    "connect_cloud": "lab_helpers.cloud",
    "resolve_backend": "lab_helpers.config",
    "state_dir": "lab_helpers.config",
    "setup": "lab_helpers.session",
    "doctor": "lab_helpers.doctor",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .checks.core import check as check
    from .cloud import cloud_name as cloud_name
    from .cloud import connect_cloud as connect_cloud
    from .config import resolve_backend as resolve_backend
    from .config import state_dir as state_dir
    from .doctor import doctor as doctor
    from .errors import LabError as LabError
    from .errors import UsageError as UsageError
    from .session import setup as setup


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lab_helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
