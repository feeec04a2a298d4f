"""What a pod's containers really use, measured on the processes the kubelet runs them as: CPU as the
rate of the container's processes' user+system time over a trailing window, memory as their resident
set size (the sandbox's stand-in for a cgroup's working set). The metrics API (``kubectl top``) and the
HorizontalPodAutoscaler read it; nothing is stored.

A container's processes are its first process (recorded by its shim) and every descendant. The
window is ``LAB_METRICS_WINDOW_S`` seconds (15 by default, as metrics-server's resolution); a first
question about a container measures it over a quarter of a second.
"""

from __future__ import annotations

import os
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
    try:
        return max(1.0, float(os.environ.get("LAB_METRICS_WINDOW_S", DEFAULT_WINDOW_S)))
    except ValueError:
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
    """CPU time samples per container, so a rate over the window can be given at any moment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: dict[tuple[str, str, int], deque[tuple[float, float]]] = {}

    def usage(self, state_dir: Path, pod: dict[str, Any], container: str) -> Usage | None:
        pid = container_pid(state_dir, pod, container)
        if pid is None:
            return None
        key = (str(pod["metadata"].get("uid", "")), container, pid)
        window = window_s()
        procs = _processes(pid)
        now, cpu = time.time(), _cpu_seconds(procs)
        with self._lock:
            samples = self._samples.setdefault(key, deque())
            if samples and samples[-1][0] < now - 2 * window:
                samples.clear()  # not asked for a long while: measure afresh rather than average the gap
            samples.append((now, cpu))
            while len(samples) > 2 and samples[1][0] <= now - window:
                samples.popleft()
            first_t, first_cpu = samples[0]
        if now - first_t < FIRST_LOOK_S:
            time.sleep(FIRST_LOOK_S)
            procs = _processes(pid)
            now, cpu = time.time(), _cpu_seconds(procs)
            with self._lock:
                self._samples.setdefault(key, deque()).append((now, cpu))
        span = max(now - first_t, 1e-3)
        rate = max(0.0, (cpu - first_cpu) / span)
        return Usage(rate, _rss(procs), span, now)

    def forget(self, keep_uids: set[str]) -> None:
        """Drop the samples of pods that are gone."""
        with self._lock:
            for key in [k for k in self._samples if k[0] not in keep_uids]:
                del self._samples[key]


SAMPLER = Sampler()


def pod_usage(state_dir: Path, pod: dict[str, Any]) -> dict[str, Usage] | None:
    """Each running container's usage; None when the pod has no running container to measure."""
    out: dict[str, Usage] = {}
    for c in (pod.get("spec") or {}).get("containers") or []:
        got = SAMPLER.usage(state_dir, pod, str(c.get("name", "")))
        if got is not None:
            out[str(c.get("name", ""))] = got
    return out or None
