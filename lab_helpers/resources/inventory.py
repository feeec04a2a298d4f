"""Find what the labs created on a cloud, by the marks in ``tags.py``.

Each API carries the marks in its own way: Nova and Cinder metadata, Neutron tags or the
description given at creation, Swift container metadata, and the name alone for keypairs
(Nova keypairs hold no metadata). A service missing from the cloud's catalog is skipped and
said so, never a crash: cleanup must still reach everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..marks import KEY_CLUSTER, KEY_LAB, KEY_LEARNER, PREFIX, matches, parse, slug

__all__ = ["find"]

# The order cleanup must delete in: what holds a reference goes before what it references.
ORDER = (
    "cluster",  # a sandbox cluster: its Nodes go first, then its VMs (listed below as servers)
    "floating_ip",
    "attachment",
    "server",
    "port",
    "snapshot",
    "volume",
    "object",
    "container",
    "security_group",
    "keypair",
)


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
        status = self.extra.get("status")
        state = f", {status}" if status and status not in ("ACTIVE", "available") else ""
        cost = f", {self.su_per_hour:g} SU/h" if self.su_per_hour else ""
        return f"{self.kind:<15} {self.name or self.id}  (lab {self.lab or '?'}{state}{cost})"


class Inventory(list):
    """A list of ``Found`` plus the services that could not be asked."""

    skipped: list[str]

    def __init__(self, items=(), skipped=None):
        super().__init__(items)
        self.skipped = list(skipped or [])


def _flavor_name(server) -> str:
    flavor = getattr(server, "flavor", None) or {}
    if isinstance(flavor, dict):
        return flavor.get("original_name") or flavor.get("name") or ""
    return getattr(flavor, "original_name", None) or getattr(flavor, "name", "") or ""


def server_rate(server) -> float:
    """SU/hour a server burns now: the flavor's rate times the charge of its state (ERROR, BUILD: 0)."""
    from .cost import state_charge, su_per_hour

    flavor = getattr(server, "flavor", None)
    vcpus = flavor.get("vcpus") if isinstance(flavor, dict) else getattr(flavor, "vcpus", None)
    try:
        return su_per_hour(_flavor_name(server), vcpus) * state_charge(server.status or "")
    except Exception:
        return 0.0


def keypair_marks(name: str, learner: str | None) -> dict[str, str]:
    """Lab and learner read back from ``course-<learner>-<lab>-<what>`` (learners may contain dashes)."""
    if learner is not None:
        prefix = f"{PREFIX}-{slug(learner)}-"
        if not name.startswith(prefix):
            return {}
        m = re.match(r"^(\d\d)-", name[len(prefix) :])  # labs are two digits: "someone" must not match "someone-else"
        return {KEY_LEARNER: slug(learner), KEY_LAB: m[1]} if m else {}
    m = re.match(rf"^{PREFIX}-(?P<learner>.+?)-(?P<lab>\d\d)-", name)
    return {KEY_LEARNER: m["learner"], KEY_LAB: m["lab"]} if m else {}


def _neutron_marks(res) -> dict[str, str]:
    return parse(getattr(res, "tags", None)) or parse(getattr(res, "description", "") or "")


