"""The datasheet table (``data/gpus.yaml``) and matching a detected GPU to its row.

The CUDA driver reports names such as ``"NVIDIA A40"``, ``"NVIDIA A100-SXM4-80GB"`` or
``"NVIDIA H100 80GB HBM3"``; each row lists the regular expressions its names match. An
unknown GPU has no row: it is still measured, and nothing pretends to know its peak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..paths import load_yaml

__all__ = ["a40"]

PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16")


@dataclass(frozen=True)
class GpuSpec:
    """One datasheet row. Tensor-core figures are dense unless a name says sparse."""

    key: str
    name: str
    bandwidth_gbps: float
    fp32_tflops: float
    memory_gb: float
    source: str
    memory_type: str = ""
    architecture: str = ""
    tensor: dict[str, dict[str, float | None]] = field(default_factory=dict)
    sms: int | None = None
    l2_mb: float | None = None
    bus_width_bits: int | None = None
    compute_capability: str = ""
    power_w: float | None = None
    host_link: str = ""
    host_link_gbps: float | None = None
    price_usd: float | None = None
    match: tuple[str, ...] = ()

    def peak_tflops(self, precision: str = "fp32", sparse: bool = False) -> float | None:
        """The datasheet's peak for ``precision`` (fp32 on CUDA cores; tf32/fp16/bf16 on tensor cores)."""
        precision = precision.lower()
        if precision == "fp32":
            return self.fp32_tflops
        row = self.tensor.get(precision)
        if not row:
            return None
        return row.get("sparse" if sparse else "dense")

    @property
    def ridge_point(self) -> float:
        """FP32 FLOP per byte where the roofline turns from memory-bound to compute-bound."""
        return self.fp32_tflops * 1e12 / (self.bandwidth_gbps * 1e9)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "bandwidth_gbps": self.bandwidth_gbps,
            "fp32_tflops": self.fp32_tflops,
            "tf32_tflops": self.peak_tflops("tf32"),
            "fp16_tflops": self.peak_tflops("fp16"),
            "bf16_tflops": self.peak_tflops("bf16"),
            "memory_gb": self.memory_gb,
            "sms": self.sms,
            "l2_mb": self.l2_mb,
            "bus_width_bits": self.bus_width_bits,
            "compute_capability": self.compute_capability,
            "power_w": self.power_w,
            "host_link": self.host_link,
            "host_link_gbps": self.host_link_gbps,
            "source": self.source,
        }


def _row(raw: dict) -> GpuSpec:
    # each tensor-core row in the YAML is {dense: TFLOPS, sparse: TFLOPS}
    tensor: dict[str, dict[str, float | None]] = {
        p: raw[f"{p}_tflops"] for p in ("tf32", "fp16", "bf16") if raw.get(f"{p}_tflops")
    }
    return GpuSpec(
        key=str(raw["key"]),
        name=str(raw["name"]),
        bandwidth_gbps=float(raw["bandwidth_gbps"]),
        fp32_tflops=float(raw["fp32_tflops"]),
        memory_gb=float(raw["memory_gb"]),
        source=str(raw["source"]),
        memory_type=str(raw.get("memory_type", "")),
        architecture=str(raw.get("architecture", "")),
        tensor=tensor,
        sms=raw.get("sms"),
        l2_mb=raw.get("l2_mb"),
        bus_width_bits=raw.get("bus_width_bits"),
        compute_capability=str(raw.get("compute_capability") or ""),
        power_w=raw.get("power_w"),
        host_link=str(raw.get("host_link", "")),
        host_link_gbps=raw.get("host_link_gbps"),
        price_usd=raw.get("price_usd"),
        match=tuple(raw.get("match", ())),
    )


@lru_cache(maxsize=1)
def load_specs() -> tuple[GpuSpec, ...]:
    """Every row of ``data/gpus.yaml``, in file order."""
    return tuple(_row(raw) for raw in load_yaml("gpus.yaml")["gpus"])


def spec(key: str) -> GpuSpec:
    """The row with ``key`` (for example ``"A40"``)."""
    for row in load_specs():
        if row.key.lower() == key.lower():
            return row
    from ..errors import UsageError

    known = ", ".join(r.key for r in load_specs())
    raise UsageError(f"no GPU row with key {key!r}.", hint=f"Known rows: {known}.")


def a40() -> GpuSpec:
    """The course's reference GPU, shown beside every measurement."""
    return spec("A40")


def match_spec(device_name: str) -> GpuSpec | None:
    """The row whose patterns match the name the driver reports, or None ("no datasheet row")."""
    name = " ".join(str(device_name).split()).lower()
    for row in load_specs():
        if any(re.search(pattern, name) for pattern in row.match):
            return row
    return None
