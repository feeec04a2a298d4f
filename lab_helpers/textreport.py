"""Results that read as a few lines of text: the same lines in a terminal, a log and JupyterLab."""

from __future__ import annotations

import html


class TextReport:
    """Mixin: define ``lines()``; get ``str()``, ``repr()`` and a ``<pre>`` block in a notebook.

    Dataclasses using it must say ``@dataclass(repr=False)`` so their generated repr does not
    replace this one.
    """

    def lines(self) -> list[str]:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(str(self)) + "</pre>"
