"""All of the course's configuration, read in one place.

Every setting has a name, a default and a meaning (``SETTINGS``): ``lab doctor`` prints them and
README's configuration table is generated from them (a test keeps the two equal, and keeps every
environment read of a setting in this module). The backend's *name* is parsed here; what a
backend does lives in :mod:`lab_helpers.backends`.

This module imports only :mod:`lab_helpers.errors`: the sandbox's server side may read it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

SANDBOX = "sandbox"
LIVE = "live"
BACKENDS = (SANDBOX, LIVE)
APP_NAME = "visualizing-compute"
DEFAULT_EXPIRY_H = 24.0
DEFAULT_BOOT_S = 3.0
DEFAULT_POD_START_S = 1.0
DEFAULT_HPA_SYNC_S = 15.0  # kube-controller-manager's --horizontal-pod-autoscaler-sync-period
DEFAULT_GITOPS_POLL_S = 3.0  # Argo CD fetches git every 3 minutes (timeout.reconciliation) and on webhooks
DEFAULT_METRICS_WINDOW_S = 15.0  # metrics-server's default resolution


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str
    show_value: bool = True  # False: `lab doctor` says only whether it is set (paths, names, credentials' places)


SETTINGS: tuple[Setting, ...] = (
    Setting("LAB_BACKEND", f"`{SANDBOX}`", f"`{SANDBOX}` or `{LIVE}`"),
    Setting(
        "LAB_STATE_DIR",
        "your per-user data folder",
        "progress, the sandbox cloud, working copies; set it to run an isolated copy of everything",
        show_value=False,
    ),
    Setting("LAB_WORKSPACE", "`$LAB_STATE_DIR/workspace`", "the working copy `lab start` opens", show_value=False),
    Setting("LAB_LEARNER", "your login name", "the learner id recorded in progress and submissions", show_value=False),
    Setting(
        "LAB_EXPIRY_H",
        f"`{DEFAULT_EXPIRY_H:g}`",
        "hours after creation that a lab's resources are marked to expire (`lab cleanup --expired`)",
    ),
    Setting("LAB_SANDBOX_BOOT_S", f"`{DEFAULT_BOOT_S:g}`", "sandbox: seconds a server stays in BUILD"),
    Setting(
        "LAB_POD_START_S",
        f"`{DEFAULT_POD_START_S:g}`",
        "sandbox: seconds a pod stays ContainerCreating (its image pull, simulated)",
    ),
    Setting(
        "LAB_HPA_SYNC_S",
        f"`{DEFAULT_HPA_SYNC_S:g}`",
        "sandbox: seconds between a HorizontalPodAutoscaler's looks at its pods",
    ),
    Setting(
        "LAB_GITOPS_POLL_S",
        f"`{DEFAULT_GITOPS_POLL_S:g}`",
        "sandbox: seconds between the GitOps controller's fetches of git (Argo CD: 3 minutes, plus webhooks)",
    ),
    Setting(
        "LAB_METRICS_WINDOW_S",
        f"`{DEFAULT_METRICS_WINDOW_S:g}`",
        "sandbox: seconds of CPU use `kubectl top` and autoscaling average over",
    ),
    Setting(
        "LAB_BENCH_ELEMENTS",
        "sized to the device",
        "elements per array in lab 01's headline measurements and `lab bench gpu` (tests set a small value)",
    ),
    Setting(
        "LAB_RECORD_PROGRESS",
        "-",
        "set to `0` by `lab run` for a notebook that is not your own: its checks are not recorded",
    ),
    Setting(
        "LAB_TOOLS_DIR",
        "`$LAB_STATE_DIR/bin`",
        "a folder holding the course's kubectl and helm, used when their pinned digests match and never rewritten "
        "then (read-only is fine): how a grader, an image or a shared hub hands out its own copies",
        show_value=False,
    ),
    Setting(
        "LAB_WORKSHOP_URL",
        "what `lab start --workshop` saved",
        "the workshop your check results are sent to; unset and never saved: nothing is ever sent",
        show_value=False,
    ),
    Setting(
        "LAB_WORKSHOP_TOKEN", "what `lab start --workshop-token` saved", "the workshop's join token", show_value=False
    ),
    Setting("OS_CLOUD", "-", "live: the cloud in `clouds.yaml`", show_value=False),
    Setting(
        "OS_CLIENT_CONFIG_FILE",
        "-",
        "live: a `clouds.yaml` outside openstacksdk's usual places (`lab sandbox env` points it at the sandbox's)",
        show_value=False,
    ),
    Setting("OS_AUTH_URL", "-", "live: set by an OpenStack RC file instead of `clouds.yaml`", show_value=False),
    Setting(
        "KUBECONFIG", "`~/.kube/config`", "live: your cluster's kubeconfig (the first of a list)", show_value=False
    ),
)


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def settings_table() -> str:
    """README's configuration table, in Markdown."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {s.default} | {s.description} |" for s in SETTINGS]
    return "\n".join(rows)


def settings_now() -> list[tuple[Setting, str]]:
    """Each setting with what this process sees: its value, "set" (values not shown), or "default"."""
    out = []
    for s in SETTINGS:
        raw = _raw(s.name)
        out.append((s, (raw if s.show_value else "set") if raw else "default"))
    return out


def _default_state_dir() -> Path:
    try:
        from platformdirs import user_data_dir
    except ImportError:  # a bare GPU box with only numpy/cupy/pyyaml
        return Path.home() / ".local" / "share" / APP_NAME
    return Path(user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """The learner's state directory (created on first use)."""
    raw = _raw("LAB_STATE_DIR")
    path = Path(raw).expanduser() if raw else _default_state_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def tools_dir_setting() -> Path | None:
    """The folder ``LAB_TOOLS_DIR`` names for the course's kubectl and helm, or None (the state directory's)."""
    raw = _raw("LAB_TOOLS_DIR")
    return Path(raw).expanduser() if raw else None


def workspace_dir() -> Path:
    raw = _raw("LAB_WORKSPACE")
    return Path(raw).expanduser() if raw else state_dir() / "workspace"


def learner_id() -> str:
    raw = _raw("LAB_LEARNER")
    if raw:
        return raw
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "learner"


def resolve_backend(name: object = None) -> str:
    """The backend's name: an explicit one (a name, or a backend object), else ``LAB_BACKEND``, else the sandbox."""
    chosen = str(name or _raw("LAB_BACKEND") or SANDBOX).strip().lower()
    if chosen not in BACKENDS:
        raise UsageError(
            f"unknown backend {chosen!r}.",
            hint=f"Valid backends: {', '.join(BACKENDS)}.",
        )
    return chosen


def backend_from_environment() -> bool:
    """Whether ``LAB_BACKEND`` chose the backend (``lab doctor`` says so)."""
    return bool(_raw("LAB_BACKEND"))


def _number(name: str, default: float, example: str) -> float:
    raw = _raw(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a number.", hint=f"Set it to {example}, or unset it.") from None


def sandbox_boot_seconds() -> float:
    return max(0.0, _number("LAB_SANDBOX_BOOT_S", DEFAULT_BOOT_S, "seconds, e.g. 3"))


def pod_start_seconds() -> float:
    """How long the sandbox kubelet keeps a new pod in ContainerCreating (read by the sandbox service)."""
    return max(0.0, _number("LAB_POD_START_S", DEFAULT_POD_START_S, "seconds, e.g. 1"))


def hpa_sync_seconds() -> float:
    """How often the sandbox's autoscaler looks at its pods (at least 0.2 s)."""
    return max(0.2, _number("LAB_HPA_SYNC_S", DEFAULT_HPA_SYNC_S, "seconds, e.g. 15"))


def gitops_poll_seconds() -> float:
    """How often the sandbox's GitOps controller fetches git (at least 0.5 s)."""
    return max(0.5, _number("LAB_GITOPS_POLL_S", DEFAULT_GITOPS_POLL_S, "seconds, e.g. 3"))


def metrics_window_seconds() -> float:
    """The window the sandbox's CPU measurements average over (at least 1 s)."""
    return max(1.0, _number("LAB_METRICS_WINDOW_S", DEFAULT_METRICS_WINDOW_S, "seconds, e.g. 15"))


def expiry_hours() -> float:
    """How long after creation a lab's resources are marked to expire."""
    return _number("LAB_EXPIRY_H", DEFAULT_EXPIRY_H, "hours, e.g. 24")


def bench_elements() -> int | None:
    """``LAB_BENCH_ELEMENTS`` as a whole number of elements (at least 1024), or None when unset."""
    raw = _raw("LAB_BENCH_ELEMENTS")
    return max(1024, int(_number("LAB_BENCH_ELEMENTS", 0, "a number of elements, e.g. 1e6"))) if raw else None


def records_progress() -> bool:
    """False when ``lab run`` ran a notebook that is not the learner's own (``LAB_RECORD_PROGRESS=0``)."""
    return _raw("LAB_RECORD_PROGRESS") != "0"


def workshop_file() -> Path:
    """Where `lab start --workshop URL --workshop-token T` keeps the workshop to send results to."""
    return state_dir() / "workshop" / "target.json"


def workshop_target() -> tuple[str, str] | None:
    """(URL, join token) of the workshop results go to: ``LAB_WORKSHOP_URL`` and ``LAB_WORKSHOP_TOKEN``, else
    what `lab start --workshop` saved; None (send nothing) when neither names a URL."""
    url, token = _raw("LAB_WORKSHOP_URL"), _raw("LAB_WORKSHOP_TOKEN")
    if not url:
        import json

        try:
            saved = json.loads(workshop_file().read_text(encoding="utf-8"))
            url, token = str(saved.get("url") or ""), str(saved.get("token") or "")
        except (OSError, ValueError, AttributeError):
            return None
    return (url.rstrip("/"), token) if url else None


def os_cloud() -> str:
    """The live cloud's name in clouds.yaml (``OS_CLOUD``), or ""."""
    return _raw("OS_CLOUD")


def os_auth_url_set() -> bool:
    return bool(_raw("OS_AUTH_URL"))


def client_config_file() -> Path | None:
    """``OS_CLIENT_CONFIG_FILE``: a clouds.yaml openstacksdk reads before its usual places."""
    raw = _raw("OS_CLIENT_CONFIG_FILE")
    return Path(raw).expanduser() if raw else None


def kubeconfig_from_environment() -> Path | None:
    """The first file of ``KUBECONFIG`` when it is set, else None (the caller picks its own default)."""
    raw = _raw("KUBECONFIG")
    return Path(raw.split(os.pathsep)[0]).expanduser() if raw else None


def kubeconfig_path() -> Path:
    """The first file of ``KUBECONFIG`` (kubectl merges a list), else ``~/.kube/config``."""
    raw = _raw("KUBECONFIG") or "~/.kube/config"
    return Path(raw.split(os.pathsep)[0]).expanduser()
