"""``kubectl logs``: a container's log as the kubelet serves it, from the CRI-format files the shims
write (``<RFC3339Nano> <stream> <F|P> <text>``), with ``follow``, ``previous``, ``timestamps``,
``tailLines``, ``sinceSeconds`` and ``limitBytes``.

Which instance: the container's current one (running, or the one that just ended), or with
``previous`` the one before it, chosen from the pod's status as the kubelet does; a container
that has not run yet is a 400 that says why (``is waiting to start: ContainerCreating``).
"""

from __future__ import annotations

import calendar
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import status
from ..objects import Objects
from .network import PODS

FOLLOW_POLL_S = 0.1


def pods_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "kubelet" / "pods"


def _parse_time(stamp: bytes) -> float:
    text = stamp.decode("ascii", "replace").rstrip("Z")
    base, _, frac = text.partition(".")
    try:
        whole = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0.0
    return whole + (float(f"0.{frac}") if frac else 0.0)


def _records(raw: bytes) -> list[tuple[bytes, bytes, bool]]:
    """(timestamp, text, full line) of each complete record in ``raw``."""
    out = []
    for line in raw.split(b"\n"):
        if not line:
            continue
        parts = line.split(b" ", 3)
        if len(parts) < 3:
            continue
        text = parts[3] if len(parts) == 4 else b""
        out.append((parts[0], text, parts[2] != b"P"))
    return out


def _status_of(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    st = pod.get("status", {})
    for cs in (st.get("containerStatuses") or []) + (st.get("initContainerStatuses") or []):
        if cs.get("name") == container:
            return cs
    return None


def instance_of(container_id: str, folder: Path) -> int | None:
    """The instance number whose shim state carries ``container_id``."""
    import json

    for path in folder.glob("*.json"):
        if path.name.endswith(".spec.json"):
            continue
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("containerID") == container_id:
                return int(path.stem)
        except (OSError, ValueError):
            continue
    return None


def choose(pod: dict[str, Any], container: str, previous: bool) -> str:
    """The containerID whose log to read, or the 400 the kubelet answers."""
    pod_name = pod["metadata"]["name"]
    cs = _status_of(pod, container)
    if cs is None:
        raise status.bad_request(f'container "{container}" in pod "{pod_name}" is waiting to start: ContainerCreating')
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    last_term = last.get("terminated") or {}
    if previous:
        if not last_term.get("containerID"):
            raise status.bad_request(f'previous terminated container "{container}" in pod "{pod_name}" not found')
        return str(last_term["containerID"])
    if "running" in state:
        return str(cs.get("containerID", ""))
    if "terminated" in state:
        term = state["terminated"] or {}
        if term.get("containerID"):
            return str(term["containerID"])
        if last_term.get("containerID"):
            return str(last_term["containerID"])
        raise status.bad_request(f'container "{container}" in pod "{pod_name}" is terminated')
    if last_term:
        if not last_term.get("containerID"):
            raise status.bad_request(f'container "{container}" in pod "{pod_name}" is terminated')
        return str(last_term["containerID"])
    waiting = state.get("waiting") or {}
    reason = waiting.get("reason", "")
    if reason == "ErrImagePull":
        why = "image can't be pulled"
    elif reason == "ImagePullBackOff":
        why = "trying and failing to pull image"
    elif reason:
        why = reason
    else:
        raise status.bad_request(f'container "{container}" in pod "{pod_name}" is waiting to start - no logs yet')
    raise status.bad_request(f'container "{container}" in pod "{pod_name}" is waiting to start: {why}')


def stream(
    objects: Objects,
    state_dir: Path,
    pod: dict[str, Any],
    container: str,
    *,
    follow: bool,
    previous: bool,
    timestamps: bool,
    tail_lines: int | None,
    since_seconds: int | None,
    limit_bytes: int | None,
    stopping: threading.Event | None = None,
) -> Iterator[bytes]:
    """The log of ``container`` of ``pod`` as ``kubectl logs`` shows it. Errors (as Status errors)
    are raised here, before the first chunk; ``follow`` ends when the container ends or the pod goes."""
    if not container:
        names = [c.get("name", "") for c in pod.get("spec", {}).get("containers") or []]
        if len(names) != 1:
            raise status.bad_request(
                f"a container name must be specified for pod {pod['metadata']['name']}, choose one of: [{' '.join(names)}]"
            )
        container = names[0]
    cid = choose(pod, container, previous)
    uid = pod["metadata"].get("uid", "")
    folder = pods_dir(state_dir) / uid / "containers" / container
    instance = instance_of(cid, folder)
    if instance is None:
        return iter(())
    return _read(
        objects,
        pod,
        folder / f"{instance}.log",
        folder / f"{instance}.json",
        follow=follow and not previous,
        timestamps=timestamps,
        tail_lines=tail_lines,
        since=time.time() - since_seconds if since_seconds else None,
        limit_bytes=limit_bytes,
        stopping=stopping,
    )


def _ended(state_path: Path) -> bool:
    import json

    try:
        return not json.loads(state_path.read_text(encoding="utf-8")).get("running", True)
    except (OSError, ValueError):
        return False


def _read(
    objects: Objects,
    pod: dict[str, Any],
    log_path: Path,
    state_path: Path,
    *,
    follow: bool,
    timestamps: bool,
    tail_lines: int | None,
    since: float | None,
    limit_bytes: int | None,
    stopping: threading.Event | None,
) -> Iterator[bytes]:
    left = limit_bytes if limit_bytes is not None else -1
    pending = b""

    def render(records: list[tuple[bytes, bytes, bool]]) -> bytes:
        nonlocal pending
        out = []
        for stamp, text, full in records:
            if since is not None and _parse_time(stamp) < since:
                continue
            if not pending and timestamps:
                out.append(stamp + b" ")
            if full:
                out.append(text + b"\n")
                pending = b""
            else:
                out.append(text)
                pending = b"1"
        return b"".join(out)

    try:
        fh = open(log_path, "rb")
    except OSError:
        return
    with fh:
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        records = _records(data[:cut])
        carry = data[cut:]
        if tail_lines is not None:
            full_idx = [i for i, r in enumerate(records) if r[2]]
            if tail_lines == 0:
                records = []
            elif len(full_idx) > tail_lines:
                records = records[full_idx[-tail_lines - 1] + 1 :]
        chunk = render(records)
        if chunk:
            if left >= 0:
                chunk = chunk[:left]
                left -= len(chunk)
            yield chunk
        if not follow:
            return
        uid = pod["metadata"].get("uid")
        last_check = 0.0
        while left != 0:
            if stopping is not None and stopping.is_set():
                return
            more = fh.read()
            if more:
                data = carry + more
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                chunk = render(_records(data[:cut]))
                if chunk:
                    if left >= 0:
                        chunk = chunk[:left]
                        left -= len(chunk)
                    yield chunk
                continue
            if _ended(state_path):
                tail = fh.read()
                if not tail:
                    return
                carry += tail
                continue
            now = time.monotonic()
            if now - last_check > 1.0:
                last_check = now
                current = objects.get(PODS, pod["metadata"].get("namespace", ""), pod["metadata"]["name"])
                if current is None or current["metadata"].get("uid") != uid:
                    return
            time.sleep(FOLLOW_POLL_S)


def recent(log_path: Path, lines: int = 20) -> list[str]:
    """The last lines of a log file's text (for messages)."""
    try:
        data = log_path.read_bytes()
    except OSError:
        return []
    tail: deque[str] = deque(maxlen=lines)
    for _, text, _ in _records(data):
        tail.append(text.decode("utf-8", "replace"))
    return list(tail)
