"""Liveness, readiness and startup probes, run as the kubelet runs them: ``httpGet`` is a real HTTP
request to the pod's address and port, ``tcpSocket`` a real connection, ``exec`` the command run
inside the container (its namespaces, user and environment), ``grpc`` a connection to the port.

Timing follows the probe's ``initialDelaySeconds``, ``periodSeconds``, ``timeoutSeconds``,
``successThreshold`` and ``failureThreshold``; until a startup probe succeeds the others wait.
Readiness starts as not ready, liveness as alive. Each failure is an ``Unhealthy`` event worded as
the kubelet's (``Readiness probe failed: HTTP probe failed with statuscode: 503``).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "kube-probe/1.35"

# The images here are Python programs that stand in for native ones (nginx listens within
# milliseconds of starting; its stand-in needs a few hundred). A probe that fails this early, before
# any result, is tried again 0.2 s later instead of counting, so the interpreter's start-up does not
# cost a whole probe period (a `helm install --wait` took 10 s more without it).
WARMUP_S = 2.0
WARMUP_RETRY_S = 0.2


@dataclass
class Outcome:
    ok: bool
    message: str = ""


def _port(pod: dict[str, Any], container: dict[str, Any], port: Any) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p.get("containerPort", 0))
    return None


def http_get(host: str, probe: dict[str, Any], port: int, timeout: float) -> Outcome:
    path = probe.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    scheme = (probe.get("scheme") or "HTTP").upper()
    host = probe.get("host") or host
    url = f"{scheme.lower()}://{host}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for h in probe.get("httpHeaders") or []:
        headers[h.get("name", "")] = h.get("value", "")
    conn: http.client.HTTPConnection
    if scheme == "HTTPS":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        code = conn.getresponse().status
    except TimeoutError:
        return Outcome(
            False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        )
    except ConnectionRefusedError:
        return Outcome(False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused')
    except OSError as exc:
        return Outcome(False, f'Get "{url}": {exc}')
    except http.client.HTTPException as exc:
        return Outcome(False, f'Get "{url}": {exc!r}')
    finally:
        conn.close()
    if 200 <= code < 400:
        return Outcome(True)
    return Outcome(False, f"HTTP probe failed with statuscode: {code}")


def tcp(host: str, port: int, timeout: float) -> Outcome:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except TimeoutError:
        return Outcome(False, f"dial tcp {host}:{port}: i/o timeout")
    except ConnectionRefusedError:
        return Outcome(False, f"dial tcp {host}:{port}: connect: connection refused")
    except OSError as exc:
        return Outcome(False, f"dial tcp {host}:{port}: {exc}")
    return Outcome(True)


def run_exec(command: list[str], runner: Callable[[list[str], float], tuple[int, bytes]], timeout: float) -> Outcome:
    try:
        code, output = runner(command, timeout)
    except subprocess.TimeoutExpired:
        return Outcome(False, f"command {' '.join(command)!r} timed out")
    if code == 0:
        return Outcome(True)
    text = output.decode("utf-8", "replace").strip()
    return Outcome(False, text or f"command {' '.join(command)!r} exited with {code}")


@dataclass
class ProbeState:
    kind: str  # "liveness", "readiness", "startup"
    spec: dict[str, Any]
    next_at: float
    successes: int = 0
    failures: int = 0
    result: bool = False
    last_message: str = field(default="")


class Prober:
    """The probes of one container instance, on a thread of their own.

    ``report(kind, outcome)`` is called on every failure (for the event) and whenever a result
    changes; ``kill(kind, message)`` when liveness or startup has failed ``failureThreshold`` times
    in a row (the kubelet then restarts the container)."""

    def __init__(
        self,
        pod: dict[str, Any],
        container: dict[str, Any],
        pod_ip: str,
        runner: Callable[[list[str], float], tuple[int, bytes]],
        on_change: Callable[[], None],
        on_failure: Callable[[str, str], None],
        on_kill: Callable[[str, str], None],
    ) -> None:
        self.pod, self.container, self.pod_ip = pod, container, pod_ip
        self.runner, self.on_change, self.on_failure, self.on_kill = runner, on_change, on_failure, on_kill
        self.stop = threading.Event()
        start = self.born = time.monotonic()
        self.states: dict[str, ProbeState] = {}
        for kind in ("startup", "liveness", "readiness"):
            spec = container.get(f"{kind}Probe")
            if spec:
                delay = float(spec.get("initialDelaySeconds") or 0)
                self.states[kind] = ProbeState(kind, spec, start + delay, result=(kind == "liveness"))
        self.started = "startup" not in self.states
        self.ready = "readiness" not in self.states
        if self.states:
            threading.Thread(target=self._loop, name=f"probe-{container.get('name')}", daemon=True).start()

    def _check(self, state: ProbeState) -> Outcome:
        spec = state.spec
        timeout = float(spec.get("timeoutSeconds") or 1)
        if "exec" in spec:
            return run_exec(list(spec["exec"].get("command") or []), self.runner, timeout)
        for key in ("httpGet", "tcpSocket", "grpc"):
            if key in spec:
                port = _port(self.pod, self.container, spec[key].get("port"))
                if port is None:
                    return Outcome(False, f"unknown port {spec[key].get('port')!r}")
                if key == "httpGet":
                    return http_get(self.pod_ip, spec[key], port, timeout)
                return tcp(spec[key].get("host") or self.pod_ip, port, timeout)
        return Outcome(False, "the probe names no handler (exec, httpGet, tcpSocket or grpc)")

    def _loop(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            due = [s for s in self.states.values() if s.next_at <= now and self._active(s)]
            for state in due:
                period = float(state.spec.get("periodSeconds") or 10)
                state.next_at = now + period
                outcome = self._check(state)
                if self.stop.is_set():
                    return
                if not outcome.ok and state.failures == 0 and state.successes == 0 and now - self.born < WARMUP_S:
                    state.next_at = now + WARMUP_RETRY_S
                    continue
                self._record(state, outcome)
            waits = [s.next_at for s in self.states.values() if self._active(s)]
            self.stop.wait(max(0.05, min(waits) - time.monotonic()) if waits else 0.5)

    def _active(self, state: ProbeState) -> bool:
        if state.kind == "startup":
            return not self.started
        return self.started

    def _record(self, state: ProbeState, outcome: Outcome) -> None:
        success_needed = int(state.spec.get("successThreshold") or 1)
        failure_needed = int(state.spec.get("failureThreshold") or 3)
        if outcome.ok:
            state.successes += 1
            state.failures = 0
            if not state.result and state.successes >= success_needed:
                state.result = True
                if state.kind == "startup":
                    self.started = True
                    now = time.monotonic()
                    for other in self.states.values():
                        if other.kind != "startup":
                            other.next_at = now + float(other.spec.get("initialDelaySeconds") or 0)
                elif state.kind == "readiness":
                    self.ready = True
                self.on_change()
            return
        state.failures += 1
        state.successes = 0
        self.on_failure(state.kind, outcome.message)
        if state.failures >= failure_needed:
            if state.kind == "readiness":
                if state.result or self.ready:
                    state.result = False
                    self.ready = False
                    self.on_change()
            elif state.kind in ("liveness", "startup"):
                self.stop.set()
                self.on_kill(state.kind, outcome.message)

    def close(self) -> None:
        self.stop.set()
