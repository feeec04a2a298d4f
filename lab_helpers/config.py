"""All of the course's configuration, read in one place.

Every setting has a name, a default and a description (``lab doctor`` and the README list them).
The backend switch lives here: ``LAB_BACKEND`` in the environment, or the ``BACKEND`` parameter
of a lab's ``parameters`` cell, which papermill injects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

BACKENDS = ("sandbox", "live")
APP_NAME = "visualizing-compute"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("LAB_BACKEND", "sandbox", "Which backend the labs use: 'sandbox' (local, no account) or 'live'."),
    Setting("LAB_STATE_DIR", "<per-user data dir>", "Where the course keeps progress, the sandbox cloud and working copies."),
    Setting("LAB_WORKSPACE", "<state dir>/workspace", "The learner's working copy of the labs that `lab start` opens."),
    Setting("LAB_LEARNER", "<login name>", "The learner id recorded in progress and submissions."),
    Setting("OS_CLOUD", "", "Live backend: the cloud in clouds.yaml to use (for example 'openstack')."),
    Setting("LAB_SANDBOX_BOOT_S", "3", "Sandbox: seconds a server spends in BUILD before ACTIVE."),
)


def _default_state_dir() -> Path:
    try:
        from platformdirs import user_data_dir
    except ImportError:  # a bare GPU box with only numpy/cupy/pyyaml
        return Path.home() / ".local" / "share" / APP_NAME
    return Path(user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """The learner's state directory (created on first use)."""
    raw = os.environ.get("LAB_STATE_DIR")
    path = Path(raw).expanduser() if raw else _default_state_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def workspace_dir() -> Path:
    raw = os.environ.get("LAB_WORKSPACE")
    return Path(raw).expanduser() if raw else state_dir() / "workspace"


def learner_id() -> str:
    raw = os.environ.get("LAB_LEARNER")
    if raw:
        return raw
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "learner"


def resolve_backend(name: str | None = None) -> str:
    """The backend to use: an explicit name, else ``LAB_BACKEND``, else 'sandbox'."""
    chosen = (name or os.environ.get("LAB_BACKEND") or "sandbox").strip().lower()
    if chosen not in BACKENDS:
        raise UsageError(
            f"unknown backend {chosen!r}.",
            hint=f"Valid backends: {', '.join(BACKENDS)}.",
        )
    return chosen


def sandbox_boot_seconds() -> float:
    raw = os.environ.get("LAB_SANDBOX_BOOT_S", "3")
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise UsageError(f"LAB_SANDBOX_BOOT_S={raw!r} is not a number.", hint="Set it to seconds, e.g. 3.") from None
