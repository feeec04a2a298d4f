"""Run one sanitised submission in its own process tree and read back what it earned.

The grader writes a job file, starts :mod:`.worker` (inside fresh namespaces when isolated) with
the notebook time limit, and then reads the worker's event log. Whatever the submission did
(crash, hang, memory bomb, ``os._exit``) the answers captured before that are in the log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import SANDBOX, sandbox_boot_seconds
from .isolation import Isolation, Limits, namespace_prefix

# credentials and settings of the instructor's own session never reach a learner's kernel
_SCRUBBED_PREFIXES = ("OS_", "KUBECONFIG", "AWS_", "GITHUB_", "GH_", "JUPYTER_", "JPY_", "IPYTHON", "LAB_")


@dataclass
class Capture:
    check: str
    ok: bool
    answer: object
    context: dict
    error: str = ""
    cell: int | None = None


@dataclass
class Execution:
    """What one run of a submission produced."""

    captures: list[Capture] = field(default_factory=list)
    limits_hit: list[str] = field(default_factory=list)  # plain sentences naming each limit
    problems: list[str] = field(default_factory=list)  # crashes and errors, for the feedback
    cell_errors: list[dict] = field(default_factory=list)
    finished: bool = False
    seconds: float = 0.0
    executed: Path | None = None
    identity: dict | None = None  # the kernel's uid and capability sets, read back from inside it

    def capture_for(self, check: str) -> Capture | None:
        found = [c for c in self.captures if c.check == check]
        return found[-1] if found else None


def _env(job: dict, run_dir: Path, state_dir: Path, log_dir: Path, backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(
        {
            "HOME": str(run_dir),
            "LAB_STATE_DIR": str(state_dir),
            "LAB_BACKEND": backend,
            "LAB_LEARNER": job["learner"],
            "JUPYTER_RUNTIME_DIR": str(log_dir / "runtime"),
            "JUPYTER_DATA_DIR": str(log_dir / "data"),
            "IPYTHONDIR": str(run_dir / ".ipython"),
            "MPLCONFIGDIR": str(run_dir / ".matplotlib"),
            "XDG_CACHE_HOME": str(run_dir / ".cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MALLOC_ARENA_MAX": "2",
            "TMPDIR": str(run_dir / ".tmp"),
        }
    )
    env["LAB_SANDBOX_BOOT_S"] = f"{sandbox_boot_seconds():g}"  # the instructor's sandbox boot time (short for CI)
    tools = grader_tools()
    if tools is not None:  # the kernel has no network to download them: it uses the grader's, read-only
        env["LAB_TOOLS_DIR"] = str(tools)
    return env


def grader_tools() -> Path | None:
    """The folder of the grader's own kubectl and helm when both match their pinned digests, else None.

    Its ``LAB_TOOLS_DIR`` (a grader image sets one) or its state directory's ``bin`` (``lab tools
    install``). The jail binds the two files read-only at the same path, so the kernel's ``install()``
    finds them there and verifies them again; a grader without them leaves labs that need them to fail
    with ``install()``'s own message.
    """
    from ..errors import LabError
    from ..tools import installed, pinned, tools_dir

    try:
        _, wanted = pinned()
        have = installed()
    except (OSError, ValueError, KeyError, LabError):  # LabError: no pinned set here (a course data file missing)
        return None
    return tools_dir().resolve() if len(have) == len(wanted) else None


def _read_events(path: Path) -> list[dict]:
    events: list[dict] = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by a kill: everything before it counts
    return events


def _summarise(events: list[dict], limits: Limits, nb, timed_out: bool) -> Execution:
    out = Execution()
    last_cell = None
    for e in events:
        kind = e.get("event")
        if kind == "cell-start":
            last_cell = e.get("cell")
        elif kind in ("capture", "snapshot"):
            out.captures.append(
                Capture(
                    e["check"],
                    bool(e.get("ok")),
                    e.get("answer"),
                    e.get("context") or {},
                    e.get("error", ""),
                    e.get("cell"),
                )
            )
        elif kind == "cell-error":
            out.cell_errors.append(e)
            where = f"cell {e.get('cell')}"
            if e.get("ename") == "CellTimeLimit":
                out.limits_hit.append(
                    f"time limit per cell ({limits.cell_s:g} s) reached in {where}; it was interrupted"
                )
            elif e.get("ename") == "MemoryError":
                out.limits_hit.append(f"memory limit ({limits.memory_mb} MB) reached in {where}")
        elif kind == "limit" and e.get("limit") == "output":
            out.limits_hit.append(
                f"output limit ({limits.output_kb} KB) reached in cell {e.get('cell')}; later output was dropped"
            )
        elif kind == "kernel-died":
            out.problems.append(
                f"the kernel died in cell {e.get('cell')} (the code ended its own process, or it "
                f"exceeded the memory limit of {limits.memory_mb} MB); later cells did not run"
            )
        elif kind == "executor-error":
            out.problems.append(f"execution stopped: {e.get('error')}")
        elif kind == "done":
            out.finished = True
        elif kind == "kernel-identity":
            out.identity = e.get("identity") or {}
    if timed_out:
        out.limits_hit.append(
            f"time limit per notebook ({limits.notebook_s:g} s) reached in cell {last_cell}; the run was stopped"
        )
    return out


def execute(
    nb,
    *,
    learner: str,
    limits: Limits,
    isolation: Isolation,
    captures: list[dict],
    mask: list[Path],
    backend: str = SANDBOX,
    keep_dir: Path | None = None,
    state_source: str = "",
) -> Execution:
    """Execute ``nb`` (already sanitised) once, from scratch, under ``limits`` and ``isolation``."""
    import nbformat

    root = Path(tempfile.mkdtemp(prefix="lab-grade-"))
    root.chmod(0o711)  # the kernel may pass through, but not list, the grader's folders
    run_dir, log_dir = root / "run", root / "log"
    state_dir = run_dir / ".lab-state"  # per-submission state: its own sandbox cloud, its own progress
    for d in (run_dir / ".tmp", state_dir, log_dir / "runtime"):
        d.mkdir(parents=True)
    log_dir.chmod(0o700)
    if isolation.drop_to_uid is not None:
        for d in (run_dir, run_dir / ".tmp", state_dir):
            os.chown(d, isolation.drop_to_uid, isolation.drop_to_uid)
        run_dir.chmod(0o700)
    notebook = log_dir / "submission.ipynb"
    nbformat.write(nb, notebook)
    executed, events_file = log_dir / "executed.ipynb", log_dir / "events.jsonl"
    job = {
        "notebook": str(notebook),
        "executed": str(executed),
        "events": str(events_file),
        "log_dir": str(log_dir),
        "run_dir": str(run_dir),
        "limits": limits.as_dict(),
        "uid": isolation.drop_to_uid,
        "captures": captures,
        "isolated": isolation.namespaces,
        "mask": [str(p) for p in mask],
        "learner": learner,
        "state_source": state_source,
        "backend": backend,
    }
    job_file = log_dir / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    command = [sys.executable, "-m", "lab_helpers.grading.worker", str(job_file)]
    if isolation.namespaces:
        command = namespace_prefix(isolation.user_namespace) + command
    started = time.monotonic()
    timed_out = False
    with open(log_dir / "worker.log", "wb") as err:
        proc = subprocess.Popen(
            command,
            stdout=err,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_env(job, run_dir, state_dir, log_dir, backend),
            start_new_session=True,
        )
        try:
            proc.wait(timeout=limits.notebook_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_tree(proc, events_file)
    events = _read_events(events_file)
    result = _summarise(events, limits, nb, timed_out)
    result.seconds = time.monotonic() - started
    if not timed_out and not any(e.get("event") == "exit" for e in events):
        result.problems.append(f"the executor ended unexpectedly (exit {proc.returncode})")
    if keep_dir is not None:
        keep_dir.mkdir(parents=True, exist_ok=True)
        for name in ("events.jsonl", "worker.log", "executed.ipynb"):
            if (log_dir / name).exists():
                shutil.copyfile(log_dir / name, keep_dir / name)
        result.executed = keep_dir / "executed.ipynb" if executed.exists() else None
    shutil.rmtree(root, ignore_errors=True)
    return result


def _kill_tree(proc: subprocess.Popen, events: Path) -> None:
    """Stop the worker and everything under it (in a pid namespace, killing it is enough)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for e in _read_events(events):  # without namespaces the kernel lives in its own session
        if e.get("event") == "kernel-started" and e.get("pid"):
            try:
                os.kill(int(e["pid"]), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass
    proc.wait()
