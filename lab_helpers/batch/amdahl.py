"""Amdahl's law: what a serial part does to the speedup of N workers (GPUs, nodes)."""

from __future__ import annotations

from ..errors import UsageError

__all__ = ["efficiency", "parallel_fraction", "speedup"]


def speedup(parallel_fraction: float, workers: int) -> float:
    """1 / ((1 - p) + p / N): the part that cannot be split bounds the speedup by 1 / (1 - p)."""
    p = float(parallel_fraction)
    if not 0.0 <= p <= 1.0:
        raise UsageError(
            f"the parallel fraction must lie between 0 and 1, not {p}.",
            hint="p = parallel time / total time on one worker.",
        )
    if int(workers) < 1:
        raise UsageError(f"workers must be at least 1, not {workers}.", hint="Count GPUs (or nodes).")
    return 1.0 / ((1.0 - p) + p / int(workers))


def parallel_fraction(serial_s: float, parallel_s: float) -> float:
    """p from measured times on one worker: the share of the time that could be split."""
    total = float(serial_s) + float(parallel_s)
    if total <= 0:
        raise UsageError("both times are zero.", hint="Pass measured seconds for the serial and the parallel part.")
    return float(parallel_s) / total


def efficiency(parallel_fraction: float, workers: int) -> float:
    return speedup(parallel_fraction, workers) / int(workers)
