"""The executor of one submission: ``python -m lab_helpers.grading.worker JOB.json``.

It runs inside the submission's own namespaces (see :mod:`.isolation`) as the grader's user and
starts the learner's kernel through :mod:`.kernel_launcher` (in a fresh minimal root, unprivileged,
when isolated). Before any learner cell runs, the kernel reports its uid and capability sets; a
kernel that kept any privilege is stopped and nothing of the submission runs. Cells run in order with errors
allowed, each under the per-cell limit. Right after each cell that calls a check, the worker asks
the kernel for ``json.dumps`` of the answer and context expressions that the key names (parsed
from the source with ``ast``) and appends them to the grader-side event log at once, so a later
crash, hang or kill keeps what was earned. The kernel never judges anything: the grader reads the
log and judges with its own copy of the checks.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from jupyter_client import KernelClient
    from openstack.connection import Connection

MAX_CAPTURE_BYTES = 256 * 1024
TIMEOUT_ENAME = "CellTimeLimit"

_TO_JSON = (
    "__import__('json').dumps(({expr}), default=lambda o: o.item() if getattr(o, 'ndim', None) == 0 "
    "else o.tolist() if hasattr(o, 'tolist') else (_ for _ in ()).throw(TypeError(type(o).__name__)))"
)


class EventLog:
    """Append-only JSON lines, flushed and synced after every event."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", encoding="utf-8")
        self._started = time.monotonic()

    def write(self, **event: Any) -> None:
        event["t"] = round(time.monotonic() - self._started, 3)
        self._fh.write(json.dumps(event, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())


def _launcher(job: dict, *, limits: bool) -> list[str]:
    """The launcher's argv up to ``--``: limits (for the kernel), the jail and the uid."""
    argv = [sys.executable, "-m", "lab_helpers.grading.kernel_launcher", "--home", job["run_dir"]]
    if limits:
        lim = job["limits"]
        argv += [
            "--memory-mb",
            str(lim["memory_mb"]),
            "--file-mb",
            str(lim["file_mb"]),
            "--processes",
            str(lim["processes"]),
        ]
    if job.get("jail"):
        argv += ["--jail", job["jail"]]
    if job.get("uid") is not None:
        argv += ["--uid", str(job["uid"])]
    return argv + ["--"]


def _write_jail(job: dict) -> None:
    """The jail spec every learner-side process of this submission is started in (root-only, in the log dir)."""
    from .jail import JailSpec, environment_paths

    read_only, empty = environment_paths()
    path = Path(job["log_dir"]) / "jail.json"
    JailSpec(job["log_dir"], read_only, [job["run_dir"]], empty, list(job["mask"])).save(path)
    job["jail"] = str(path)


def _kernelspec(folder: Path, job: dict) -> None:
    argv = _launcher(job, limits=True) + [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = folder / "lab-grader"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3 (grader)", "language": "python"}), encoding="utf-8"
    )


def _decode(reply_part: dict) -> tuple[bool, Any, str]:
    """(ok, value, error) from one user_expressions entry holding a JSON string's repr."""
    if reply_part.get("status") != "ok":
        return False, None, f"{reply_part.get('ename', 'Error')}: {reply_part.get('evalue', '')}"[:300]
    text = reply_part.get("data", {}).get("text/plain", "")
    if len(text) > MAX_CAPTURE_BYTES:
        return False, None, f"answer larger than {MAX_CAPTURE_BYTES // 1024} KB"
    try:
        return True, json.loads(ast.literal_eval(text)), ""
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        return False, None, f"could not read the answer back as JSON ({type(exc).__name__})"


def _client_class():
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):
        """nbclient with an output budget and answer capture after check cells."""

        def __init__(self, nb, km, *, job: dict, log: EventLog) -> None:
            limits = job["limits"]
            super().__init__(
                nb,
                km=km,
                timeout=int(limits["cell_s"]),
                allow_errors=True,
                interrupt_on_timeout=True,
                error_on_timeout={
                    "ename": TIMEOUT_ENAME,
                    "evalue": f"cell ran longer than {limits['cell_s']:g} s",
                    "traceback": [],
                },
                startup_timeout=60,
                iopub_timeout=4,
                record_timing=False,
                kernel_name="lab-grader",
            )
            self.job, self.log_events = job, log
            self.output_budget = int(limits["output_kb"]) * 1024
            self.output_used = 0
            self.output_truncated = False
            self.on_cell_error = self._cell_error
            self.connection: Connection | None = None
            self.state_checks = []
            if job.get("state_source"):
                from .hidden import load_hidden

                self.state_checks = [h for h in load_hidden(job["state_source"]) if h.is_state]

        def _cell_error(self, cell, cell_index, execute_reply) -> None:
            content = execute_reply.get("content", {})
            ename = content.get("ename", "")
            self.log_events.write(
                event="cell-error",
                cell=cell_index,
                cell_id=cell.get("id", ""),
                ename=ename,
                evalue=str(content.get("evalue", ""))[:300],
            )

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            if self.output_used + size > self.output_budget:
                if not self.output_truncated:
                    self.output_truncated = True
                    self.log_events.write(
                        event="limit",
                        limit="output",
                        cell=cell_index,
                        detail=f"outputs past {self.output_budget // 1024} KB were dropped",
                    )
                    from nbformat.v4 import new_output

                    outs.append(
                        new_output(
                            "stream",
                            name="stderr",
                            text=f"[grader: output limit of {self.output_budget // 1024} KB reached; "
                            "further output dropped]\n",
                        )
                    )
                return None
            self.output_used += size
            return super().output(outs, msg, display_id, cell_index)

        def _started_kc(self) -> KernelClient:
            """The kernel client, which nbclient sets while the notebook runs."""
            if self.kc is None:
                raise RuntimeError("the kernel client is not started: the notebook is not running")
            return self.kc

        async def capture(self, cell_index: int, specs: list[dict]) -> None:
            for spec in specs:
                expressions = {"answer": _TO_JSON.format(expr=spec["answer"])}
                expressions.update({f"context.{k}": _TO_JSON.format(expr=v) for k, v in spec["context"].items()})
                msg_id = self._started_kc().execute("", silent=True, store_history=False, user_expressions=expressions)
                reply = await self.async_wait_for_reply(msg_id)
                if reply is None:
                    self.log_events.write(
                        event="capture",
                        cell=cell_index,
                        check=spec["check"],
                        ok=False,
                        error="the kernel did not answer",
                        answer=None,
                        context={},
                    )
                    continue
                found = reply["content"].get("user_expressions", {})
                ok, answer, error = _decode(found.get("answer", {}))
                context, context_errors = {}, []
                for name in spec["context"]:
                    c_ok, value, c_error = _decode(found.get(f"context.{name}", {}))
                    if c_ok and name.startswith("**"):
                        if isinstance(value, dict):
                            context.update({str(k): v for k, v in value.items()})
                        else:
                            context_errors.append(f"{name}: not a dict")
                    elif c_ok:
                        context[name] = value
                    else:
                        context_errors.append(f"{name}: {c_error}")
                self.log_events.write(
                    event="capture",
                    cell=cell_index,
                    check=spec["check"],
                    ok=ok,
                    answer=answer,
                    error=error,
                    context=context,
                    context_errors=context_errors,
                )

        def snapshot(self, cell_index: int, cell_id: str, checks: list[str]) -> None:
            """Run the state probes due after this cell against this submission's backend, now."""
            for state in self.state_checks:
                due = state.after == cell_id if state.after else state.check in checks
                if not due:
                    continue
                ok, data, error = self._probe(state)
                self.log_events.write(
                    event="snapshot", cell=cell_index, check=state.column, ok=ok, answer=data, error=error, context={}
                )

        def _probe(self, state) -> tuple[bool, Any, str]:
            """(ok, JSON snapshot, error) of one probe, bounded by the ``probe_s`` limit.

            The probe runs in a daemon thread: one that hangs (a backend that stopped answering) is
            abandoned with its connection, and the notebook goes on.
            """
            import threading

            limit = float(self.job["limits"].get("probe_s", 30.0))
            result: dict[str, Any] = {}

            def run() -> None:
                try:
                    if self.connection is None:
                        from ..backends import backend_named

                        self.connection = backend_named(self.job["backend"]).connect()
                    result["data"] = json.loads(json.dumps(state.probe(self.connection), default=str))
                except Exception as exc:  # a probe failing is the grader's problem: recorded, not fatal
                    result["error"] = f"{type(exc).__name__}: {exc}"[:300]

            thread = threading.Thread(target=run, name=f"probe {state.column}", daemon=True)
            thread.start()
            thread.join(limit)
            if thread.is_alive():
                self.connection = None  # the hung thread keeps the old one
                return False, None, f"the probe did not answer within {limit:g} s (probe time limit)"
            if "error" in result:
                return False, None, result["error"]
            return True, result.get("data"), ""

        async def check_identity(self) -> bool:
            """Read the kernel's uid and capabilities back from inside it; False (and nothing runs) if privileged."""
            from .jail import IDENTITY_EXPRESSION, privileges_left

            msg_id = self._started_kc().execute(
                "", silent=True, store_history=False, user_expressions={"id": IDENTITY_EXPRESSION}
            )
            reply = await self.async_wait_for_reply(msg_id)
            ok, ident, error = _decode((reply or {}).get("content", {}).get("user_expressions", {}).get("id", {}))
            ident = ident if ok and isinstance(ident, dict) else {"error": error or "no answer"}
            left = privileges_left(ident) if "error" not in ident else ["unreadable"]
            self.log_events.write(event="kernel-identity", identity=ident, privileges=left)
            if left and self.job.get("uid") is not None:
                self.log_events.write(
                    event="executor-error",
                    error="the kernel was not unprivileged ("
                    + ", ".join(left)
                    + "); no cell of the submission was run",
                )
                return False
            return True

        async def run_all(self, cwd: str) -> None:
            from nbclient.exceptions import DeadKernelError

            captures: dict[str, list[dict]] = {}
            for spec in self.job["captures"]:
                captures.setdefault(spec["cell_id"], []).append(spec)
            async with self.async_setup_kernel(cwd=cwd):
                pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
                self.log_events.write(event="kernel-started", pid=pid)
                if not await self.check_identity():
                    return
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    self.log_events.write(event="cell-start", cell=index, cell_id=cell.get("id", ""))
                    try:
                        await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
                        specs = captures.get(cell.get("id"), [])
                        if specs:
                            await self.capture(index, specs)
                        if self.state_checks:
                            self.snapshot(index, cell.get("id", ""), [spec["check"] for spec in specs])
                    except DeadKernelError:
                        self.log_events.write(event="kernel-died", cell=index, cell_id=cell.get("id", ""))
                        return
                self.log_events.write(event="done")

    return GradingClient


