"""The two backends as objects, chosen by name in one place.

``resolve(BACKEND)`` turns the ``BACKEND`` parameter (or ``LAB_BACKEND``, or the default) into a
:class:`Backend`; code that differs between backends asks that object instead of comparing names.
"""

from __future__ import annotations

from ..config import resolve_backend
from .base import Backend
from .live import Live
from .sandbox import Sandbox

__all__ = ["Backend", "Live", "Sandbox", "backend_named", "resolve"]

_BY_NAME: dict[str, type[Backend]] = {Sandbox.name: Sandbox, Live.name: Live}


def backend_named(name: str | None = None) -> Backend:
    """The backend called ``name`` (case and spaces ignored); None: ``LAB_BACKEND``, else the sandbox."""
    return _BY_NAME[resolve_backend(name)]()


def resolve(backend: Backend | str | None = None) -> Backend:
    """A backend object as is; a name (or None) through :func:`backend_named`."""
    return backend if isinstance(backend, Backend) else backend_named(backend)
