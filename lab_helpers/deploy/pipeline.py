"""Lab 06's loop end to end: the two repositories seeded from the course's files, and one change followed
from ``git push`` to the first answer of the new version, with the time of every hand-off.

Each hand-off is seen where a team would see it: the run in the forge's list of workflow runs, the
tag in the registry, the Application's image tag (set by the promotion step), its sync and health in
its status, the Deployment's rollout, and the api's own answer through the Ingress. ``follow``
polls them all in one loop (every 0.1 s) and notes when each first shows the change, so the figure
says where the seconds go.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from ..errors import ResourceStateError, UsageError
from ..paths import data_dir

__all__ = ["HANDOFFS", "Followed", "HandOff", "follow", "seed_app_repo", "seed_infra_repo", "set_version", "template"]

TEMPLATES = "push-to-deploy"
APP_FILES = ("sample_app", "Dockerfile", ".dockerignore", "requirements.txt", "requirements-model.txt", "README.md")
# What happens after a push, in order, and who does it.
HANDOFFS: tuple[tuple[str, str], ...] = (
    ("push", "git: the forge takes the commit"),
    ("build", "the workflow runs its jobs and builds the image"),
    ("tag", "the registry holds the new sha- tag"),
    ("promote", "the promotion step sets the Application's image.tag"),
    ("sync", "the GitOps controller applies the chart at the new values"),
    ("rollout", "the Deployment replaces its pods"),
    ("answer", "the api answers with the new version"),
)


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def template(path: str) -> str:
    """The text of one of the pipeline's files as the course ships it (``app/.github/workflows/deploy.yaml``)."""
    found = data_dir() / TEMPLATES / path
    if not found.is_file():
        raise UsageError(f"the course has no file {path!r} for lab 06.", hint="Look in data/push-to-deploy/.")
    return found.read_text(encoding="utf-8")


def seed_app_repo(workdir: Path | str, **values: str) -> list[str]:
    """Write the sample application's source and the pipeline's two files into a clone; ``values``
    fill the deploy file's placeholders (``RELEASE``, ``INFRA_REPO``, ``REGISTRY``, ``OWNER``,
    ``NAMESPACE``). Returns the paths written, relative to the clone."""
    work = Path(workdir)
    app = data_dir() / "sample-app"
    written = []
    for name in APP_FILES:
        if (app / name).exists():
            _copy(app / name, work / name)
            written.append(name)
    templates = data_dir() / TEMPLATES / "app"
    for source in sorted(p for p in templates.rglob("*") if p.is_file()):
        rel = source.relative_to(templates)
        text = source.read_text(encoding="utf-8")
        if rel.parts[0] == "deploy":  # the Application names the learner's repositories and namespace
            try:
                text = Template(text).substitute(values)
            except KeyError as exc:
                raise UsageError(
                    f"the deploy file needs a value for {exc.args[0]}.",
                    hint="Pass RELEASE, INFRA_REPO, REGISTRY, OWNER and NAMESPACE to seed_app_repo.",
                ) from None
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text, encoding="utf-8")
        written.append(str(rel))
    return written


def seed_infra_repo(workdir: Path | str) -> list[str]:
    """Write the course's charts into a clone of the infra repository, as ``charts/<name>``."""
    work = Path(workdir)
    charts = data_dir() / "charts"
    written = []
    for chart in sorted(p for p in charts.iterdir() if (p / "Chart.yaml").is_file()):
        _copy(chart, work / "charts" / chart.name)
        written.append(f"charts/{chart.name}")
    return written


def set_version(workdir: Path | str, version: str) -> Path:
    """Change the version string the api reports (``sample_app/__init__.py``); returns the file."""
    path = Path(workdir) / "sample_app" / "__init__.py"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = [f'__version__ = "{version}"\n' if line.startswith("__version__") else line for line in lines]
    if changed == lines and not any(line.startswith("__version__") for line in lines):
        raise ResourceStateError(f"{path} has no __version__ line.", hint="Seed the clone again with seed_app_repo.")
    path.write_text("".join(changed), encoding="utf-8")
    return path


@dataclass(frozen=True)
class HandOff:
    """One step of the loop: when it was first seen done, in seconds after the push began."""

    name: str
    what: str
    at_s: float | None  # None: not seen before the time was up


@dataclass
class Followed:
    """What ``follow`` saw: each hand-off's time, and the facts it read on the way."""

    sha: str
    tag: str
    handoffs: list[HandOff] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return all(h.at_s is not None for h in self.handoffs)

    @property
    def total_s(self) -> float | None:
        return self.handoffs[-1].at_s if self.handoffs else None

    def __str__(self) -> str:
        rows = [f"commit {self.sha[:7]} -> image tag {self.tag}"]
        before = 0.0
        for h in self.handoffs:
            if h.at_s is None:
                rows.append(f"  {h.name:<8} not seen: {h.what}")
                continue
            rows.append(f"  {h.name:<8} at {h.at_s:6.1f} s (+{h.at_s - before:5.1f} s)  {h.what}")
            before = h.at_s
        return "\n".join(rows)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


Probe = Callable[[], bool]


def follow(
    probes: dict[str, Probe], *, sha: str, tag: str, started: float, timeout_s: float = 120.0, poll_s: float = 0.1
) -> Followed:
    """Poll each hand-off's probe (in ``HANDOFFS`` order; ``push`` is done when ``follow`` starts)
    until every one has said True once, or ``timeout_s``. ``started`` is the ``time.monotonic()``
    taken just before the push. A later hand-off is only asked once the one before it was seen."""
    unknown = sorted(set(probes) - {name for name, _ in HANDOFFS})
    if unknown:
        raise UsageError(f"no hand-off called {unknown[0]!r}.", hint=f"Use: {', '.join(n for n, _ in HANDOFFS)}.")
    seen: dict[str, float] = {"push": time.monotonic() - started}
    order = [name for name, _ in HANDOFFS if name in probes]
    deadline = started + timeout_s
    while order and time.monotonic() < deadline:
        name = order[0]
        try:
            ok = probes[name]()
        except Exception:  # a probe that cannot read yet (a pod not there) is "not yet"
            ok = False
        if ok:
            seen[name] = time.monotonic() - started
            order.pop(0)
            continue
        time.sleep(poll_s)
    handoffs = [HandOff(n, w, seen.get(n)) for n, w in HANDOFFS if n == "push" or n in probes]
    return Followed(sha=sha, tag=tag, handoffs=handoffs)
