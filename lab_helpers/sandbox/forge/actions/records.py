"""Workflow runs on disk: ``<state>/forge/runs/<id>/run.json`` (shaped like GitHub's REST ``workflow_run``,
with its jobs and steps inline) and one log per job, ``<id>/<job>.log``. A run is written whole to a
temporary file and renamed, so a reader never sees half of one."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["allocate", "iso", "job_log", "list_runs", "load", "logs_text", "run_dir", "runs_root", "save"]

_lock = threading.Lock()


def iso(ts: float | None) -> str | None:
    """GitHub's timestamp format (UTC, seconds, Z)."""
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def runs_root(state_dir: Path) -> Path:
    return Path(state_dir) / "forge" / "runs"


def run_dir(state_dir: Path, run_id: int) -> Path:
    return runs_root(state_dir) / str(int(run_id))


def allocate(state_dir: Path) -> int:
    """The next run id (1, 2, ...): a folder made exclusively, so two processes never share one."""
    root = runs_root(state_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _lock:
        taken = [int(p.name) for p in root.iterdir() if p.name.isdigit()]
        run_id = max(taken, default=0) + 1
        while True:
            try:
                (root / str(run_id)).mkdir()
                return run_id
            except FileExistsError:
                run_id += 1


def save(state_dir: Path, run: dict[str, Any]) -> None:
    folder = run_dir(state_dir, run["id"])
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"run.json.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(run, indent=1))
    os.replace(tmp, folder / "run.json")


def load(state_dir: Path, run_id: int) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir(state_dir, run_id) / "run.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def list_runs(state_dir: Path, repository: str | None = None) -> list[dict[str, Any]]:
    """Every run (of ``owner/repo`` when given), newest first."""
    root = runs_root(state_dir)
    ids = sorted((int(p.name) for p in root.iterdir() if p.name.isdigit()), reverse=True) if root.is_dir() else []
    runs = [r for r in (load(state_dir, i) for i in ids) if r is not None]
    return [r for r in runs if repository is None or r.get("repository", {}).get("full_name") == repository]


def job_log(state_dir: Path, run_id: int, job_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", job_name) or "job"
    return run_dir(state_dir, run_id) / f"{safe}.log"


def logs_text(state_dir: Path, run: dict[str, Any]) -> str:
    """The run's logs as one text: each job's log under a header naming the job, in the order jobs ran."""
    parts: list[str] = []
    for job in run.get("jobs", []):
        path = job_log(state_dir, run["id"], job["name"])
        body = path.read_text(errors="replace") if path.exists() else ""
        parts.append(f"=== {job['name']} ({job.get('conclusion') or job.get('status')}) ===\n{body}")
    if run.get("message"):
        parts.insert(0, run["message"] + "\n")
    return "\n".join(parts)
