"""One job of a run, step by step, in a fresh folder: ``run:`` steps are real bash (``bash -e {0}``, or
``bash --noprofile --norc -eo pipefail {0}`` with ``shell: bash``, as GitHub runs them), ``uses:`` steps
are the actions in ``uses.py``. A step's environment holds only what the runner and the workflow give it
(never the sandbox's or the learner's credentials); ``$GITHUB_OUTPUT`` and ``$GITHUB_ENV`` are read back
after each step; a step runs at most ``timeout-minutes`` (10 by default in the course)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .expressions import ExpressionError, evaluate_if, interpolate
from .joblog import JobLog
from .records import iso
from .uses import run_action
from .workspace import Builder, PushContext, StepFailed, Workspace

__all__ = ["DEFAULT_STEP_TIMEOUT_MIN", "JobResult", "base_contexts", "read_env_file", "run_job"]

DEFAULT_STEP_TIMEOUT_MIN = 10.0


@dataclass
class JobResult:
    record: dict[str, Any]  # the job as run.json lists it
    outputs: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)

    @property
    def conclusion(self) -> str:
        return str(self.record.get("conclusion"))


def read_env_file(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, the format of ``$GITHUB_OUTPUT`` and ``$GITHUB_ENV``."""
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    lines = path.read_text(errors="replace").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        block = re.match(r"^([^=<]+)<<(.+)$", line)
        if block:
            name, delimiter = block.group(1).strip(), block.group(2)
            end = i + 1
            while end < len(lines) and lines[end] != delimiter:
                end += 1
            if end == len(lines):
                raise StepFailed(f"Matching delimiter not found '{delimiter}' in {path.name}")
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            name, _, value = line.partition("=")
            out[name.strip()] = value
        elif line.strip():
            raise StepFailed(f"Invalid format '{line[:60]}' in {path.name}: write name=value or name<<EOF")
        i += 1
    return out


def base_contexts(push: PushContext, token: str, workspace: Path, run_id: int) -> dict[str, Any]:
    """The ``github``, ``secrets``, ``vars`` and ``runner`` contexts of a run."""
    return {
        "github": {
            "sha": push.sha,
            "ref": push.ref,
            "ref_name": push.ref_name,
            "ref_type": push.ref_type,
            "repository": push.repository,
            "repository_owner": push.owner,
            "actor": push.actor,
            "event_name": push.event_name,
            "workspace": str(workspace),
            "run_id": str(run_id),
            "run_number": str(run_id),
            "server_url": push.server_url,
            "token": token,
            "event": {
                "before": push.before,
                "after": push.sha,
                "ref": push.ref,
                "repository": {"default_branch": push.default_branch},
            },
        },
        "secrets": {"GITHUB_TOKEN": token},
        "vars": {},
        "inputs": {},
        "runner": {"os": "Linux", "arch": "X64", "name": "sandbox-runner"},
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _step_env(ws: Workspace, extra: dict[str, str], files: dict[str, Path]) -> dict[str, str]:
    push = ws.push
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(ws.temp / "home"),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": push.sha,
        "GITHUB_REF": push.ref,
        "GITHUB_REF_NAME": push.ref_name,
        "GITHUB_REF_TYPE": push.ref_type,
        "GITHUB_REPOSITORY": push.repository,
        "GITHUB_REPOSITORY_OWNER": push.owner,
        "GITHUB_ACTOR": push.actor,
        "GITHUB_EVENT_NAME": push.event_name,
        "GITHUB_SERVER_URL": push.server_url,
        "GITHUB_WORKSPACE": str(ws.dir),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": str(ws.temp),
    }
    env.update({name.upper(): str(path) for name, path in files.items()})
    env.update(extra)
    return env


