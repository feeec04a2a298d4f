"""SU rates from ``data/jetstream2.yaml``: one value per flavor family, so every figure follows it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

from ..errors import UsageError
from ..paths import load_yaml

__all__ = ["flavors", "su_for", "su_per_hour", "su_rate_lines", "su_so_far"]


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


def su_rates() -> list[dict]:
    """Each flavor family's SU rate per vCPU-hour with its source and the date it was read; where an
    older version of the page gave another figure, that one too (``older``)."""
    rows = []
    for family, row in _catalog()["su_rates"].items():
        older = row.get("older_page") or {}
        rows.append(
            {
                "family": family,
                "su_per_vcpu_hour": float(row["su_per_vcpu_hour"]),
                "source": row.get("source", ""),
                "read": str(row.get("read", "")),
                "older": (
                    {
                        "su_per_vcpu_hour": float(older["su_per_vcpu_hour"]),
                        "source": older.get("source", ""),
                        "read": str(older.get("read", "")),
                    }
                    if older
                    else None
                ),
            }
        )
    return rows


def su_rate_lines() -> list[str]:
    """The rates as a learner reads them: one line per family, its source beside it."""
    lines = []
    for r in su_rates():
        line = f"{r['family']}: {r['su_per_vcpu_hour']:g} SU per vCPU-hour  ({r['source']}, read {r['read']})"
        if r["older"]:
            line += f"; an older version of the page said {r['older']['su_per_vcpu_hour']:g} ({r['older']['source']})"
        lines.append(line)
    return lines


def state_charge(status: str) -> float:
    """Fraction of the rate charged in ``status`` (JS2: ACTIVE 1, SUSPENDED .75, SHUTOFF .5, else 0)."""
    value = _catalog().get("state_charge", {}).get(str(status).upper(), 0.0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def cheapest_flavor(vcpus: float, ram_gb: float, families: tuple[str, ...] = ("m3", "r3", "g3")) -> str:
    """The flavor with the lowest SU/hour that has at least ``vcpus`` and ``ram_gb``."""
    fits = [
        f
        for f in flavors().values()
        if f["vcpus"] >= vcpus and f["ram_gb"] >= ram_gb and f["name"].split(".", 1)[0] in families and "note" not in f
    ]
    if not fits:
        raise UsageError(
            f"no Jetstream2 flavor has {vcpus:g} vCPUs and {ram_gb:g} GB RAM.",
            hint="Split the work over several servers, or ask JS2 for an on-request flavor.",
        )
    return min(fits, key=lambda f: (su_per_hour(f["name"]), f["vcpus"], f["ram_gb"]))["name"]


def su_for(flavor: str, *, count: int = 1, hours: float) -> float:
    """SUs that ``count`` ACTIVE servers of ``flavor`` burn in ``hours``."""
    return su_per_hour(flavor) * count * hours


class _MetersSUs(Protocol):  # a backend (lab_helpers.backends), which imports this module for the rates
    def metered_su(self, server: Any) -> float: ...


def su_so_far(backend: _MetersSUs, server: Any) -> float:
    """SUs a server has cost since it was created, as ``backend`` (``course.backend``) meters them.

    The sandbox answers from Nova's usage API; on a live cloud a project sees only ``launched_at``,
    so the figure is the ACTIVE rate times the time since launch (an upper bound when it was stopped).
    """
    return backend.metered_su(server)