def _start_sandbox(job: dict, log: EventLog) -> None:
    """Start the submission's own sandbox cloud before its kernel, as the kernel's user.

    The sandbox is the cloud, not the learner's code: started from the kernel it would inherit the
    kernel's limits (a 1 GB sparse volume file exceeds the file-size limit). It is started through
    the same launcher, in its own fresh root and as the same unprivileged uid (so the kernel, which
    can see it, finds nothing more through ``/proc/<pid>/root`` than its own files). The kernel
    then finds it running in the same state directory; it still ends with the submission's pid
    namespace.
    """
    import subprocess

    from ..backends import backend_named

    if not job.get("state_source") or not backend_named(job["backend"]).starts_own_cloud:
        return
    try:
        done = subprocess.run(
            _launcher(job, limits=False)
            + [sys.executable, "-c", "from lab_helpers.sandbox import ensure_running; ensure_running()"],
            cwd=job["run_dir"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        log.write(event="sandbox-started", ok=done.returncode == 0, error=done.stderr[-300:])
    except (OSError, subprocess.SubprocessError) as exc:  # the kernel will try again itself
        log.write(event="sandbox-started", ok=False, error=f"{type(exc).__name__}: {exc}"[:300])


def run_job(job: dict) -> int:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from .isolation import loopback_up

    log_dir = Path(job["log_dir"])
    log = EventLog(Path(job["events"]))
    if job["isolated"]:
        loopback_up()
        _write_jail(job)
    log.write(event="start", isolated=job["isolated"], masked=len(job["mask"]))
    _start_sandbox(job, log)
    spec_dir = log_dir / "kernels"
    _kernelspec(spec_dir, job)
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    km = AsyncKernelManager(kernel_name="lab-grader", kernel_spec_manager=ksm)
    nb = nbformat.read(job["notebook"], as_version=4)
    client = _client_class()(nb, km, job=job, log=log)
    try:
        asyncio.run(client.run_all(job["run_dir"]))
    except Exception as exc:  # the kernel failed to start, or nbclient gave up: recorded, never fatal
        log.write(event="executor-error", error=f"{type(exc).__name__}: {exc}"[:500])
    nbformat.write(client.nb, job["executed"])
    log.write(event="exit")
    return 0


def main() -> int:
    path = Path(sys.argv[1])
    job = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()  # gone before the kernel starts: it may name state probes
    return run_job(job)


if __name__ == "__main__":
    sys.exit(main())
