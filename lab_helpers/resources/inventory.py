"""Find what the labs created on a cloud, by the marks in ``tags.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .tags import PREFIX, matches, parse, slug

# The order cleanup must delete in: what holds a reference goes before what it references.
ORDER = ("floating_ip", "attachment", "server", "port", "snapshot", "volume", "object", "container",
         "security_group", "keypair")


@dataclass
class Found:
    kind: str
    id: str
    name: str
    lab: str
    learner: str
    su_per_hour: float = 0.0
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        cost = f", {self.su_per_hour:g} SU/h" if self.su_per_hour else ""
        return f"{self.kind:<15} {self.name or self.id}  (lab {self.lab or '?'}{cost})"


def _flavor_name(server) -> str:
    flavor = getattr(server, "flavor", None) or {}
    if isinstance(flavor, dict):
        return flavor.get("original_name") or flavor.get("name") or ""
    return getattr(flavor, "original_name", None) or getattr(flavor, "name", "") or ""


def _server_rate(server) -> float:
    from .cost import su_per_hour

    flavor = getattr(server, "flavor", None)
    vcpus = flavor.get("vcpus") if isinstance(flavor, dict) else getattr(flavor, "vcpus", None)
    try:
        return su_per_hour(_flavor_name(server), vcpus)
    except Exception:
        return 0.0


def find(conn, *, learner: str | None, lab: str | None = None, expired_only: bool = False) -> list[Found]:
    """Every marked resource of ``learner`` (all learners when None), in deletion order."""
    found: list[Found] = []

    def keep(kind, res, marks, **extra):
        if matches(marks, learner=learner, lab=lab, expired_only=expired_only):
            found.append(Found(kind, res.id, getattr(res, "name", "") or "", marks.get("course-lab", ""),
                               marks.get("course-learner", ""), **extra))

    server_ids = set()
    for server in conn.compute.servers(details=True):
        marks = parse(getattr(server, "metadata", None))
        if matches(marks, learner=learner, lab=lab, expired_only=expired_only):
            server_ids.add(server.id)
        keep("server", server, marks, su_per_hour=_server_rate(server) if server.status != "SHELVED_OFFLOADED" else 0.0,
             extra={"status": server.status})
    for ip in conn.network.ips():
        marks = parse(getattr(ip, "tags", None)) or parse(getattr(ip, "description", ""))
        keep("floating_ip", ip, marks, extra={"address": ip.floating_ip_address})
    for volume in conn.block_storage.volumes(details=True):
        marks = parse(getattr(volume, "metadata", None))
        keep("volume", volume, marks, extra={"status": volume.status, "attachments": list(volume.attachments or [])})
        if matches(marks, learner=learner, lab=lab, expired_only=expired_only):
            for att in volume.attachments or []:
                found.append(Found("attachment", att.get("attachment_id") or att.get("id") or volume.id, f"{volume.name} on a server",
                                   marks.get("course-lab", ""), marks.get("course-learner", ""),
                                   extra={"server_id": att.get("server_id"), "volume_id": volume.id}))
    for snap in conn.block_storage.snapshots(details=True):
        keep("snapshot", snap, parse(getattr(snap, "metadata", None)))
    for port in conn.network.ports():
        marks = parse(getattr(port, "tags", None)) or parse(getattr(port, "description", ""))
        if port.device_id in server_ids:
            continue  # goes with its server
        keep("port", port, marks)
    for group in conn.network.security_groups():
        keep("security_group", group, parse(getattr(group, "tags", None)) or parse(getattr(group, "description", "")))
    prefix = f"{PREFIX}-{slug(learner)}-" if learner else f"{PREFIX}-"
    for pair in conn.compute.keypairs():
        if pair.name.startswith(prefix):
            parts = pair.name.split("-")
            marks = {"course-learner": parts[1], "course-lab": parts[2] if len(parts) > 2 else ""}
            if lab is None or marks["course-lab"] == lab:
                if not expired_only:
                    found.append(Found("keypair", pair.name, pair.name, marks["course-lab"], marks["course-learner"]))
    for container in conn.object_store.containers():
        if not container.name.startswith(prefix):
            continue
        meta = conn.object_store.get_container_metadata(container.name).metadata or {}
        marks = parse(meta)
        if matches(marks, learner=learner, lab=lab, expired_only=expired_only):
            for obj in conn.object_store.objects(container.name):
                found.append(Found("object", f"{container.name}/{obj.name}", f"{container.name}/{obj.name}",
                                   marks.get("course-lab", ""), marks.get("course-learner", ""),
                                   extra={"container": container.name, "object": obj.name}))
            found.append(Found("container", container.name, container.name, marks.get("course-lab", ""), marks.get("course-learner", "")))
    found.sort(key=lambda f: ORDER.index(f.kind))
    return found
