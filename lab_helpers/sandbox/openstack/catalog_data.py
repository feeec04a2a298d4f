"""JS2 facts from ``data/jetstream2.yaml``, shaped the way the sandbox's APIs serve them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

_NS = uuid.UUID("6f1b8f53-3c0e-4c4e-9a55-6a5e1c2f0b01")


def stable_id(kind: str, name: str) -> str:
    """The same UUID for the same name in every sandbox (flavors, images, hosts)."""
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


@dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    gpu_fraction: float
    su_per_hour: float
    family: str
    extra_specs: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return stable_id("flavor", self.name)


@dataclass(frozen=True)
class Host:
    name: str
    type: str
    families: tuple[str, ...]
    vcpus: int
    ram_mb: int
    reserved_ram_mb: int
    disk_gb: int
    gpus: int
    cpu: str

    @property
    def id(self) -> str:
        return stable_id("host", self.name)


@lru_cache(maxsize=1)
def raw() -> dict[str, Any]:
    from ...paths import load_yaml

    return load_yaml("jetstream2.yaml")


def su_rate(family: str) -> float:
    return float(raw()["su_rates"][family]["su_per_vcpu_hour"])


def state_charge(status: str) -> float:
    """Fraction of the SU rate a server in ``status`` is charged (0 for building or errored)."""
    table = raw()["state_charge"]
    value = table.get({"REBOOT": "ACTIVE", "HARD_REBOOT": "ACTIVE"}.get(status, status), 0.0)
    return float(value) if isinstance(value, (int, float)) else 0.0


@lru_cache(maxsize=1)
def flavors() -> tuple[Flavor, ...]:
    out = []
    for row in raw()["flavors"]:
        family = row["name"].split(".")[0]
        specs = {"hw:cpu_sockets": "1"}
        if row.get("gpu_fraction"):
            specs["resources:VGPU"] = "1"
            specs["trait:CUSTOM_A100_GPU_RAM_GB"] = str(row.get("gpu_ram_gb", ""))
        out.append(
            Flavor(
                name=row["name"],
                vcpus=int(row["vcpus"]),
                ram_mb=int(row["ram_gb"] * 1024),
                disk_gb=int(row["disk_gb"]),
                gpu_fraction=float(row.get("gpu_fraction", 0.0)),
                su_per_hour=su_rate(family) * int(row["vcpus"]),
                family=family,
                extra_specs=specs,
            )
        )
    return tuple(out)


def flavor(ref: str) -> Flavor | None:
    """A flavor by id or name."""
    for f in flavors():
        if ref in (f.id, f.name):
            return f
    return None


@lru_cache(maxsize=1)
def images() -> tuple[dict[str, Any], ...]:
    return tuple(dict(row, id=stable_id("image", row["name"])) for row in raw()["images"])


@lru_cache(maxsize=1)
def hosts() -> tuple[Host, ...]:
    types = raw()["host_types"]
    reserved = int(raw().get("reserved_host_memory_gb", 0) * 1024)
    out = []
    for row in raw()["hosts"]:
        t = types[row["type"]]
        out.append(
            Host(
                name=row["name"],
                type=row["type"],
                families=tuple(t["families"]),
                vcpus=int(t["vcpus"]),
                ram_mb=int(t["ram_gb"] * 1024),
                reserved_ram_mb=reserved,
                disk_gb=int(t["local_disk_gb"]),
                gpus=int(t.get("gpus", 0)),
                cpu=t["cpu"],
            )
        )
    return tuple(out)


def project_quota(allocation: str | None = None) -> dict[str, int]:
    """Nova, Cinder and Neutron limits for the sandbox project (JS2 figures plus defaults)."""
    data = raw()
    base = data["quotas"][allocation or data["default_allocation"]]
    other = data["other_quotas"]
    return {
        "cores": int(base["cores"]),
        "ram": int(base["ram_gb"] * 1024),
        "instances": int(other["instances"]),
        "key_pairs": int(other["key_pairs"]),
        "floatingip": int(base["floating_ips"]),
        "volumes": int(other["volumes"]),
        "gigabytes": int(other["volume_gigabytes"]),
        "snapshots": int(other["snapshots"]),
        "network": int(other["networks"]),
        "subnet": int(other["subnets"]),
        "port": int(other["ports"]),
        "router": int(other["routers"]),
        "security_group": int(other["security_groups"]),
        "security_group_rule": int(other["security_group_rules"]),
    }
