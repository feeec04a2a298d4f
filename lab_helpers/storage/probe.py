"""Block I/O probe: sequential and random reads and writes on one file or device, page cache bypassed.

Standard library only, because the same source runs in two places: in the learner's kernel on a
sandbox volume's backing file, and on the lab's VM over ssh against the attached device
(``sudo python3 - TARGET PARAMS_JSON`` with this file on stdin). It prints one JSON object.

The page cache would turn a disk test into a memory test. Where the OS allows it the file is
opened with O_DIRECT (every request goes to the device; buffers must be aligned, hence mmap);
where O_DIRECT is refused (tmpfs, some filesystems) the cache is dropped with
posix_fadvise(DONTNEED) before each pattern and writes are fsync'ed inside the timing; macOS has
neither, and the result says so.
"""

from __future__ import annotations

import glob
import json
import mmap
import os
import random
import sys
import time

MiB = 1 << 20


def resolve(target: str) -> str:
    """``volume:<id>`` -> the device whose serial carries the volume id (virtio-blk and virtio-scsi)."""
    if not target.startswith("volume:"):
        return target
    vid = target.split(":", 1)[1]
    for pattern in (f"/dev/disk/by-id/*{vid[:20]}*", f"/dev/disk/by-id/*{vid.replace('-', '')[:20]}*"):
        hits = sorted(p for p in glob.glob(pattern) if "-part" not in p)
        if hits:
            return os.path.realpath(hits[0])
    raise FileNotFoundError(f"no device for volume {vid} under /dev/disk/by-id (is it attached to this VM?)")


def _open(path: str, want_direct: bool) -> tuple[int, str]:
    flags = os.O_RDWR
    if want_direct and hasattr(os, "O_DIRECT"):
        try:
            fd = os.open(path, flags | os.O_DIRECT)
            buf = mmap.mmap(-1, 4096)
            try:
                os.preadv(fd, [buf], 0)  # tmpfs accepts the open and refuses the read: try one
                return fd, "O_DIRECT"
            except OSError:
                os.close(fd)
            finally:
                buf.close()
        except OSError:
            pass
    fd = os.open(path, flags)
    if hasattr(os, "posix_fadvise"):
        return fd, "posix_fadvise(DONTNEED)"
    return fd, "none (this OS has neither O_DIRECT nor posix_fadvise, e.g. macOS): reads may come from the page cache"


def _drop_cache(fd: int, mode: str, size: int) -> None:
    if mode.startswith("posix_fadvise"):
        os.fsync(fd)
        os.posix_fadvise(fd, 0, size, os.POSIX_FADV_DONTNEED)


def _prepare(fd: int, size: int) -> None:
    """Write the whole test region once (not timed): a sparse file or thin volume reads holes as free zeros."""
    chunk = mmap.mmap(-1, MiB)
    chunk.write(os.urandom(MiB))
    for offset in range(0, size, MiB):
        os.pwritev(fd, [chunk], offset)
    os.fsync(fd)
    chunk.close()


def _pattern(
    fd: int, mode: str, *, op: str, order: str, block: int, size: int, max_ops: int, budget_s: float, rng: random.Random
) -> dict:
    buf = mmap.mmap(-1, block)  # page-aligned, as O_DIRECT requires
    buf.write(os.urandom(block))
    slots = size // block
    if order == "sequential":
        offsets = [(i % slots) * block for i in range(max_ops)]
    else:
        offsets = [rng.randrange(slots) * block for _ in range(max_ops)]
    _drop_cache(fd, mode, size)
    call = os.preadv if op == "read" else os.pwritev
    lat = []
    start = time.perf_counter()
    deadline = time.monotonic() + budget_s  # a deadline, not a measurement: the wall clock's
    for offset in offsets:
        t0 = time.perf_counter()
        call(fd, [buf], offset)
        t1 = time.perf_counter()
        lat.append(t1 - t0)
        if time.monotonic() > deadline:
            break
    if op == "write" and mode != "O_DIRECT":
        os.fsync(fd)  # without O_DIRECT a write lands in memory; the fsync is the device's part
    seconds = time.perf_counter() - start
    buf.close()
    lat.sort()
    n = len(lat)
    return {
        "pattern": f"{order} {op}",
        "order": order,
        "op": op,
        "block_bytes": block,
        "ops": n,
        "seconds": seconds,
        "iops": n / seconds,
        "mib_s": n * block / seconds / MiB,
        "p50_us": lat[n // 2] * 1e6,
        "p99_us": lat[min(n - 1, int(n * 0.99))] * 1e6,
    }


def run(
    target: str,
    *,
    size_mib: int = 64,
    block: int = 4096,
    large_block: int = MiB,
    max_ops: int = 4000,
    budget_s: float = 0.5,
    direct: bool = True,
    seed: int = 3,
) -> dict:
    """Measure sequential and random reads and writes of ``block`` bytes (and sequential ``large_block``)."""
    path = resolve(target)
    size = size_mib * MiB
    fd, mode = _open(path, direct)
    rng = random.Random(seed)
    try:
        _prepare(fd, size)
        rows = []
        for order, op in (("sequential", "read"), ("random", "read"), ("sequential", "write"), ("random", "write")):
            rows.append(
                _pattern(
                    fd, mode, op=op, order=order, block=block, size=size, max_ops=max_ops, budget_s=budget_s, rng=rng
                )
            )
        if large_block:
            for op in ("read", "write"):
                rows.append(
                    _pattern(
                        fd,
                        mode,
                        op=op,
                        order="sequential",
                        block=large_block,
                        size=size,
                        max_ops=size // large_block,
                        budget_s=budget_s,
                        rng=rng,
                    )
                )
    finally:
        os.close(fd)
    return {"cache": mode, "size_mib": size_mib, "platform": sys.platform, "rows": rows}


def main(argv: list[str]) -> int:
    params = json.loads(argv[2]) if len(argv) > 2 else {}
    print(json.dumps(run(argv[1], **params)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
