"""What one machine does per second: bandwidth, matrix-product rate and the cost of a kernel launch.

The capstone sizes two machines: one NVIDIA A40 (a Delta GPU) and one vCPU of a Jetstream2 m3 VM.
Each number is the learner's own where lab 01 measured it in this state directory on that kind of
machine (an A40 for the GPU, any CPU for the vCPU), else the reference in ``data/capstone.yaml``;
``Rate.own`` and ``Rate.source`` say which, and ``rate_lines`` prints it for the learner.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

from ..config import records_progress
from ..measurements import recorded
from ..paths import load_yaml

__all__ = ["MachineRates", "Rate", "capstone", "rate_lines", "rates", "reference_rates"]


@dataclass(frozen=True)
class Rate:
    value: float
    unit: str
    source: str
    own: bool = False  # measured by the learner's lab 01 in this state directory


@dataclass(frozen=True)
class MachineRates:
    key: str  # "a40" | "vcpu"
    label: str
    bandwidth_gbs: Rate
    gemm_tflops: Rate
    launch_us: Rate
    bytes_per_param: int  # fp16 on the GPU, fp32 on the CPU
    efficiency: float  # the fraction of the matrix-product rate inference reaches

    @property
    def flops_per_s(self) -> float:
        """FLOP per second an inference server reaches: the measured matrix-product rate x the efficiency."""
        return self.gemm_tflops.value * 1e12 * self.efficiency

    @property
    def bytes_per_s(self) -> float:
        return self.bandwidth_gbs.value * 1e9

    @property
    def launch_s(self) -> float:
        return self.launch_us.value * 1e-6

    @property
    def ridge(self) -> float:
        """FLOP per byte where this machine turns from memory-bound to compute-bound."""
        return self.flops_per_s / self.bytes_per_s

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MachineRates:
        parts = {k: Rate(**data[k]) for k in ("bandwidth_gbs", "gemm_tflops", "launch_us")}
        return cls(
            data["key"], data["label"], **parts, bytes_per_param=int(data["bytes_per_param"]),
            efficiency=float(data["efficiency"]),
        )  # fmt: skip


@lru_cache(maxsize=1)
def capstone() -> dict:
    return load_yaml("capstone.yaml")


def _reference(key: str, name: str) -> Rate:
    row = capstone()["reference_rates"][key][name]
    unit = {"bandwidth_gbs": "GB/s", "gemm_tflops": "TFLOP/s", "launch_us": "us"}[name]
    return Rate(float(row["value"]), unit, f"reference: {row['source']}")


def _own(lab01: dict, name: str, per_core: bool) -> Rate | None:
    row = lab01.get(name)
    if not row:
        return None
    cores = max(1, int(row.get("cores") or 1)) if per_core else 1
    value = float(row["value"]) / cores
    at = str(row.get("device", "?"))
    share = f", divided by its {cores} cores" if cores > 1 else ""
    return Rate(value, str(row.get("unit", "")), f"yours: lab 01 on {at}{share}", own=True)


def _machine(key: str, lab01: dict) -> MachineRates:
    ref = capstone()["reference_rates"][key]
    kind = {row.get("kind") for row in lab01.values()}
    device = " ".join(str(row.get("device", "")) for row in lab01.values())
    mine = (key == "a40" and "gpu" in kind and "A40" in device) or (key == "vcpu" and "cpu" in kind)
    precision = ref["gemm_tflops"].get("precision", "fp32")
    got: dict[str, Rate] = {}
    for name, own_name in (
        ("bandwidth_gbs", "triad_gbs"),
        ("gemm_tflops", f"gemm_{precision}_tflops"),
        ("launch_us", "launch_us"),
    ):
        own = _own(lab01, own_name, per_core=key == "vcpu" and name != "launch_us") if mine else None
        got[name] = own or _reference(key, name)
    return MachineRates(
        key, str(ref["label"]), got["bandwidth_gbs"], got["gemm_tflops"], got["launch_us"],
        int(ref["bytes_per_param"]), float(capstone()["inference_efficiency"]),
    )  # fmt: skip


def rates() -> dict[str, MachineRates]:
    """The A40's and the vCPU's rates: the learner's own lab 01 numbers where recorded, else the references.

    Only the learner's own copy of lab 07 reads them: a `lab run` of the solved lab (and the website built
    from it) sizes from the references, whoever ran lab 01 on the machine that built it."""
    lab01 = recorded("01") if records_progress() else {}
    return {key: _machine(key, lab01) for key in ("a40", "vcpu")}


def reference_rates() -> dict[str, MachineRates]:
    """The reference rates alone (the A40's datasheet anchors, the course's vCPU run), whatever is recorded."""
    return {key: _machine(key, {}) for key in ("a40", "vcpu")}


def rate_lines(machines: dict[str, MachineRates]) -> list[str]:
    """One line per number: its value and whose it is (yours from lab 01, or the reference with its source)."""
    lines = []
    for m in machines.values():
        lines.append(f"{m.label}:")
        for name in ("bandwidth_gbs", "gemm_tflops", "launch_us"):
            r = getattr(m, name)
            lines.append(f"  {name.split('_')[0]:9s} {r.value:10.4g} {r.unit:8s} {r.source}")
    if not records_progress():
        lines.append(
            "No lab 01 measurements are read by this run (not your own copy of the lab): the reference "
            "measurements above stand in."
        )
    elif not any(getattr(m, n).own for m in machines.values() for n in ("bandwidth_gbs", "gemm_tflops")):
        lines.append(
            "No lab 01 measurements in this state directory: the reference measurements above stand in. "
            "Run lab 01 first to size the capstone from your own numbers."
        )
    return lines
