"""The benchmark suite: each measurement a ``Result``, the run a ``BenchReport``.

Runs on the GPU with CuPy, or on the CPU with NumPy when there is none; the device description
says which. Nothing here imports plotly or jupyter: ``python -m lab_helpers bench gpu`` must run
on a GPU node that has only NumPy, CuPy and PyYAML.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType

from . import kernels as K
from .device import DeviceInfo, array_module, describe, is_cupy
from .timing import time_call, time_launch

__all__ = ["headline_elements", "measure_gemm", "run_suite"]

STREAM_KERNELS = ("copy", "scale", "add", "triad", "dot")
GEMM_PRECISIONS_GPU = ("fp32", "tf32", "fp16", "bf16")
GEMM_PRECISIONS_CPU = ("fp32", "fp64")
_DTYPE = {"fp64": "float64", "fp32": "float32", "tf32": "float32", "fp16": "float16", "bf16": "bfloat16"}


@dataclass
class Result:
    """One measurement. ``fraction_of_peak`` is None where no peak is known."""

    kernel: str
    variant: str
    dtype: str
    n: int
    seconds: float
    bytes: int | None = None
    flops: int | None = None
    gbps: float | None = None
    tflops: float | None = None
    fraction_of_peak: float | None = None
    peak: float | None = None  # in the unit of gbps or tflops
    peak_source: str = ""
    working_set_bytes: int | None = None
    note: str = ""

    @property
    def intensity(self) -> float | None:
        """Arithmetic intensity in FLOP per byte (None for pure data movement)."""
        return self.flops / self.bytes if self.flops and self.bytes else None

    def set_peak(self, peak: float | None, source: str) -> None:
        value = self.gbps if self.gbps is not None else self.tflops
        self.peak, self.peak_source = peak, source
        self.fraction_of_peak = round(value / peak, 4) if peak and value is not None else None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(repr=False)
class BenchReport:
    device: DeviceInfo
    results: list[Result] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    wall_s: float = 0.0

    def find(self, kernel: str, variant: str = "") -> Result | None:
        for r in self.results:
            if r.kernel == kernel and (not variant or r.variant == variant):
                return r
        return None

    def headline(self) -> list[Result]:
        return [r for r in self.results if not r.variant.startswith("sweep-")]

    def sweep(self) -> list[Result]:
        return [r for r in self.results if r.variant.startswith("sweep-")]

    def to_dict(self) -> dict:
        return {
            "device": self.device.to_dict(),
            "results": [r.to_dict() for r in self.results],
            "skipped": list(self.skipped),
            "wall_s": round(self.wall_s, 3),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def table(self) -> str:
        from .report import as_table

        return as_table(self)

    def __str__(self) -> str:
        return self.table()

    __repr__ = __str__  # the text a notebook or terminal shows is the table

    def _repr_html_(self) -> str:
        from .report import as_html

        return as_html(self)


# --- sizes ---------------------------------------------------------------------------------


def headline_elements(device: DeviceInfo, itemsize: int = 8) -> int:
    """Elements per array for the headline records: far beyond the last-level cache, within memory.

    ``LAB_BENCH_ELEMENTS`` overrides (tests use a small value).
    """
    from ..config import bench_elements

    override = bench_elements()
    if override:
        return override
    if device.is_gpu:
        want = max(16 * device.cache_bytes, 256 * 2**20)
        cap = min(2**30, device.available_bytes // 8)
    else:
        # At most 256 MiB an array: a CPU reporting a huge shared L3 (480 MiB on some recent Xeons) would
        # otherwise ask for 2 GiB arrays, slow to fill and time; the triad's three still span 768 MiB.
        want = min(max(4 * device.cache_bytes, 64 * 2**20), 256 * 2**20)
        cap = device.available_bytes // (5 * 4)  # 5 arrays live during the naive triad, a quarter of what is free
    n = int(min(want, cap) // itemsize)
    # A round decimal size rather than a power of two keeps the arrays off the same cache sets.
    return max(1024, n - n % 1_000_000 if n > 2_000_000 else n)


def sweep_elements(device: DeviceInfo, largest: int, itemsize: int = 8, points: int | None = None) -> list[int]:
    """Array sizes from 16 KiB per array (inside any cache) doubling up to ``largest`` elements."""
    sizes, n = [], (16 * 1024) // itemsize
    while n < largest:
        sizes.append(n)
        n *= 2
    sizes.append(largest)
    if points and len(sizes) > points:
        step = (len(sizes) - 1) / (points - 1)
        sizes = [sizes[round(i * step)] for i in range(points)]
    return sizes


# --- measurements ----------------------------------------------------------------------------


def _sync(xp: ModuleType) -> None:
    if is_cupy(xp):
        xp.cuda.Device().synchronize()


def measure_stream(
    xp: ModuleType,
    kernel: str,
    n: int,
    dtype: str = "float64",
    variant: str = "",
    repeat: int = 5,
    arrays: list | None = None,
) -> Result:
    """Time one STREAM kernel over arrays of ``n`` elements; bandwidth counted the STREAM way."""
    a, b, c = arrays if arrays is not None else K.make_arrays(xp, n, dtype)
    s = 3.0
    if kernel == "triad":
        variant = variant or "single-pass"
    calls = {
        "copy": lambda: K.copy(xp, a, b),
        "scale": lambda: K.scale(xp, a, b, s),
        "add": lambda: K.add(xp, a, b, c),
        "triad": (lambda: K.triad_naive(xp, b, c, s))
        if variant == "naive"
        else (lambda: K.triad_single_pass(xp, a, b, c, s)),
        "dot": lambda: K.dot(xp, b, c),
    }
    if kernel not in calls:
        from ..errors import UsageError

        raise UsageError(f"unknown kernel {kernel!r}.", hint=f"Choose one of {', '.join(calls)}.")
    timing = time_call(xp, calls[kernel], repeat=repeat)
    itemsize = xp.dtype(dtype).itemsize
    moved = K.bytes_moved(kernel, n, itemsize, variant)
    streams = K.streams(kernel, variant)
    note = ""
    if kernel == "triad" and variant == "naive":
        effective = K.bytes_moved(kernel, n, itemsize, "single-pass") / timing.best_s / 1e9
        note = (
            f"counted as {streams} streams (s*c writes a temporary, b+tmp a new array); "
            f"counted as 3 it would read {effective:.1f} GB/s"
        )
    elif kernel == "triad":
        note = f"single pass: {K.single_pass_method(xp)}"
    return Result(
        kernel=kernel,
        variant=variant,
        dtype=str(xp.dtype(dtype)),
        n=n,
        seconds=timing.best_s,
        bytes=moved,
        flops=K.flops(kernel, n),
        gbps=round(moved / timing.best_s / 1e9, 3),
        working_set_bytes=(2 if kernel in ("copy", "scale", "dot") else 3) * n * itemsize,
        note=note,
    )


def _gemm_dtype(xp: ModuleType, precision: str):
    if precision == "bf16":
        native = getattr(xp, "bfloat16", None)  # array libraries that ship the type themselves
        if native is not None:
            return native
        try:
            import ml_dtypes  # NumPy's bfloat16, which newer CuPy accepts

            return ml_dtypes.bfloat16
        except ImportError:
            return None
    return xp.dtype(_DTYPE[precision])


def measure_gemm(xp: ModuleType, n: int, precision: str = "fp32", repeat: int = 3) -> Result:
    """Time an n x n matrix product in ``precision``. TF32 needs ``CUPY_TF32=1`` before the first matmul."""
    dtype = _gemm_dtype(xp, precision)
    if dtype is None:
        raise NotImplementedError(
            "this array library has no bfloat16 type and ml_dtypes is not installed; no BF16 number rather than a fake one"
        )
    a = xp.ones((n, n), dtype=dtype)
    b = xp.ones((n, n), dtype=dtype)
    out = xp.empty((n, n), dtype=dtype)
    timing = time_call(xp, lambda: K.gemm(xp, a, b, out=out), repeat=repeat)
    work = K.gemm_flops(n)
    note = ""
    if precision == "fp32" and is_cupy(xp) and os.environ.get("CUPY_TF32", "0") not in ("", "0"):
        note = "CUPY_TF32 is set in this process, so this float32 matmul ran on TF32 tensor cores"
    return Result(
        kernel="gemm",
        variant=precision,
        dtype=str(xp.dtype(dtype)) if precision != "bf16" else "bfloat16",
        n=n,
        seconds=timing.best_s,
        flops=work,
        bytes=K.gemm_bytes(n, xp.dtype(dtype).itemsize),
        tflops=round(work / timing.best_s / 1e12, 4),
        note=note,
    )


def _gemm_in_child(precision: str, n: int, tf32: bool) -> Result:
    """Run one GEMM in a fresh interpreter, where ``CUPY_TF32`` can still decide the math mode."""
    here = str(Path(__file__).resolve().parents[2])  # the checkout (or site-packages) holding lab_helpers
    env = dict(
        os.environ,
        CUPY_TF32="1" if tf32 else "0",
        PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH", "")])),
    )
    code = (
        "import json, cupy\nfrom lab_helpers.gpu.bench import measure_gemm\n"
        f"print(json.dumps(measure_gemm(cupy, {int(n)}, {precision!r}).to_dict()))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["variant"] = "tf32" if tf32 else precision
    data["note"] = "float32 inputs, TF32 tensor cores (CUPY_TF32=1 in a fresh process)" if tf32 else ""
    return Result(**data)


def measure_copies(xp: ModuleType, n: int, repeat: int = 10) -> list[Result]:
    """Host-to-device and device-to-host copies from pageable and pinned host memory (GPU only)."""
    import cupyx
    import numpy

    dev = xp.empty(n, dtype=xp.float64)
    results = []
    for kind in ("pageable", "pinned"):
        host = numpy.ones(n) if kind == "pageable" else cupyx.empty_pinned((n,), dtype=numpy.float64)
        host[...] = 1.0
        for direction, fn in (("h2d", lambda h=host: dev.set(h)), ("d2h", lambda h=host: dev.get(out=h))):
            timing = time_call(xp, fn, repeat=repeat)
            moved = n * 8
            results.append(
                Result(
                    kernel=direction,
                    variant=kind,
                    dtype="float64",
                    n=n,
                    seconds=timing.best_s,
                    bytes=moved,
                    flops=0,
                    gbps=round(moved / timing.best_s / 1e9, 3),
                )
            )
    return results


def measure_launch(xp: ModuleType) -> Result:
    seconds = time_launch(xp)
    variant = "empty-kernel" if is_cupy(xp) else "numpy-call"
    note = (
        "a one-element kernel: the fixed cost of a launch"
        if is_cupy(xp)
        else "a one-element NumPy call: the CPU's fixed cost per operation"
    )
    return Result(kernel="launch", variant=variant, dtype="float64", n=1, seconds=seconds, bytes=0, flops=0, note=note)


def _assign_peaks(report: BenchReport) -> None:
    device, spec = report.device, report.device.spec
    copy = report.find("copy", "")
    for r in report.results:
        if r.kernel in STREAM_KERNELS:
            if device.is_gpu and spec:
                r.set_peak(spec.bandwidth_gbps, f"{spec.name} datasheet")
            elif not device.is_gpu and copy is not None:
                r.set_peak(copy.gbps, "this run's copy bandwidth (no datasheet for a CPU)")
        elif r.kernel == "gemm" and device.is_gpu and spec:
            r.set_peak(spec.peak_tflops(r.variant), f"{spec.name} datasheet, dense")
        elif r.kernel in ("h2d", "d2h") and spec and spec.host_link_gbps:
            r.set_peak(spec.host_link_gbps, f"{spec.name} host link, per direction")


def run_suite(
    xp: ModuleType | None = None,
    n: int | None = None,
    quick: bool = False,
    sweep: bool = True,
    gemm_n: int | None = None,
) -> BenchReport:
    """Measure every kernel on the device ``xp`` runs on (default: the GPU if usable, else the CPU).

    ``n``: elements per array for the headline records; ``gemm_n``: matrix size (default by device).
    """
    started = time.perf_counter()
    xp = xp or array_module()
    device = describe(xp)
    report = BenchReport(device)
    n = n or headline_elements(device)
    repeat = 3 if quick else 7
    arrays = K.make_arrays(xp, n)
    for kernel in STREAM_KERNELS:
        variants = ("naive", "single-pass") if kernel == "triad" else ("",)
        for variant in variants:
            report.results.append(measure_stream(xp, kernel, n, variant=variant, repeat=repeat, arrays=arrays))
    del arrays
    _gemms(xp, device, report, quick, gemm_n)
    if device.is_gpu:
        try:
            report.results.extend(measure_copies(xp, min(n, 2**25)))
        except Exception as exc:
            report.skipped.append({"kernel": "h2d/d2h", "reason": f"{type(exc).__name__}: {exc}"})
    else:
        for direction in ("h2d", "d2h"):
            for kind in ("pageable", "pinned"):
                report.skipped.append({"kernel": direction, "variant": kind, "reason": "no device; host copies only"})
    report.results.append(measure_launch(xp))
    if sweep:
        for size in sweep_elements(device, n, points=6 if quick else None):
            r = measure_stream(xp, "add", size, repeat=3)
            r.variant = f"sweep-{size}"
            report.results.append(r)
    _assign_peaks(report)
    report.wall_s = time.perf_counter() - started
    try:  # kept for lab 07, which sizes the capstone from the learner's own numbers
        from ..measurements import record_bench

        record_bench(report)
    except OSError:
        pass  # a read-only state directory: the lab's own numbers still stand in the notebook
    return report


def _gemms(xp: ModuleType, device: DeviceInfo, report: BenchReport, quick: bool, size: int | None) -> None:
    if device.is_gpu:
        size = size or (2048 if quick else (8192 if device.available_bytes > 4 * 2**30 else 4096))
        tf32_here = os.environ.get("CUPY_TF32", "0") not in ("", "0")
        for precision in GEMM_PRECISIONS_GPU:
            try:
                if precision == "tf32" or (precision == "fp32" and tf32_here):
                    report.results.append(_gemm_in_child("fp32", size, tf32=precision == "tf32"))
                else:
                    report.results.append(measure_gemm(xp, size, precision))
            except Exception as exc:  # e.g. a CuPy without bfloat16: say so, never fake a number
                report.skipped.append(
                    {"kernel": "gemm", "variant": precision, "reason": f"{type(exc).__name__}: {exc}"}
                )
    else:
        size = size or (256 if quick else 1024)
        for precision in GEMM_PRECISIONS_CPU:
            report.results.append(measure_gemm(xp, size, precision))
