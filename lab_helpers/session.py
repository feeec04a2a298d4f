"""What a lab's setup cell calls: which backend, and the marks every created resource carries.

``course = lab_helpers.setup(BACKEND, lab="03")`` gives the lab one object to ask for a cloud
connection, names and tags for what it creates, a plan with SU costs, and the cleanup.
``course.backend`` is the backend object (printed, its name): cells hand it to whatever differs.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .backends import Backend, resolve
from .marks import Marks


@dataclass(frozen=True)
class Session:
    backend: Backend
    lab: str
    marks: Marks = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"Lab {self.lab}: backend {self.backend.name!r}, {self.backend.where}."

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<div style='padding:4px 8px;background:#f6f8fa;border-radius:4px'>{html.escape(str(self))}</div>"

    # --- what the cloud labs use -----------------------------------------------------------
    def cloud(self, *, admin: bool = False):
        """An openstacksdk connection to this backend's cloud (the sandbox starts on first use)."""
        return self.backend.connect(admin=admin)

    @property
    def cloud_name(self) -> str:
        return self.backend.cloud_name()

    def name(self, what: str) -> str:
        """A resource name carrying the learner and the lab: ``course-<learner>-<lab>-<what>``."""
        return self.marks.name(what)

    def metadata(self) -> dict[str, str]:
        """Metadata for servers, volumes, snapshots and containers: lab, learner, expiry."""
        return self.marks.metadata()

    def tags(self) -> list[str]:
        """Neutron tags with the same marks."""
        return self.marks.tags()

    def description(self) -> str:
        return self.marks.description()

    def plan(self, conn, **what):
        """Say what the lab will create and its SU cost per hour; stop if the quota cannot hold it."""
        from .resources.plan import plan

        return plan(conn, **what)

    def cleanup(self, conn, *, dry_run: bool = False):
        """Remove everything this lab created for this learner, in the order the APIs require."""
        from .resources.cleanup import cleanup

        return cleanup(conn, learner=self.marks.learner, lab=self.lab, dry_run=dry_run)


def setup(backend: Backend | str | None = None, lab: str = "") -> Session:
    """Start a lab on ``backend`` (the ``BACKEND`` parameter; default from ``LAB_BACKEND``)."""
    chosen = resolve(backend)
    chosen.require(lab)
    return Session(chosen, lab, Marks.for_lab(lab or "00"))
