"""Timing done right on both devices.

GPU: CUDA events around each call, through ``cupyx.profiler.benchmark`` (its ``gpu_times``; a
plain ``time.perf_counter`` around a CuPy call only measures the launch). Warm-up calls run first,
which also fill CuPy's memory pool so no allocation lands inside a timing.
CPU: ``time.perf_counter``, best of N. Short kernels are repeated inside one timing so the
timer's own cost stays small.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from .device import is_cupy

__all__ = ["time_call", "time_cpu"]


@dataclass(frozen=True)
class Timing:
    best_s: float  # the fastest call (what STREAM and BabelStream report)
    median_s: float
    calls: int  # calls timed
    method: str  # "cuda-events" or "perf_counter"


def time_cpu(fn: Callable[[], object], repeat: int = 5, warmup: int = 1, min_time_s: float = 2e-3) -> Timing:
    """Best-of-``repeat`` wall time of one call of ``fn``."""
    for _ in range(warmup):
        fn()
    # How many calls per timing so each timing lasts at least min_time_s.
    start = time.perf_counter()
    fn()
    single = max(time.perf_counter() - start, 1e-9)
    inner = max(1, min(10_000, int(min_time_s / single)))
    samples = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return Timing(min(samples), statistics.median(samples), repeat * inner, "perf_counter")


def time_gpu(fn: Callable[[], object], repeat: int = 20, warmup: int = 3) -> Timing:
    """Best-of-``repeat`` GPU time of one call, from CUDA events."""
    from cupyx.profiler import benchmark

    result = benchmark(fn, (), n_repeat=max(1, repeat), n_warmup=max(1, warmup))
    gpu = [float(t) for t in result.gpu_times.reshape(-1)]
    return Timing(min(gpu), statistics.median(gpu), len(gpu), "cuda-events")


def time_call(xp: ModuleType, fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> Timing:
    """Time ``fn`` the right way for the device ``xp`` runs on."""
    if is_cupy(xp):
        return time_gpu(fn, repeat=max(repeat, 10), warmup=max(warmup, 2))
    return time_cpu(fn, repeat=repeat, warmup=warmup)


def time_launch(xp: ModuleType, calls: int = 2000) -> float:
    """Seconds per call of a one-element kernel: the fixed cost every kernel launch pays.

    On the GPU this is the launch overhead, timed on the host over many back-to-back launches
    (then a synchronize); on the CPU it is the cost of one NumPy call on a one-element array.
    """
    a = xp.zeros(1)
    xp.add(a, 1.0, out=a)  # compile / warm
    if is_cupy(xp):
        xp.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        xp.add(a, 1.0, out=a)
    if is_cupy(xp):
        xp.cuda.Device().synchronize()
    return (time.perf_counter() - start) / calls
