"""Object store latency against object size: one PUT and one GET is one HTTP request each.

The same cell runs on both backends: the requests go through openstacksdk to Swift (live) or to
the sandbox's object store. Small objects show the fixed cost of a request; large ones the bandwidth.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from ..textreport import TextReport

KiB, MiB = 1024, 1024 * 1024
DEFAULT_SIZES = (1 * KiB, 16 * KiB, 256 * KiB, 1 * MiB, 8 * MiB)


@dataclass(repr=False)
class ObjectLatency(TextReport):
    container: str
    rows: list[dict] = field(default_factory=list)  # size_bytes, op, seconds (list), median_ms

    def median_ms(self, op: str, size_bytes: int) -> float:
        for r in self.rows:
            if r["op"] == op and r["size_bytes"] == size_bytes:
                return r["median_ms"]
        raise KeyError(f"{op} {size_bytes}")

    def lines(self) -> list[str]:
        lines = [f"container {self.container}: median of {len(self.rows[0]['seconds']) if self.rows else 0} requests",
                 f"{'size':>8} {'op':>4} {'median ms':>10} {'MiB/s':>8}"]
        for r in self.rows:
            size = f"{r['size_bytes'] // KiB} KiB" if r["size_bytes"] < MiB else f"{r['size_bytes'] // MiB} MiB"
            lines.append(f"{size:>8} {r['op']:>4} {r['median_ms']:>10.2f} {r['size_bytes'] / MiB / (r['median_ms'] / 1e3):>8.1f}")
        return lines

    def summary(self) -> dict:
        return {f"{r['op']} {r['size_bytes']}": round(r["median_ms"], 3) for r in self.rows}


def measure_object_latency(conn, container: str, *, sizes: tuple[int, ...] = DEFAULT_SIZES, repeats: int = 3,
                           prefix: str = "latency-probe/", keep: bool = False) -> ObjectLatency:
    """Time ``repeats`` PUTs and GETs of one object per size; the objects are deleted afterwards unless ``keep``."""
    result = ObjectLatency(container)
    for size in sizes:
        data = os.urandom(size)
        name = f"{prefix}{size}"
        timings: dict[str, list[float]] = {"PUT": [], "GET": []}
        for _ in range(repeats):
            t0 = time.perf_counter()
            conn.object_store.upload_object(container=container, name=name, data=data)
            t1 = time.perf_counter()
            body = conn.object_store.download_object(name, container=container)
            t2 = time.perf_counter()
            if len(body) != size:
                from ..errors import ServiceError

                raise ServiceError(f"GET {name} returned {len(body)} bytes, PUT sent {size}.", hint="Run the cell again.")
            timings["PUT"].append(t1 - t0)
            timings["GET"].append(t2 - t1)
        for op, seconds in timings.items():
            result.rows.append({"size_bytes": size, "op": op, "seconds": seconds,
                                "median_ms": statistics.median(seconds) * 1e3})
        if not keep:
            conn.object_store.delete_object(name, container=container, ignore_missing=True)
    return result
