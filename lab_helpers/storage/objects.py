"""Object store latency against object size, and a record of the object reads a cell makes.

The same cells run on both backends: the requests go through openstacksdk to Swift (live) or to
the sandbox's object store. Small objects show the fixed cost of a request; large ones the bandwidth.
``record_reads`` notes, for each GET of an object, the Range header it sent and the bytes that came
back: the evidence that a ranged read moved only the bytes it asked for.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..textreport import TextReport

__all__ = ["record_reads"]

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
        lines = [
            f"container {self.container}: median of {len(self.rows[0]['seconds']) if self.rows else 0} requests",
            f"{'size':>8} {'op':>4} {'median ms':>10} {'MiB/s':>8}",
        ]
        for r in self.rows:
            size = f"{r['size_bytes'] // KiB} KiB" if r["size_bytes"] < MiB else f"{r['size_bytes'] // MiB} MiB"
            lines.append(
                f"{size:>8} {r['op']:>4} {r['median_ms']:>10.2f} {r['size_bytes'] / MiB / (r['median_ms'] / 1e3):>8.1f}"
            )
        return lines

    def summary(self) -> dict:
        return {f"{r['op']} {r['size_bytes']}": round(r["median_ms"], 3) for r in self.rows}


def measure_object_latency(
    conn,
    container: str,
    *,
    sizes: tuple[int, ...] = DEFAULT_SIZES,
    repeats: int = 3,
    prefix: str = "latency-probe/",
    keep: bool = False,
) -> ObjectLatency:
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

                raise ServiceError(
                    f"GET {name} returned {len(body)} bytes, PUT sent {size}.", hint="Run the cell again."
                )
            timings["PUT"].append(t1 - t0)
            timings["GET"].append(t2 - t1)
        for op, seconds in timings.items():
            result.rows.append(
                {"size_bytes": size, "op": op, "seconds": seconds, "median_ms": statistics.median(seconds) * 1e3}
            )
        if not keep:
            conn.object_store.delete_object(name, container=container, ignore_missing=True)
    return result


@dataclass(frozen=True)
class ObjectRead:
    """One GET of an object, as the client sent and received it."""

    container: str
    name: str
    range: str  # the Range header sent ("" when the whole object was asked for)
    status: int  # 200: the whole object; 206: Partial Content
    bytes: int  # bytes of body that came back

    def __str__(self) -> str:
        asked = f"Range: {self.range}" if self.range else "no Range header (the whole object)"
        return f"GET {self.container}/{self.name}  {asked}  -> {self.status}, {self.bytes} bytes received"


class ObjectReads:
    """The object GETs one connection made while recording (see ``record_reads``)."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self.reads: list[ObjectRead] = []
        self._hooks: list | None = None
        self._base = urlsplit(str(conn.object_store.get_endpoint())).path.rstrip("/")

    def _on_response(self, response, *args: Any, **kwargs: Any):
        """A requests response hook: runs for every response the connection's session receives."""
        request = response.request
        if request is None or request.method != "GET":
            return response
        path = urlsplit(request.url).path
        if not path.startswith(self._base + "/"):
            return response  # not the object store
        container, _, name = path[len(self._base) + 1 :].partition("/")
        if not name:
            return response  # a listing of the account or of a container, not an object
        if kwargs.get("stream"):
            size = int(response.headers.get("Content-Length") or 0)  # do not consume a streamed body
        else:
            size = len(response.content)
        self.reads.append(
            ObjectRead(
                unquote(container),
                unquote(name),
                str(request.headers.get("Range") or ""),
                int(response.status_code),
                size,
            )
        )
        return response

    def __enter__(self) -> ObjectReads:
        hooks = self._conn.session.session.hooks.setdefault("response", [])
        hooks.append(self._on_response)
        self._hooks = hooks
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._hooks is not None and self._on_response in self._hooks:
            self._hooks.remove(self._on_response)
        self._hooks = None

    def of(self, container: str, name: str) -> list[dict]:
        """The recorded GETs of one object, as JSON (what a check receives as context)."""
        return [asdict(r) for r in self.reads if r.container == container and r.name == name]

    def __str__(self) -> str:
        if not self.reads:
            return "no object was read (GET) while recording"
        return "\n".join(str(r) for r in self.reads)

    __repr__ = __str__


def record_reads(conn) -> ObjectReads:
    """Record every GET of an object ``conn`` makes inside a ``with`` block: its Range header and bytes received.

    It hooks the connection's HTTP session on this side, so it works the same against the sandbox and
    Jetstream2: what it records is what crossed the network to this kernel.
    """
    return ObjectReads(conn)
