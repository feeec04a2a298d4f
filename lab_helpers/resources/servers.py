"""Servers in a lab: wait for ACTIVE with a progress line, and the small server lab 04 reuses.

Lab 03 teaches each step in its own cell; later labs call ``ensure_lab_server`` for the same
steps (keypair, ssh group, server, floating IP), each one create-or-reuse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends import Backend, resolve
from ..errors import ResourceStateError

if TYPE_CHECKING:  # pragma: no cover
    from openstack.compute.v2.keypair import Keypair
    from openstack.compute.v2.server import Server
    from openstack.network.v2.floating_ip import FloatingIP
    from openstack.network.v2.security_group import SecurityGroup

__all__ = ["ensure_lab_server", "wait_for_active"]


class _Progress:
    """One line that updates in place: a notebook display handle, else a terminal carriage return."""

    def __init__(self) -> None:
        self.handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display

            if get_ipython() is not None and getattr(get_ipython(), "kernel", None) is not None:
                self.handle = display({"text/plain": ""}, raw=True, display_id=True)
        except ImportError:
            pass

    def show(self, text: str, final: bool = False) -> None:
        if self.handle is not None:
            self.handle.update({"text/plain": text}, raw=True)
        elif final:
            print(text)


def wait_for_active(
    conn, server, *, backend: Backend | str | None = None, timeout_s: float = 900, interval_s: float = 0.25
):
    """Poll ``GET /servers/{id}`` until ACTIVE (what ``conn.compute.wait_for_server`` does), showing progress."""
    backend = resolve(backend)
    progress = _Progress()
    start = time.monotonic()
    note = backend.usual_boot()
    server = conn.compute.get_server(server.id)
    while server.status != "ACTIVE":
        waited = time.monotonic() - start
        if server.status == "ERROR":
            fault = (
                (server.fault or {}).get("message", "no reason given")
                if isinstance(server.fault, dict)
                else server.fault
            )
            progress.show(f"{server.name}: ERROR after {waited:.1f} s", final=True)
            raise ResourceStateError(
                f"server {server.name} went to ERROR: {fault}",
                hint="Delete it (`course.cleanup(conn)` or `lab cleanup`), then try a smaller flavor.",
            )
        if waited > timeout_s:
            raise ResourceStateError(
                f"server {server.name} is still {server.status} after {timeout_s:.0f} s.",
                hint="Run the cell again to keep waiting; if it stays, delete it and launch again.",
            )
        progress.show(f"{server.name}: {server.status} for {waited:5.1f} s ({note})")
        time.sleep(max(interval_s, backend.min_poll_s))
        server = conn.compute.get_server(server.id)
    progress.show(f"{server.name}: ACTIVE after {time.monotonic() - start:.1f} s ({note})", final=True)
    return server


@dataclass
class LabServer:
    server: Server
    keypair: Keypair
    security_group: SecurityGroup
    floating_ip: FloatingIP
    private_key: Path | None

    @property
    def address(self) -> str:
        return self.floating_ip.floating_ip_address

    def __str__(self) -> str:
        key = "saved on this machine" if self.private_key else "not on this machine (created elsewhere)"
        return (
            f"server {self.server.name} ({self.server.status}) at {self.address}; keypair {self.keypair.name} "
            f"(private key {key}); security group {self.security_group.name} lets ssh in"
        )

    __repr__ = __str__


def ensure_ssh_group(course, conn, cidr: str = "0.0.0.0/0"):
    """The lab's own security group with one rule: ssh (tcp 22) from ``cidr``."""
    from .security import has_rule

    group = conn.network.find_security_group(course.name("ssh"))
    if group is None:
        group = conn.network.create_security_group(name=course.name("ssh"), description=course.description())
        conn.network.set_tags(group, course.tags())
    rule = {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
        "remote_ip_prefix": cidr,
    }
    if not has_rule(conn, group, rule):
        conn.network.create_security_group_rule(security_group_id=group.id, **rule)
    return group


def ensure_lab_server(
    course, conn, *, flavor: str = "m3.tiny", image: str = "Featured-Ubuntu22", what: str = "vm"
) -> LabServer:
    """Keypair, ssh group, server and floating IP for this lab, each reused when it already exists."""
    from .keys import private_key_path, save_private_key

    keypair = conn.compute.find_keypair(course.name("key"))
    if keypair is None:
        keypair = conn.compute.create_keypair(name=course.name("key"))
        save_private_key(keypair)
    group = ensure_ssh_group(course, conn)
    server = conn.compute.find_server(course.name(what))
    if server is None:
        network = conn.network.find_network("auto_allocated_network")
        server = conn.compute.create_server(
            name=course.name(what),
            image_id=conn.image.find_image(image).id,
            flavor_id=conn.compute.find_flavor(flavor).id,
            networks=[{"uuid": network.id}],
            key_name=keypair.name,
            security_groups=[{"name": group.name}],
            metadata=course.metadata(),
        )
    server = wait_for_active(conn, server, backend=course.backend)
    port = next(iter(conn.network.ports(device_id=server.id)))
    ip = next(iter(conn.network.ips(port_id=port.id)), None)
    if ip is None:
        public = conn.network.find_network("public")
        ip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id, description=course.description())
        conn.network.set_tags(ip, course.tags())
    return LabServer(server, keypair, group, ip, private_key_path(keypair.name))
