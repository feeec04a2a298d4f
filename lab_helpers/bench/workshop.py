"""`lab bench workshop`: a temporary workshop under simulated learners, measured from outside.

The workshop runs as its own process (`lab workshop --port 0`), as in a room. Simulated learners
(one asyncio task each, over its own keep-alive HTTP connection) post one check result per request, back
to back, with a running-resource summary every tenth request; simulated instructors fetch the
dashboard's JSON every ``refresh_every_s``. Printed: results accepted per second, the learners'
post latency, and the dashboard refresh latency (p50/p95/max). Numbers, not a pass or fail: the
goals (200 results/s with 200 learners, refresh p95 under 500 ms) are printed beside them.
"""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["WorkshopBench", "run"]

GOAL_PER_S = 200.0
GOAL_REFRESH_P95_MS = 500.0
STATUSES = ("passed", "failed", "failed", "partial", "passed", "not done")


@dataclass
class WorkshopBench:
    mode: str
    learners: int
    seconds: float
    accepted: int
    accepted_per_s: float
    post_p50_ms: float
    post_p95_ms: float
    errors: int
    refreshes: int
    refresh_p50_ms: float
    refresh_p95_ms: float
    refresh_max_ms: float
    room_bytes: int
    offered_per_s: float | None = None  # paced: what the learners sent per second; None: back to back

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        if self.offered_per_s is None:
            per_s = "goal >= " + f"{GOAL_PER_S:.0f}/s: " + ("meets" if self.accepted_per_s >= GOAL_PER_S else "below")
        else:
            per_s = f"offered {self.offered_per_s:.0f}/s, the first second ramping up"
        p95 = "meets" if self.refresh_p95_ms < GOAL_REFRESH_P95_MS else "over"
        return "\n".join(
            [
                f"{self.learners} simulated learners, {self.mode}, for {self.seconds:.1f} s:",
                f"  results accepted   {self.accepted} ({self.accepted_per_s:.0f}/s; {per_s})",
                f"  post latency       p50 {self.post_p50_ms:.1f} ms, p95 {self.post_p95_ms:.1f} ms; errors {self.errors}",
                f"  dashboard refresh  {self.refreshes} refreshes, p50 {self.refresh_p50_ms:.1f} ms, "
                f"p95 {self.refresh_p95_ms:.1f} ms, max {self.refresh_max_ms:.1f} ms "
                f"(goal p95 < {GOAL_REFRESH_P95_MS:.0f} ms: {p95}); {self.room_bytes / 1024:.0f} KiB of JSON",
            ]
        )


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def start_workshop(folder: Path, timeout_s: float = 30.0) -> tuple[subprocess.Popen, str]:
    """`lab workshop --port 0` as a child process; (the process, its URL) once it answers."""
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "lab_helpers", "workshop", "--port", "0", "--state", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
    if not found:
        proc.kill()
        raise RuntimeError(f"`lab workshop` did not start: {first.strip() or proc.stdout.read()[-500:]}")
    url = f"http://127.0.0.1:{found.group(1)}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return proc, url
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"`lab workshop` at {url} never answered /healthz") from None
            time.sleep(0.05)


