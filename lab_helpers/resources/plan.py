"""Before a lab creates anything: what it will create, what it costs per hour, and whether it fits.

On a shared live allocation this is the moment to stop, not after the third server failed.
Quotas come from each service: Nova (cores, RAM, instances), Cinder (volumes, gigabytes) and
Neutron (floating IPs).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ..errors import ResourceStateError
from .cost import flavors, su_per_hour


@dataclass
class Plan:
    servers: dict[str, int]
    volumes_gb: list[int]
    floating_ips: int
    su_per_hour: float
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines)
        return f"<div><b>This lab will create:</b><ul>{items}</ul></div>"


def _compute_limits(conn) -> dict[str, tuple[int, int | None]]:
    absolute = conn.compute.get_limits().absolute
    return {
        "cores": (absolute.total_cores_used or 0, absolute.total_cores),
        "RAM (MB)": (absolute.total_ram_used or 0, absolute.total_ram),
        "instances": (absolute.instances_used or 0, absolute.instances),
    }


def _volume_limits(conn) -> dict[str, tuple[int, int | None]]:
    absolute = conn.block_storage.get_limits().absolute
    return {
        "volumes": (absolute.total_volumes_used or 0, absolute.max_total_volumes),
        "volume gigabytes": (absolute.total_gigabytes_used or 0, absolute.max_total_volume_gigabytes),
    }


def _network_limits(conn) -> dict[str, tuple[int, int | None]]:
    quota = conn.network.get_quota(conn.current_project_id, details=True)
    ips = quota.floating_ips if isinstance(quota.floating_ips, dict) else {"used": 0, "limit": quota.floating_ips}
    return {"floating IPs": (ips.get("used") or 0, ips.get("limit"))}


def plan(
    conn,
    *,
    servers: dict[str, int] | None = None,
    volumes_gb: list[int] | None = None,
    floating_ips: int = 0,
    check_quota: bool = True,
) -> Plan:
    """Say what will be created and its SU cost per hour; raise if the quota cannot hold it."""
    servers = dict(servers or {})
    volumes_gb = list(volumes_gb or [])
    known = flavors()
    rate = sum(su_per_hour(name) * count for name, count in servers.items())
    lines = [
        f"{count} x server {name} ({known[name]['vcpus']} vCPU, {known[name]['ram_gb']} GB RAM): "
        f"{su_per_hour(name) * count:g} SU/hour"
        for name, count in servers.items()
    ]
    lines += [f"1 x volume of {gb} GB (storage quota, no SUs)" for gb in volumes_gb]
    if floating_ips:
        lines.append(f"{floating_ips} x floating IP")
    lines.append(f"total: {rate:g} SU per hour while the servers are ACTIVE ({rate * 24:g} SU per day)")
    if not check_quota:
        return Plan(servers, volumes_gb, floating_ips, rate, lines)
    need: dict[str, int] = {}
    readers = []
    if servers:
        need.update(
            {
                "cores": sum(known[n]["vcpus"] * c for n, c in servers.items()),
                "RAM (MB)": sum(int(known[n]["ram_gb"] * 1024) * c for n, c in servers.items()),
                "instances": sum(servers.values()),
            }
        )
        readers.append(("compute", _compute_limits))
    if volumes_gb:
        need.update({"volumes": len(volumes_gb), "volume gigabytes": sum(volumes_gb)})
        readers.append(("block storage", _volume_limits))
    if floating_ips:
        need["floating IPs"] = floating_ips
        readers.append(("network", _network_limits))
    for service, read in readers:
        try:
            limits = read(conn)
        except Exception as exc:  # a quota we cannot read must not block the lab; say so
            lines.append(f"quota of {service}: could not be read ({type(exc).__name__}); check it in Horizon")
            continue
        for quota, (used, limit) in limits.items():
            if limit is None or limit < 0:
                continue
            free = limit - used
            lines.append(f"quota {quota}: this lab needs {need[quota]}, {free} of {limit} free")
            if need[quota] > free:
                raise ResourceStateError(
                    f"not enough quota for {quota}: this lab needs {need[quota]}, but only {free} of {limit} are free.",
                    hint="Run `lab cleanup` to remove resources you no longer need, or ask your allocation's PI for more.",
                )
    return Plan(servers, volumes_gb, floating_ips, rate, lines)
