"""What a lab's setup cell calls: which backend, and a one-line banner saying so."""

from __future__ import annotations

import html
from dataclasses import dataclass

from .config import resolve_backend


@dataclass(frozen=True)
class Session:
    backend: str
    lab: str

    def __str__(self) -> str:
        where = "a local sandbox on 127.0.0.1 (no account needed)" if self.backend == "sandbox" else "your own cloud, cluster and GPU"
        return f"Lab {self.lab}: backend {self.backend!r}, {where}."

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<div style='padding:4px 8px;background:#f6f8fa;border-radius:4px'>{html.escape(str(self))}</div>"


def setup(backend: str | None = None, lab: str = "") -> Session:
    """Start a lab on ``backend`` (the ``BACKEND`` parameter; default from ``LAB_BACKEND``)."""
    chosen = resolve_backend(backend)
    if chosen == "live":
        from .live import require_live

        require_live(lab)
    return Session(chosen, lab)