class _Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams: the simulated learner's or viewer's.

    A plain client (not httpx) so that the load generator's own overhead stays small beside the
    server's: 200 connections in one event loop, each request a few microseconds of client work.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length, closing = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
            elif name.lower() == "connection" and value.strip().lower() == "close":
                closing = True
        data = await self.reader.readexactly(length) if length else b""
        if closing or not status_line:
            await self.close()
        if not status_line:
            raise ConnectionError("the workshop closed the connection")
        return int(status_line.split()[1]), data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _load(
    url: str,
    join: str,
    instructor: str,
    learners: int,
    seconds: float,
    viewers: int,
    every_s: float,
    pace_s: float | None = None,
):
    import json

    from ..workshop.room import course_checks

    checks = course_checks() or ["00.a40-count"]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    posts: list[float] = []
    refreshes: list[float] = []
    counts = {"accepted": 0, "errors": 0, "room_bytes": 0}
    stop_at = time.monotonic() + seconds

    async def learner(i: int) -> None:
        rng = random.Random(i)
        name, key, n = f"learner-{i:03d}", f"bench-key-{i:08d}-{rng.getrandbits(64):016x}", 0
        headers = {"Content-Type": "application/json", "X-Learner-Key": key, "Authorization": f"Bearer {join}"}
        conn = _Connection(host, int(port))
        if pace_s:
            await asyncio.sleep(rng.uniform(0, pace_s))  # learners do not all press Run at once
        while time.monotonic() < stop_at:
            n += 1
            sent_at = time.monotonic()
            body: dict = {
                "learner": name,
                "results": [
                    {
                        "id": f"r{n}",
                        "name": rng.choice(checks),
                        "status": rng.choice(STATUSES),
                        "earned": 0.0,
                        "points": 1.0,
                        "at": time.time(),
                    }
                ],
            }
            if n % 10 == 1:
                body["resources"] = [{"kind": "server", "name": f"lab03-{name}", "lab": "03", "su_per_hour": 2.0}]
            t0 = time.perf_counter()
            try:
                status, _ = await conn.request("POST", "/api/results", headers, json.dumps(body).encode())
                ok = status == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
                await conn.close()
            posts.append((time.perf_counter() - t0) * 1000)
            counts["accepted" if ok else "errors"] += 1
            if pace_s:
                await asyncio.sleep(max(0.0, pace_s - (time.monotonic() - sent_at)))
        await conn.close()

    async def viewer() -> None:
        conn = _Connection(host, int(port))
        headers = {"Authorization": f"Bearer {instructor}"}
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            _, data = await conn.request("GET", "/api/room", headers)
            refreshes.append((time.perf_counter() - t0) * 1000)
            counts["room_bytes"] = len(data)
            await asyncio.sleep(every_s)
        await conn.close()

    began = time.monotonic()
    await asyncio.gather(*(learner(i) for i in range(learners)), *(viewer() for _ in range(viewers)))
    return posts, refreshes, counts, time.monotonic() - began


def _phase(url: str, folder: Path, learners: int, seconds: float, viewers: int, every_s: float, pace_s):
    join = (folder / "join-token").read_text().strip()
    instructor = (folder / "instructor-token").read_text().strip()
    return asyncio.run(_load(url, join, instructor, learners, seconds, viewers, every_s, pace_s))


def run(
    learners: int = 200,
    seconds: float = 10.0,
    viewers: int = 2,
    refresh_every_s: float = 0.5,
    pace_s: float = 1.0,
) -> tuple[WorkshopBench, WorkshopBench]:
    """Measure a temporary workshop (its own process and folder) twice: at capacity (every learner
    sends back to back: results accepted per second) and at the goal's load (each learner one result
    every ``pace_s``: 200 learners, 200 results/s, the dashboard's refresh latency a room would see)."""
    reports = []
    for pace in (None, pace_s):
        with tempfile.TemporaryDirectory(prefix="workshop-bench-") as tmp:
            proc, url = start_workshop(Path(tmp))
            try:
                posts, refreshes, counts, took = _phase(
                    url, Path(tmp), learners, seconds, viewers, refresh_every_s, pace
                )
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        reports.append(
            WorkshopBench(
                mode="back to back" if pace is None else f"one result per learner every {pace:g} s",
                learners=learners,
                seconds=round(took, 2),
                accepted=counts["accepted"],
                accepted_per_s=round(counts["accepted"] / took, 1) if took else 0.0,
                post_p50_ms=round(_quantile(posts, 0.5), 1),
                post_p95_ms=round(_quantile(posts, 0.95), 1),
                errors=counts["errors"],
                refreshes=len(refreshes),
                refresh_p50_ms=round(_quantile(refreshes, 0.5), 1),
                refresh_p95_ms=round(_quantile(refreshes, 0.95), 1),
                refresh_max_ms=round(max(refreshes, default=0.0), 1),
                room_bytes=counts["room_bytes"],
                offered_per_s=None if pace is None else round(learners / pace, 1),
            )
        )
    return reports[0], reports[1]
