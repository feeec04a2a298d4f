"""Which kubectl and helm a learner's shell will run, where they come from, and their versions.

``lab doctor`` and ``lab tools status`` read this. A kubectl more than one minor version away
from the server's (the sandbox reports the pinned kubectl's version) is supported by neither
side: Kubernetes' version skew policy allows a client one minor older or newer than the API
server. Debian's own ``kubernetes-client`` package is kubectl 1.20, far outside it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .install import installed, pinned

__all__ = ["ToolFound", "find_tool", "server_minor", "tool_version"]

VERSION_TIMEOUT_S = 10.0
MAX_SKEW = 1  # minors between kubectl and the API server that Kubernetes supports
COURSE, ON_PATH, NOWHERE = "course", "PATH", ""


@dataclass(frozen=True)
class ToolFound:
    """One tool as the learner's shell resolves it."""

    name: str
    path: Path | None  # what runs: the first on PATH, else the course's copy
    source: str  # COURSE (the course's state directory), ON_PATH (somewhere else on PATH), NOWHERE
    version: str  # "v1.35.2", or "" when it could not be read
    course_copy: Path | None  # the course's verified copy, whether or not it is first on PATH
    first_on_path: bool

    @property
    def minor(self) -> int | None:
        """The minor version number (35 for v1.35.2), or None."""
        m = re.match(r"v?\d+\.(\d+)", self.version)
        return int(m[1]) if m else None

    def where(self, full: bool = True) -> str:
        """Where it comes from, in words; ``full=False`` names the course's copy without the state directory's path."""
        if self.source == NOWHERE or self.path is None:
            return "not found"
        if self.source == COURSE:
            shown = str(self.path) if full else f"the state directory's {self.path.parent.name}/{self.path.name}"
            note = "" if self.first_on_path else ' (not on PATH: eval "$(lab sandbox env)")'
            return f"the course's copy: {shown}{note}"
        return f"from PATH: {self.path}"

    def skew_warning(self, server_minor: int) -> str:
        """Why this kubectl is unsupported against a v1.``server_minor`` server ("" when it is fine)."""
        if self.name != "kubectl" or self.minor is None or abs(self.minor - server_minor) <= MAX_SKEW:
            return ""
        return (
            f"kubectl {self.version} is {abs(self.minor - server_minor)} minor versions from the server's "
            f"v1.{server_minor}; Kubernetes supports {MAX_SKEW}"
        )


def tool_version(name: str, path: Path) -> str:
    """The version ``path`` reports ("v1.35.2"; helm's build suffix dropped), or "" when it does not run."""
    args = ["version", "--client", "-o", "json"] if name == "kubectl" else ["version", "--short"]
    try:
        done = subprocess.run([str(path), *args], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if done.returncode != 0:
        return ""
    if name == "kubectl":
        try:
            return str(json.loads(done.stdout)["clientVersion"]["gitVersion"])
        except (ValueError, KeyError, TypeError):
            return ""
    return done.stdout.strip().split("+", 1)[0]


def server_minor() -> int:
    """The minor version the sandbox's API server reports: the pinned kubectl's, as ``data/tools.yaml`` says."""
    _, tools = pinned()
    kubectl = next(t for t in tools if t.name == "kubectl")
    return int(kubectl.version.lstrip("v").split(".")[1])


def find_tool(name: str, path_env: str | None = None) -> ToolFound:
    """Which ``name`` runs with ``path_env`` (default: this process's PATH), and the course's copy."""
    course = installed().get(name)
    first = shutil.which(name, path=path_env)
    if first is not None:
        where = Path(first)
        on_course = course is not None and where.resolve() == course.resolve()
        return ToolFound(name, where, COURSE if on_course else ON_PATH, tool_version(name, where), course, True)
    if course is not None:
        return ToolFound(name, course, COURSE, tool_version(name, course), course, False)
    return ToolFound(name, None, NOWHERE, "", None, False)
