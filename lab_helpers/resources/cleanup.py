"""Delete what the labs created, in the order the APIs require, and report what it stopped."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import ServiceError
from .inventory import Found, find


@dataclass
class CleanupReport:
    removed: list[Found] = field(default_factory=list)
    failed: list[tuple[Found, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def su_per_hour_stopped(self) -> float:
        return sum(f.su_per_hour for f in self.removed if f.kind == "server")

    def __str__(self) -> str:
        verb = "would be removed" if self.dry_run else "removed"
        lines = [f"{'would remove' if self.dry_run else 'removed'}: {f.line()}" for f in self.removed]
        lines += [f"FAILED to remove {f.line()}: {why}" for f, why in self.failed]
        if not self.removed and not self.failed:
            lines.append("nothing to clean up: no resource of yours carries the labs' marks")
        else:
            lines.append(f"{len(self.removed)} resources {verb}; {self.su_per_hour_stopped:g} SU/hour "
                         f"{'would stop' if self.dry_run else 'stopped'}")
        return "\n".join(lines)

    __repr__ = __str__


def _wait_gone(get, ident: str, timeout_s: float = 120) -> None:
    from openstack import exceptions

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            get(ident)
        except exceptions.ResourceNotFound:
            return
        time.sleep(0.2)
    raise ServiceError(f"{ident} was still there {timeout_s:.0f} s after delete.", hint="Run `lab cleanup` again in a minute.")


def _delete(conn, item: Found) -> None:
    from openstack import exceptions

    try:
        if item.kind == "floating_ip":
            conn.network.delete_ip(item.id, ignore_missing=True)
        elif item.kind == "attachment":
            server, volume = item.extra["server_id"], item.extra["volume_id"]
            conn.compute.delete_volume_attachment(server, volume, ignore_missing=True)
            conn.block_storage.wait_for_status(conn.block_storage.get_volume(volume), "available", wait=120, interval=0.2)
        elif item.kind == "server":
            conn.compute.delete_server(item.id, ignore_missing=True)
            _wait_gone(conn.compute.get_server, item.id)
        elif item.kind == "port":
            conn.network.delete_port(item.id, ignore_missing=True)
        elif item.kind == "snapshot":
            conn.block_storage.delete_snapshot(item.id, ignore_missing=True)
            _wait_gone(conn.block_storage.get_snapshot, item.id)
        elif item.kind == "volume":
            conn.block_storage.delete_volume(item.id, ignore_missing=True)
            _wait_gone(conn.block_storage.get_volume, item.id)
        elif item.kind == "object":
            conn.object_store.delete_object(item.extra["object"], container=item.extra["container"], ignore_missing=True)
        elif item.kind == "container":
            conn.object_store.delete_container(item.id, ignore_missing=True)
        elif item.kind == "security_group":
            conn.network.delete_security_group(item.id, ignore_missing=True)
        elif item.kind == "keypair":
            conn.compute.delete_keypair(item.id, ignore_missing=True)
    except exceptions.ResourceNotFound:
        pass  # already gone: the goal is reached


def cleanup(conn, *, learner: str | None, lab: str | None = None, dry_run: bool = False,
            expired_only: bool = False) -> CleanupReport:
    """Remove every marked resource of ``learner`` (optionally of one lab), attachments first."""
    report = CleanupReport(dry_run=dry_run)
    for item in find(conn, learner=learner, lab=lab, expired_only=expired_only):
        if dry_run:
            report.removed.append(item)
            continue
        try:
            _delete(conn, item)
            report.removed.append(item)
        except Exception as exc:  # keep going: one stuck resource must not strand the rest
            report.failed.append((item, f"{type(exc).__name__}: {exc}"))
    return report
