"""The benchmark kernels, written once over ``xp`` (``cupy`` on a GPU, ``numpy`` on the CPU).

Bytes are counted the STREAM way: each array read or written once is one *stream* of
``n * itemsize`` bytes. copy and scale move 2 streams, add and triad 3, dot 2. The naive triad
``a = b + s*c`` is counted with what it really moves: ``s*c`` reads c and writes a temporary (2),
then ``b + tmp`` reads both and writes the result (3): 5 streams, not 3.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType
from typing import Any

from .device import is_cupy

__all__ = ["make_arrays"]

# streams moved per element, by (kernel, variant); variant "" = the only one
STREAMS: dict[tuple[str, str], int] = {
    ("copy", ""): 2,
    ("scale", ""): 2,
    ("add", ""): 3,
    ("triad", "single-pass"): 3,
    ("triad", "naive"): 5,
    ("dot", ""): 2,
}

# floating-point operations per element
FLOPS_PER_ELEMENT: dict[str, int] = {"copy": 0, "scale": 1, "add": 1, "triad": 2, "dot": 2}


def streams(kernel: str, variant: str = "") -> int:
    """How many arrays of n elements the kernel reads or writes (see the module docstring)."""
    key = (kernel, variant if kernel == "triad" else "")
    if key not in STREAMS:
        from ..errors import UsageError

        raise UsageError(f"no byte count for kernel {kernel!r} variant {variant!r}.", hint=f"Known: {sorted(STREAMS)}.")
    return STREAMS[key]


def bytes_moved(kernel: str, n: int, itemsize: int, variant: str = "") -> int:
    """Bytes a STREAM kernel moves over ``n`` elements of ``itemsize`` bytes."""
    return streams(kernel, variant) * n * itemsize


def flops(kernel: str, n: int) -> int:
    return FLOPS_PER_ELEMENT[kernel] * n


def gemm_flops(n: int) -> int:
    """An n x n by n x n matrix product: n^2 outputs, each n multiplies and n adds."""
    return 2 * n**3


def gemm_bytes(n: int, itemsize: int) -> int:
    """The least a GEMM must move: read A and B, write C once each."""
    return 3 * n * n * itemsize


# --- the kernels ---------------------------------------------------------------------------


def copy(xp: ModuleType, a: Any, b: Any) -> None:
    """a = b"""
    xp.copyto(a, b)


def scale(xp: ModuleType, a: Any, b: Any, s: float) -> None:
    """a = s * b"""
    xp.multiply(b, s, out=a)


def add(xp: ModuleType, a: Any, b: Any, c: Any) -> None:
    """a = b + c"""
    xp.add(b, c, out=a)


def triad_naive(xp: ModuleType, b: Any, c: Any, s: float) -> Any:
    """a = b + s*c as people first write it: a temporary for s*c and a fresh result array."""
    return b + s * c


@lru_cache(maxsize=1)
def _triad_elementwise_kernel():
    import cupy

    # One pass: each thread reads b[i] and c[i] and writes a[i]; no temporary.
    return cupy.ElementwiseKernel("T b, T c, T s", "T a", "a = b + s * c", "lab_triad")


def triad_single_pass(xp: ModuleType, a: Any, b: Any, c: Any, s: float) -> None:
    """a = b + s*c in one pass: an ElementwiseKernel on the GPU, numexpr on the CPU."""
    if is_cupy(xp):
        _triad_elementwise_kernel()(b, c, a.dtype.type(s), a)
        return
    try:
        import numexpr
    except ImportError:  # cache-blocked NumPy: the temporary stays in L2
        triad_blocked(xp, a, b, c, s)
        return
    numexpr.evaluate("b + s * c", local_dict={"b": b, "c": c, "s": a.dtype.type(s)}, out=a, casting="same_kind")


def single_pass_method(xp: ModuleType) -> str:
    """Which single-pass triad ``triad_single_pass`` uses on this device."""
    if is_cupy(xp):
        return "one CuPy ElementwiseKernel"
    try:
        import numexpr  # noqa: F401
    except ImportError:
        return "cache-blocked NumPy (numexpr is not installed)"
    return "numexpr"


def triad_blocked(xp: ModuleType, a: Any, b: Any, c: Any, s: float, block: int = 131072) -> None:
    """a = b + s*c with NumPy in blocks small enough that the temporary stays in cache.

    1 MiB of float64 per block measured best on a 2-core EPYC (1 MiB of L2 per core): smaller blocks pay
    Python overhead per block, larger ones push the temporary out to DRAM.
    """
    tmp = xp.empty(min(block, a.size), dtype=a.dtype)
    for start in range(0, a.size, block):
        stop = min(start + block, a.size)
        t = tmp[: stop - start]
        xp.multiply(c[start:stop], s, out=t)
        xp.add(b[start:stop], t, out=a[start:stop])


def dot(xp: ModuleType, a: Any, b: Any) -> Any:
    """sum(a * b): a reduction that reads two streams and writes one number."""
    return xp.dot(a, b)


def gemm(xp: ModuleType, a: Any, b: Any, out: Any | None = None) -> Any:
    """C = A @ B through the BLAS (cuBLAS on the GPU)."""
    return xp.matmul(a, b, out=out)


# On the CPU, arrays whose start addresses differ by a large power of two compete for the same
# cache sets (and alias in the load/store unit), which can cost a third of the bandwidth. STREAM
# pads its arrays for this reason; so do we, by a different odd number of cache lines each.
CPU_PAD_ELEMENTS = 520


def make_arrays(xp: ModuleType, n: int, dtype: str = "float64", count: int = 3) -> list[Any]:
    """``count`` arrays of n elements, filled (touched) so no page fault lands inside a timing."""
    pad = 0 if is_cupy(xp) else CPU_PAD_ELEMENTS
    arrays = []
    for i in range(count):
        raw = xp.full(n + pad * i, float(i + 1), dtype=dtype)
        arrays.append(raw[pad * i :])
    return arrays
