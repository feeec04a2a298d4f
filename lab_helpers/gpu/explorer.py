"""What lab 01's roofline explorer measures: a kernel, a size and a dtype, turned into one measurement.

The control itself (dropdowns, slider, the redrawn figure) is :func:`lab_helpers.viz.roofline.roofline_explorer`.
"""

from __future__ import annotations

from types import ModuleType

from .bench import Result, measure_gemm, measure_stream

__all__ = ["measure_choice"]

CHOICES = {
    "triad (single pass)": ("triad", "single-pass"),
    "triad (naive)": ("triad", "naive"),
    "scale": ("scale", ""),
    "add": ("add", ""),
    "dot": ("dot", ""),
    "gemm": ("gemm", ""),
}


def measure_choice(xp: ModuleType, choice: str, log2_n: int, dtype: str) -> Result:
    """One measurement as the widget asks for it; a GEMM uses a square matrix of about 2**(log2_n/2) rows.

    Stream kernels take the best of ``repeats_for(log2_n)`` runs: more at small sizes, where noise dominates.
    """
    kernel, variant = CHOICES[choice]
    if kernel == "gemm":
        side = min(int(2 ** (log2_n / 2)), 4096 if xp.__name__ == "numpy" else 16384)
        return measure_gemm(xp, side, "fp32" if dtype == "float32" else "fp64", repeat=3)
    return measure_stream(xp, kernel, 2**log2_n, dtype=dtype, variant=variant, repeat=repeats_for(log2_n))


def repeats_for(log2_n: int) -> int:
    """How many times to time a stream kernel of 2**log2_n elements (the best time counts).

    A small array takes microseconds, so one interruption by another process can double its
    time: tiny sizes get many more tries (at most 100), big ones 3, for about the same wall time.
    """
    return max(3, min(100, 2 ** (22 - log2_n))) if log2_n < 22 else 3


def largest_log2_n(xp: ModuleType, ceiling: int = 26) -> int:
    """The largest power-of-two array length whose five float64 arrays (the naive triad's) fit in a quarter of free memory."""
    import math

    from .device import describe

    free = describe(xp).available_bytes
    return max(14, min(ceiling, int(math.log2(max(free // (5 * 8 * 4), 1)))))