def find(conn, *, learner: str | None, lab: str | None = None, expired_only: bool = False) -> Inventory:
    """Every marked resource of ``learner`` (all learners when None), in deletion order."""
    from openstack import exceptions

    found = Inventory()

    def mine(marks: dict) -> bool:
        return matches(marks, learner=learner, lab=lab, expired_only=expired_only)

    def keep(kind, res, marks, **kw):
        if mine(marks):
            found.append(
                Found(
                    kind,
                    res.id,
                    getattr(res, "name", "") or "",
                    marks.get(KEY_LAB, ""),
                    marks.get(KEY_LEARNER, ""),
                    **kw,
                )
            )

    def servers():
        clusters = {}  # cluster name -> its entry
        for server in conn.compute.servers(details=True):
            metadata = dict(getattr(server, "metadata", None) or {})
            marks = parse(metadata)
            keep(
                "server",
                server,
                marks,
                su_per_hour=server_rate(server),
                extra={"status": server.status, "flavor": _flavor_name(server)},
            )
            cluster = metadata.get(KEY_CLUSTER)
            if cluster and mine(marks):  # one entry per cluster, whose deletion removes its Nodes first
                entry = clusters.setdefault(
                    cluster,
                    Found("cluster", cluster, cluster, marks.get(KEY_LAB, ""), marks.get(KEY_LEARNER, "")),
                )
                entry.extra.setdefault("servers", []).append(server.id)
        for entry in clusters.values():
            entry.extra["status"] = f"{len(entry.extra['servers'])} VMs"
            found.append(entry)

    def floating_ips():
        for ip in conn.network.ips():
            keep("floating_ip", ip, _neutron_marks(ip), extra={"address": ip.floating_ip_address})

    def volumes():
        for volume in conn.block_storage.volumes(details=True):
            marks = parse(getattr(volume, "metadata", None))
            keep("volume", volume, marks, extra={"status": volume.status})
            if mine(marks):
                for att in volume.attachments or []:
                    found.append(
                        Found(
                            "attachment",
                            att.get("attachment_id") or att.get("id") or volume.id,
                            f"{volume.name} on a server",
                            marks.get(KEY_LAB, ""),
                            marks.get(KEY_LEARNER, ""),
                            extra={"server_id": att.get("server_id"), "volume_id": volume.id},
                        )
                    )

    def snapshots():
        for snap in conn.block_storage.snapshots(details=True):
            keep("snapshot", snap, parse(getattr(snap, "metadata", None)), extra={"status": snap.status})

    def ports():
        # Ports Nova made for a server carry no marks and go with the server; a port a lab made
        # itself carries them and outlives its server, so it is deleted after the servers.
        for port in conn.network.ports():
            keep("port", port, _neutron_marks(port))

    def security_groups():
        for group in conn.network.security_groups():
            keep("security_group", group, _neutron_marks(group))

    def keypairs():
        if expired_only:
            return  # keypairs carry no expiry; a learner's own cleanup removes them
        for pair in conn.compute.keypairs():
            marks = keypair_marks(pair.name, learner)
            if marks and (lab is None or marks[KEY_LAB] == lab):
                found.append(Found("keypair", pair.name, pair.name, marks[KEY_LAB], marks[KEY_LEARNER]))

    def containers():
        prefix = f"{PREFIX}-{slug(learner)}-" if learner else f"{PREFIX}-"
        for container in conn.object_store.containers():
            if not container.name.startswith(prefix):
                continue
            marks = parse(conn.object_store.get_container_metadata(container.name).metadata or {})
            if not mine(marks):
                continue
            for obj in conn.object_store.objects(container.name):
                found.append(
                    Found(
                        "object",
                        f"{container.name}/{obj.name}",
                        f"{container.name}/{obj.name}",
                        marks.get(KEY_LAB, ""),
                        marks.get(KEY_LEARNER, ""),
                        extra={"container": container.name, "object": obj.name},
                    )
                )
            found.append(
                Found("container", container.name, container.name, marks.get(KEY_LAB, ""), marks.get(KEY_LEARNER, ""))
            )

    for service, step in (
        ("compute", servers),
        ("network", floating_ips),
        ("block-storage", volumes),
        ("block-storage", snapshots),
        ("network", ports),
        ("network", security_groups),
        ("compute", keypairs),
        ("object-store", containers),
    ):
        try:
            step()
        except (exceptions.EndpointNotFound, exceptions.NotSupported) as exc:
            found.skipped.append(f"{step.__name__}: this cloud offers no {service} service ({type(exc).__name__})")
    found.sort(key=lambda f: ORDER.index(f.kind))
    return found
