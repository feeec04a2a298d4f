"""What a pod's containers really use, measured on the processes the kubelet runs them as: CPU as the
rate of the container's processes' user+system time over a trailing window, memory as their resident
set size (the sandbox's stand-in for a cgroup's working set). The metrics API (``kubectl top``) and the
HorizontalPodAutoscaler read it; nothing is stored.

A container's processes are its first process (recorded by its shim) and every descendant. The
window is ``LAB_METRICS_WINDOW_S`` seconds (15 by default, as metrics-server's resolution); a first
question about a container measures it over a quarter of a second.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from .logs import pods_dir
from .process import Process

FIRST_LOOK_S = 0.25
DEFAULT_WINDOW_S = 15.0


def window_s() -> float:
    """``LAB_METRICS_WINDOW_S``; a value that is not a number keeps the default."""
    from ....config import metrics_window_seconds
    from ....errors import UsageError

    try:
        return metrics_window_seconds()
    except UsageError:
        return DEFAULT_WINDOW_S


@dataclass(frozen=True)
class Usage:
    """One container's usage: ``cpu`` in cores (a rate), ``memory`` in bytes, over ``window`` seconds ending at ``at``."""

    cpu: float
    memory: int
    window: float
    at: float


def _processes(pid: int) -> list[psutil.Process]:
    try:
        top = psutil.Process(pid)
        return [top, *top.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    """User+system time of the processes, and of the children they have waited for (a shell's commands)."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return total


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += int(p.memory_info().rss)
        except psutil.Error:
            continue
    return total


def container_pid(state_dir: Path, pod: dict[str, Any], container: str) -> int | None:
    """The running first process of ``container`` (None when it has none)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    cs = next((c for c in statuses if c.get("name") == container), None)
    if cs is None or "running" not in (cs.get("state") or {}):
        return None
    folder = pods_dir(state_dir) / str(pod["metadata"].get("uid", "")) / "containers" / container
    proc = Process(folder, int(cs.get("restartCount") or 0))
    state = proc.state()
    pid = state.get("pid")
    if not pid or not state.get("running"):
        return None
    try:
        started = float(state.get("startedAt") or 0)
        if started and abs(psutil.Process(int(pid)).create_time() - started) > 2.0:
            return None  # the number now belongs to another process
    except (psutil.Error, ValueError):
        return None
    return int(pid)


class Sampler:
    """CPU time samples per container, so a rate over the window can be given at any moment. Many pods
    are measured together: those seen for the first time share one short look."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: dict[tuple[str, str, int], deque[tuple[float, float]]] = {}

    def _sample(self, key: tuple[str, str, int], pid: int, window: float) -> tuple[float, float, float, float]:
        """Record a sample; returns (its time, its CPU seconds, the window's first time, first CPU seconds)."""
        now, cpu = time.time(), _cpu_seconds(_processes(pid))
        with self._lock:
            samples = self._samples.setdefault(key, deque())
            if samples and samples[-1][0] < now - 2 * window:
                samples.clear()  # not asked for a long while: measure afresh rather than average the gap
            samples.append((now, cpu))
            while len(samples) > 2 and samples[1][0] <= now - window:
                samples.popleft()
            for other in [k for k, v in self._samples.items() if v and v[-1][0] < now - 10 * window]:
                del self._samples[other]  # containers nobody asked about for long: gone, most likely
            return now, cpu, samples[0][0], samples[0][1]

    def measure(self, state_dir: Path, pods: list[dict[str, Any]]) -> dict[str, dict[str, Usage]]:
        """Each pod's (by uid) running containers' usage; pods with none are left out."""
        window = window_s()
        found: list[tuple[str, str, int, tuple[float, float, float, float]]] = []
        for pod in pods:
            uid = str(pod["metadata"].get("uid", ""))
            for c in (pod.get("spec") or {}).get("containers") or []:
                name = str(c.get("name", ""))
                pid = container_pid(state_dir, pod, name)
                if pid is not None:
                    found.append((uid, name, pid, self._sample((uid, name, pid), pid, window)))
        fresh = [i for i, (*_, (now, _, first_t, _)) in enumerate(found) if now - first_t < FIRST_LOOK_S]
        if fresh:
            time.sleep(FIRST_LOOK_S)
            for i in fresh:
                uid, name, pid, _ = found[i]
                found[i] = (uid, name, pid, self._sample((uid, name, pid), pid, window))
        out: dict[str, dict[str, Usage]] = {}
        for uid, name, pid, (now, cpu, first_t, first_cpu) in found:
            span = max(now - first_t, 1e-3)
            rate = max(0.0, (cpu - first_cpu) / span)
            out.setdefault(uid, {})[name] = Usage(rate, _rss(_processes(pid)), span, now)
        return out


SAMPLER = Sampler()


def pods_usage(state_dir: Path, pods: list[dict[str, Any]]) -> dict[str, dict[str, Usage]]:
    """The usage of each pod's running containers, by pod uid (pods with none running are left out)."""
    return SAMPLER.measure(state_dir, pods)


def pod_usage(state_dir: Path, pod: dict[str, Any]) -> dict[str, Usage] | None:
    """One pod's running containers' usage; None when it has no running container to measure."""
    return pods_usage(state_dir, [pod]).get(str(pod["metadata"].get("uid", "")))
