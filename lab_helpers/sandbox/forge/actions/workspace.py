"""What one job's steps share: the fresh folder it runs in, the event it runs for, its log, the environment
the workflow gave it (``env:`` and ``$GITHUB_ENV``), and the images its build steps pushed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .joblog import JobLog

__all__ = ["Builder", "PushContext", "StepFailed", "Workspace", "git"]

# build(state_dir, context, dockerfile, target, tags, labels) -> an object with digest, refs and size
Builder = Callable[..., Any]


class StepFailed(RuntimeError):
    """A step's failure, with the line its log shows as ``##[error]``."""


@dataclass(frozen=True)
class PushContext:
    """The push a run is for, as the ``github`` context shows it."""

    owner: str
    repo: str
    ref: str
    sha: str
    before: str
    actor: str
    event_name: str = "push"
    default_branch: str = "main"
    server_url: str = "http://127.0.0.1/git"

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def ref_name(self) -> str:
        return self.ref.split("/", 2)[2] if self.ref.count("/") >= 2 else self.ref

    @property
    def ref_type(self) -> str:
        return "tag" if self.ref.startswith("refs/tags/") else "branch"


@dataclass
class Workspace:
    state_dir: Path
    repo_path: Path  # the forge's bare repository
    dir: Path  # GITHUB_WORKSPACE: empty until actions/checkout fills it
    temp: Path  # RUNNER_TEMP: GITHUB_OUTPUT, GITHUB_ENV, step scripts
    push: PushContext
    log: JobLog
    masks: list[str]
    builder: Builder | None
    env: dict[str, str] = field(default_factory=dict)  # what $GITHUB_ENV set for later steps
    images: list[str] = field(default_factory=list)


def git(*args: str, cwd: Path | None = None, timeout: float = 120) -> str:
    """Real git, with no user or system configuration in the way; a failure is a :class:`StepFailed`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": "/nonexistent",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"git {args[0]} took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise StepFailed(f"git {args[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout
