"""Is there an NVIDIA GPU? Answered through the CUDA driver with ctypes, never importing CuPy.

``cuInit`` and ``cuDeviceGetCount`` from ``libcuda`` take well under a millisecond, and a
machine with no driver simply reports no GPU: nothing here raises.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class GpuProbe:
    available: bool
    count: int
    names: tuple[str, ...]
    driver_version: str  # "" when unknown
    reason: str  # why not available, in words


def _library_names() -> list[str]:
    if sys.platform == "win32":
        return ["nvcuda.dll"]
    if sys.platform == "darwin":
        return []  # no CUDA driver on macOS
    # The driver always installs the soname libcuda.so.1; ctypes.util.find_library would spawn
    # ldconfig and cost tens of milliseconds.
    return ["libcuda.so.1", "libcuda.so"]


@lru_cache(maxsize=1)
def probe() -> GpuProbe:
    lib = None
    for name in _library_names():
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return GpuProbe(False, 0, (), "", "no NVIDIA driver (libcuda) on this machine")
    try:
        if lib.cuInit(0) != 0:
            return GpuProbe(False, 0, (), "", "the NVIDIA driver is present but cuInit failed (no usable GPU)")
        count = ctypes.c_int(0)
        if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
            return GpuProbe(False, 0, (), "", "the NVIDIA driver reports no GPU")
        version = ctypes.c_int(0)
        lib.cuDriverGetVersion(ctypes.byref(version))
        names = []
        for i in range(count.value):
            dev = ctypes.c_int(0)
            buf = ctypes.create_string_buffer(256)
            if lib.cuDeviceGet(ctypes.byref(dev), i) == 0 and lib.cuDeviceGetName(buf, 256, dev) == 0:
                names.append(buf.value.decode(errors="replace"))
        v = version.value
        return GpuProbe(True, count.value, tuple(names), f"{v // 1000}.{(v % 1000) // 10}" if v else "", "")
    except (AttributeError, OSError) as exc:
        return GpuProbe(False, 0, (), "", f"the CUDA driver could not be queried ({exc})")
