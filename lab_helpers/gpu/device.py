"""What the labs run on: the GPU through CuPy when there is one, the CPU with NumPy otherwise.

``array_module()`` chooses ``xp`` once: CuPy only when the driver probe finds a GPU *and* CuPy
imports and can use it. ``describe()`` returns the device's properties beside its datasheet row.
CuPy is imported inside functions, never at module level.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Protocol

from .probe import probe
from .specs import GpuSpec, match_spec

__all__ = ["array_module", "describe", "release_memory"]


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "gpu" or "cpu"
    name: str
    xp: str  # "cupy" or "numpy"
    memory_bytes: int
    available_bytes: int  # what a benchmark may allocate (free GPU memory; host memory within limits)
    cache_bytes: int  # the last-level cache: L2 on a GPU, L3 (or L2) on a CPU
    sms: int | None = None
    cores: int | None = None
    bus_width_bits: int | None = None
    compute_capability: str = ""
    clock_mhz: float | None = None
    memory_clock_mhz: float | None = None
    driver_version: str = ""
    spec: GpuSpec | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_gpu(self) -> bool:
        return self.kind == "gpu"

    @property
    def spec_note(self) -> str:
        if not self.is_gpu:
            return "no device: this is the CPU, measured with NumPy; the A40's datasheet stands beside it"
        if self.spec is None:
            return f"no datasheet row for {self.name!r}: measured, but no fraction of peak can be given"
        return f"datasheet row: {self.spec.name} ({self.spec.source})"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["spec"] = self.spec.to_dict() if self.spec else None
        data["notes"] = list(self.notes)
        data["spec_note"] = self.spec_note
        return data

    def __str__(self) -> str:
        gib = 1024**3
        if self.is_gpu:
            line = (
                f"{self.name}: {self.sms} SMs, {self.memory_bytes / gib:.1f} GiB, L2 {self.cache_bytes / 2**20:.0f} MiB, "
                f"{self.bus_width_bits}-bit bus, compute capability {self.compute_capability}"
            )
        else:
            line = (
                f"CPU {self.name}: {self.cores} cores, {self.memory_bytes / gib:.1f} GiB RAM "
                f"({self.available_bytes / gib:.1f} GiB usable), last-level cache {self.cache_bytes / 2**20:.0f} MiB"
            )
        return "\n".join([line, self.spec_note, *self.notes])


class _ChoosesArrays(Protocol):  # a backend (lab_helpers.backends), which imports this module
    def array_module(self) -> ModuleType: ...


@lru_cache(maxsize=1)
def cupy_or_reason() -> tuple[ModuleType | None, str]:
    """CuPy when a GPU is present and CuPy can compile and run on it, else (None, why not, in words)."""
    found = probe()
    if not found.available:
        return None, found.reason
    try:
        import cupy
    except ImportError:
        return None, "a GPU is present but CuPy is not installed (pip install 'visualizing-compute[gpu]')"
    try:
        if not cupy.is_available():
            return None, "CuPy is installed but cannot use the GPU (driver and CuPy wheel may not match)"
    except Exception as exc:  # a broken CUDA install must not stop the CPU path
        return None, f"CuPy could not reach the GPU ({type(exc).__name__}: {exc})"
    try:  # every CuPy elementwise kernel is compiled at run time with NVRTC
        int((cupy.arange(4) + 1).sum())
    except Exception as exc:
        return None, (
            f"CuPy cannot compile kernels ({type(exc).__name__}: {str(exc)[:120]}); "
            "install NVRTC with the wheel's extra: pip install 'cupy-cuda12x[ctk]'"
        )
    return cupy, ""


def array_module(backend: _ChoosesArrays | None = None) -> ModuleType:
    """The ``xp`` every kernel takes.

    ``backend`` (``course.backend``) chooses: NumPy on the sandbox, CuPy on the live backend's GPU
    (without a usable one it says why, and uses NumPy). ``None`` (the ``lab bench gpu`` command):
    CuPy when a usable GPU is present, else NumPy.
    """
    if backend is not None:
        return backend.array_module()
    cupy, _ = cupy_or_reason()
    if cupy is not None:
        return cupy
    import numpy

    return numpy


def release_memory(xp: ModuleType) -> None:
    """Give cached device memory back (CuPy keeps freed blocks in a pool); nothing to do on the CPU."""
    if is_cupy(xp):
        xp.get_default_memory_pool().free_all_blocks()
        xp.get_default_pinned_memory_pool().free_all_blocks()


def is_cupy(xp: ModuleType) -> bool:
    return getattr(xp, "__name__", "") == "cupy"


def describe(xp: ModuleType | None = None) -> DeviceInfo:
    """The device ``xp`` runs on (default: the one ``array_module()`` picks)."""
    xp = xp or array_module()
    if is_cupy(xp):
        return _describe_gpu(xp)
    _, reason = cupy_or_reason()
    return _describe_cpu(reason)


def _describe_gpu(cupy: ModuleType) -> DeviceInfo:
    runtime = cupy.cuda.runtime
    device_id = cupy.cuda.Device().id
    props = runtime.getDeviceProperties(device_id)
    raw_name = props.get("name", b"")
    name = raw_name.decode(errors="replace") if isinstance(raw_name, bytes) else str(raw_name)
    # CUDA 13 removed clockRate and memoryClockRate from the properties struct: ask for attributes.
    try:
        attributes = cupy.cuda.Device(device_id).attributes
    except Exception:
        attributes = {}
    free, total = runtime.memGetInfo()
    clock = attributes.get("ClockRate")
    mem_clock = attributes.get("MemoryClockRate")
    return DeviceInfo(
        kind="gpu",
        name=name,
        xp="cupy",
        memory_bytes=int(props.get("totalGlobalMem", total)),
        available_bytes=int(free),
        cache_bytes=int(props.get("l2CacheSize", attributes.get("L2CacheSize", 0))),
        sms=int(props.get("multiProcessorCount", attributes.get("MultiProcessorCount", 0))),
        bus_width_bits=int(props.get("memoryBusWidth", attributes.get("GlobalMemoryBusWidth", 0))),
        compute_capability=f"{props.get('major', '?')}.{props.get('minor', '?')}",
        clock_mhz=clock / 1000 if clock else None,
        memory_clock_mhz=mem_clock / 1000 if mem_clock else None,
        driver_version=probe().driver_version,
        spec=match_spec(name),
        notes=(f"CuPy {cupy.__version__}",),
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def cpu_name() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    try:
        return int(text.rstrip("KMG")) * scale
    except ValueError:
        return 0


def last_level_cache_bytes() -> int:
    """The largest cache Linux reports for CPU 0 (L3 on most servers); 32 MiB when unknown."""
    sizes = [_size(_read(str(p))) for p in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size")]
    return max(sizes, default=0) or 32 * 2**20


def host_memory() -> tuple[int, int]:
    """(total, usable) bytes of host memory; usable honours a container's limit (Binder gives ~2 GB) and
    the process's address-space limit."""
    total = available = 0
    for line in _read("/proc/meminfo").splitlines():
        key, _, value = line.partition(":")
        if key == "MemTotal":
            total = int(value.split()[0]) * 1024
        if key == "MemAvailable":
            available = int(value.split()[0]) * 1024
    if not total:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 4 * 1024**3
    available = available or total // 2
    # A container's limit (cgroup v2, then v1) minus what it already uses.
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit, usage = _read(limit_file), _read(usage_file)
        if limit.isdigit() and int(limit) < total:
            used = int(usage) if usage.isdigit() else 0
            available = min(available, max(int(limit) - used, int(limit) // 4))
            break
    room = address_space_room()
    if room is not None:
        available = min(available, room)
    return total, available


def address_space_room() -> int | None:
    """Bytes this process may still map under its address-space limit (a grader's RLIMIT_AS), or None
    when it has none. Arrays sized from the machine's memory alone would stop at MemoryError there."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = 0
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("VmSize:"):
            mapped = int(line.split()[1]) * 1024
    return max(soft - mapped, 0)


def _describe_cpu(reason: str) -> DeviceInfo:
    total, available = host_memory()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    notes = ["no device; host copies only"]
    if reason:
        notes.append(f"why the CPU: {reason}")
    else:
        notes.append(
            "why the CPU: the sandbox measures the CPU with NumPy although a GPU is usable (BACKEND='live' measures the GPU)"
        )
    return DeviceInfo(
        kind="cpu",
        name=cpu_name(),
        xp="numpy",
        memory_bytes=total,
        available_bytes=available,
        cache_bytes=last_level_cache_bytes(),
        cores=cores,
        notes=tuple(notes),
    )


def per_core_l2_bytes() -> int | None:
    """This CPU's per-core L2 cache (Linux sysfs), or None where the system does not say."""
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            if (index / "level").read_text().strip() != "2":
                continue
            size = (index / "size").read_text().strip().upper()
        except OSError:
            continue
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
    return None