def _run_script(ws: Workspace, script: str, shell: str | None, cwd: Path, env: dict[str, str], timeout_s: float) -> int:
    path = ws.temp / f"step-{time.monotonic_ns()}.sh"
    path.write_text(script)
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)] if shell else ["bash", "-e", str(path)]
    ws.log.line(f"shell: {' '.join(argv[:-1])} {{0}}")
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
        errors="replace",
    )

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            ws.log.line(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(timeout=5)
        raise StepFailed(f"The action has timed out after {timeout_s / 60:g} minutes (timeout-minutes).") from None
    reader.join(timeout=5)
    return code


def _contexts(
    base: dict[str, Any], env: dict[str, str], steps: dict[str, Any], needs: dict[str, Any], status: str
) -> dict[str, Any]:
    return {**base, "env": env, "steps": steps, "needs": needs, "job": {"status": status}}


def _interp_map(values: Any, contexts: dict[str, Any]) -> dict[str, str]:
    return {str(k): interpolate(_text(v), contexts) for k, v in (values or {}).items()}


def _one_step(ws: Workspace, step: dict[str, Any], contexts: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """Run one step; its outputs. A failure is a :class:`StepFailed` (or an :class:`ExpressionError`)."""
    files = {
        name: ws.temp / f"{name}_{time.monotonic_ns()}"
        for name in ("github_output", "github_env", "github_step_summary")
    }
    for path in files.values():
        path.touch()
    if "uses" in step:
        outputs = run_action(ws, str(step["uses"]), _interp_map(step.get("with"), contexts))
    else:
        script = interpolate(_text(step.get("run")), contexts)
        ws.log.group(f"Run {script.strip().splitlines()[0] if script.strip() else ''}")
        for line in script.strip().splitlines()[1:]:
            ws.log.line(line)
        ws.log.endgroup()
        cwd = (ws.dir / interpolate(_text(step.get("working-directory", "")), contexts)).resolve()
        if not cwd.is_dir():
            raise StepFailed(f"No such file or directory: working-directory {step.get('working-directory')!r}")
        minutes = float(step.get("timeout-minutes") or DEFAULT_STEP_TIMEOUT_MIN)
        code = _run_script(ws, script, step.get("shell"), cwd, _step_env(ws, env, files), minutes * 60)
        if code != 0:
            raise StepFailed(f"Process completed with exit code {code}.")
        outputs = read_env_file(files["github_output"])
    ws.env.update(read_env_file(files["github_env"]))
    summary = files["github_step_summary"].read_text(errors="replace")
    if summary.strip():
        with open(ws.log.path.with_suffix(".summary.md"), "a", encoding="utf-8") as fh:
            fh.write(summary)
    return outputs


def _step_name(step: dict[str, Any], contexts: dict[str, Any]) -> str:
    if step.get("name"):
        try:
            return interpolate(str(step["name"]), contexts)
        except ExpressionError:
            return str(step["name"])
    if "uses" in step:
        return f"Run {step['uses']}"
    first = _text(step.get("run")).strip().splitlines()
    return f"Run {first[0] if first else ''}"[:100]


def run_job(
    *,
    job_id: str,
    job: dict[str, Any],
    runner: str,
    push: PushContext,
    repo_path: Path,
    state_dir: Path,
    log_path: Path,
    base: dict[str, Any],
    workflow_env: dict[str, Any],
    needs: dict[str, Any],
    masks: list[str],
    builder: Builder | None,
) -> JobResult:
    """Run ``job`` (already known to be due) and return its record and outputs."""
    started = time.time()
    record: dict[str, Any] = {
        "name": str(job.get("name") or job_id),
        "id": job_id,
        "runner": runner,
        "status": "in_progress",
        "conclusion": None,
        "started_at": iso(started),
        "completed_at": None,
        "steps": [],
    }
    temp = Path(tempfile.mkdtemp(prefix="gh-runner-"))
    log = JobLog(log_path, masks)
    ws = Workspace(state_dir, repo_path, temp / "workspace", temp / "runner", push, log, masks, builder)
    ws.dir.mkdir()
    base = {**base, "github": {**base["github"], "workspace": str(ws.dir)}}
    (ws.temp / "home").mkdir(parents=True)
    log.line(f"Job {record['name']!r} on a {runner} runner ({job.get('runs-on')})")
    status = "success"
    steps_ctx: dict[str, Any] = {}
    outputs: dict[str, str] = {}
    try:
        # the workflow's env may use the github, secrets and vars contexts, as on GitHub
        try:
            base_env = _interp_map(workflow_env, _contexts(base, {}, {}, needs, status))
        except ExpressionError as exc:
            log.error(f"env: {exc}")
            base_env, status = {}, "failure"
        for number, step in enumerate(job.get("steps") or [], start=1):
            env = {**base_env}
            contexts = _contexts(base, {**env, **ws.env}, steps_ctx, needs, status)
            try:
                env.update(_interp_map(job.get("env"), contexts))
                env.update(ws.env)
                contexts = _contexts(base, env, steps_ctx, needs, status)
                env.update(_interp_map(step.get("env"), contexts))
                contexts = _contexts(base, env, steps_ctx, needs, status)
                name = _step_name(step, contexts)
                due = evaluate_if(step.get("if"), contexts, status)
            except ExpressionError as exc:
                name, due = _step_name(step, {}), True
                log.error(f"{name}: {exc}")
                status = "failure"
                due = False
            entry = {
                "name": name,
                "number": number,
                "status": "completed",
                "conclusion": "skipped",
                "started_at": None,
                "completed_at": None,
            }
            record["steps"].append(entry)
            if not due:
                if status == "success" or not step.get("if"):
                    log.line(f"Skipped: {name}")
                if step.get("id"):
                    steps_ctx[str(step["id"])] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            entry["started_at"] = iso(time.time())
            try:
                step_outputs = _one_step(ws, step, contexts, env)
                entry["conclusion"] = "success"
            except (StepFailed, ExpressionError, OSError) as exc:
                log.error(str(exc))
                step_outputs = {}
                entry["conclusion"] = "failure"
                status = "failure"
            entry["completed_at"] = iso(time.time())
            if step.get("id"):
                steps_ctx[str(step["id"])] = {
                    "outputs": step_outputs,
                    "outcome": entry["conclusion"],
                    "conclusion": entry["conclusion"],
                }
        if status == "success":
            contexts = _contexts(base, {**base_env, **ws.env}, steps_ctx, needs, status)
            try:
                outputs = _interp_map(job.get("outputs"), contexts)
            except ExpressionError as exc:
                log.error(f"outputs: {exc}")
                status = "failure"
    finally:
        log.line(f"Job {record['name']!r} completed: {status}")
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
    record.update(status="completed", conclusion=status, completed_at=iso(time.time()))
    return JobResult(record, outputs, list(ws.images))
