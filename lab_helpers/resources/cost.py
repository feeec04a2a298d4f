"""SU rates from ``data/jetstream2.yaml``: one value per flavor family, so every figure follows it."""

from __future__ import annotations

from functools import lru_cache

from ..errors import UsageError
from ..paths import load_yaml


@lru_cache(maxsize=1)
def _catalog() -> dict:
    return load_yaml("jetstream2.yaml")


def flavors() -> dict[str, dict]:
    return {f["name"]: f for f in _catalog()["flavors"]}


def su_per_hour(flavor: str, vcpus: int | None = None) -> float:
    """SUs a server of ``flavor`` burns per hour while ACTIVE (JS2: rate x vCPUs)."""
    known = flavors()
    if flavor not in known and vcpus is None:
        raise UsageError(f"unknown flavor {flavor!r}.", hint=f"Jetstream2 flavors: {', '.join(known)}.")
    family = flavor.split(".", 1)[0]
    rates = _catalog()["su_rates"]
    rate = rates.get(family, rates["m3"])["su_per_vcpu_hour"]
    return float(rate) * float(vcpus if vcpus is not None else known[flavor]["vcpus"])
