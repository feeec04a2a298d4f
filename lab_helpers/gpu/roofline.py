"""The roofline: attainable performance = min(peak compute, bandwidth x arithmetic intensity).

``predict_seconds`` is the same model read backwards: a kernel takes at least as long as its
bytes need at the memory bandwidth and as long as its FLOPs need at the peak; whichever is
longer bounds it. ``measured_roof`` is a CPU's own roof, from what it measured. The figure that
draws all this is :mod:`lab_helpers.viz.roofline`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .specs import GpuSpec, a40


@dataclass(frozen=True)
class Roof:
    label: str
    bandwidth_gbps: float
    peaks_tflops: dict[str, float]  # precision -> TFLOP/s

    @classmethod
    def from_spec(cls, spec: GpuSpec, precisions: tuple[str, ...] = ("fp32", "tf32", "fp16")) -> Roof:
        peaks = {p: v for p in precisions if (v := spec.peak_tflops(p))}
        return cls(f"{spec.name} (datasheet)", spec.bandwidth_gbps, peaks)

    def ridge(self, precision: str = "fp32") -> float:
        """The intensity (FLOP/byte) where this roof turns from memory-bound to compute-bound."""
        return self.peaks_tflops[precision] * 1e12 / (self.bandwidth_gbps * 1e9)


def attainable_tflops(intensity: float, bandwidth_gbps: float, peak_tflops: float) -> float:
    """The roofline: what a kernel of ``intensity`` FLOP/byte can reach."""
    return min(peak_tflops, bandwidth_gbps * 1e9 * intensity / 1e12)


def predict_seconds(nbytes: float, nflops: float, spec: GpuSpec | None = None, precision: str = "fp32") -> float:
    """The roofline's lower bound on a kernel's time on ``spec`` (default: the A40)."""
    spec = spec or a40()
    peak = spec.peak_tflops(precision) or spec.fp32_tflops
    return max(nbytes / (spec.bandwidth_gbps * 1e9), nflops / (peak * 1e12))


def bound_by(nbytes: float, nflops: float, spec: GpuSpec | None = None, precision: str = "fp32") -> str:
    """'memory' or 'compute': which roof limits the kernel on ``spec``."""
    spec = spec or a40()
    peak = spec.peak_tflops(precision) or spec.fp32_tflops
    return "memory" if nbytes / (spec.bandwidth_gbps * 1e9) >= nflops / (peak * 1e12) else "compute"


STREAM_KERNELS = ("copy", "scale", "add", "triad", "dot")


def beyond_cache(r, cache_bytes: int) -> bool:
    """A stream result whose arrays do not fit in the last-level cache: it measured DRAM."""
    return r.working_set_bytes is None or r.working_set_bytes > cache_bytes


def measured_roof(report, points: list | None = None) -> Roof | None:
    """The CPU's own roofs: the best DRAM bandwidth and the best GEMM of each precision measured so far.

    "Best" spans the suite and any later ``points`` (the widget's), so no measured point beyond
    the cache can sit above this roof. A stream whose arrays fit in the cache is left out: it
    measures the cache's bandwidth and may rise above the DRAM roof (the figure says so).
    """
    every = [r for r in report.headline()] + list(points or [])
    cache = report.device.cache_bytes
    streams = [r.gbps for r in every if r.kernel in STREAM_KERNELS and r.gbps and beyond_cache(r, cache)]
    peaks: dict[str, float] = {}
    for r in every:
        if r.kernel == "gemm" and r.flops and r.seconds:
            peaks[r.variant] = max(peaks.get(r.variant, 0.0), r.flops / r.seconds / 1e12)
    if not streams or not peaks:
        return None
    return Roof("this CPU (measured)", max(streams), peaks)
