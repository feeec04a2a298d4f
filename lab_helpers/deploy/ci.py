"""Workflow runs of the course's runner (like GitHub Actions) from a notebook: list them, read one and its
logs, wait for the run a push started. The runs are the sandbox's records (``<state>/forge/runs/``), the
same ones the forge's API serves at ``/git/api/v1/repos/{owner}/{repo}/actions/runs``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..sandbox.forge.actions import SUBSET, records
from ..sandbox.service import ensure_running

__all__ = [
    "SUBSET",
    "Run",
    "image_tags",
    "logs",
    "run",
    "run_for",
    "runs",
    "runs_table",
    "starts_workflow",
    "wait_for_run",
]

LEARNER = "learner"


@dataclass(frozen=True)
class Run:
    """One workflow run, as GitHub's API shows it (``raw`` holds the whole record)."""

    id: int
    name: str
    workflow_path: str
    repository: str
    head_branch: str
    head_sha: str
    status: str
    conclusion: str | None
    created_at: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Run:
        return cls(
            id=int(doc["id"]),
            name=str(doc.get("name", "")),
            workflow_path=str(doc.get("workflow_path", "")),
            repository=str(doc["repository"]["full_name"]),
            head_branch=str(doc.get("head_branch", "")),
            head_sha=str(doc.get("head_sha", "")),
            status=str(doc.get("status", "")),
            conclusion=doc.get("conclusion"),
            created_at=str(doc.get("created_at", "")),
            jobs=list(doc.get("jobs", [])),
            images=list(doc.get("images", [])),
            message=str(doc.get("message", "")),
            raw=doc,
        )

    @property
    def ok(self) -> bool:
        return self.status == "completed" and self.conclusion == "success"

    def __str__(self) -> str:
        jobs = ", ".join(f"{j['name']}: {j.get('conclusion') or j.get('status')}" for j in self.jobs)
        state = self.conclusion or self.status
        text = f"run {self.id} {self.name} ({self.repository}@{self.head_sha[:7]} {self.head_branch}): {state}"
        return text + (f" [{jobs}]" if jobs else "") + (f"\n{self.message}" if self.message else "")


def _full(repo: str | None, owner: str | None = None) -> str | None:
    if repo is None:
        return None
    return repo if "/" in repo else f"{owner or LEARNER}/{repo}"


def runs(owner: str | None = None, repo: str | None = None) -> list[Run]:
    """Runs, newest first: of ``owner/repo`` (``repo`` alone means the learner's), of ``owner``, or all."""
    state = ensure_running().state_dir
    docs = records.list_runs(state, _full(repo, owner))
    if owner is not None and repo is None:
        docs = [d for d in docs if d["repository"]["owner"]["login"] == owner]
    return [Run.of(d) for d in docs]


def run(id: int) -> Run:
    doc = records.load(ensure_running().state_dir, int(id))
    if doc is None:
        raise UsageError(f"There is no workflow run {id}.", hint="List the runs: lab ci runs (or ci.runs()).")
    return Run.of(doc)


def logs(id: int) -> str:
    """The run's logs: each job's lines with GitHub's timestamps, under a header per job."""
    state = ensure_running().state_dir
    doc = records.load(state, int(id))
    if doc is None:
        raise UsageError(f"There is no workflow run {id}.", hint="List the runs: lab ci runs (or ci.runs()).")
    return records.logs_text(state, doc)


def wait_for_run(repo: str, sha: str, timeout: float = 120) -> Run:
    """The run a push of ``sha`` to ``repo`` started, once completed. Usually a few seconds (a build step,
    10-30 s). A TimeoutError says whether no run started (no workflow's trigger matched) or one is still going."""
    full = _full(repo)
    deadline = time.monotonic() + timeout
    seen: list[Run] = []
    while True:
        seen = [r for r in runs(repo=full) if r.head_sha.startswith(sha) or sha.startswith(r.head_sha)]
        done = [r for r in seen if r.status == "completed"]
        if seen and len(done) == len(seen):
            return min(done, key=lambda r: r.id)
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not seen:
        raise TimeoutError(
            f"No workflow run started for {full}@{sha[:7]} in {timeout:.0f} s: check that the push reached the "
            "forge and that a workflow's on.push filters (branches, tags, paths) match it."
        )
    raise TimeoutError(
        f"Run {seen[0].id} of {full}@{sha[:7]} is still {seen[0].status} after {timeout:.0f} s; "
        f"read its logs: lab ci logs {seen[0].id}"
    )


def runs_table(owner: str | None = None, repo: str | None = None, limit: int = 20) -> str:
    """A text table of the newest runs."""
    shown = runs(owner, repo)[:limit]
    if not shown:
        return "no workflow runs yet: push a commit with a .github/workflows/*.yaml file"
    rows = [("ID", "WORKFLOW", "REPOSITORY", "BRANCH", "SHA", "STATUS", "CONCLUSION", "CREATED")]
    rows += [
        (
            str(r.id),
            r.name[:30],
            r.repository,
            r.head_branch,
            r.head_sha[:7],
            r.status,
            r.conclusion or "-",
            r.created_at,
        )
        for r in shown
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def run_for(repo: str, sha: str) -> Run | None:
    """The first run a push of ``sha`` to ``repo`` started (None while there is none)."""
    found = [r for r in runs(repo=_full(repo)) if r.head_sha.startswith(sha) or sha.startswith(r.head_sha)]
    return min(found, key=lambda r: r.id) if found else None


def starts_workflow(workflow: str, *, ref: str, files: list[str] | tuple[str, ...]) -> bool:
    """Whether a push of ``ref`` changing ``files`` starts the workflow (its text), by the runner's own rules."""
    from ..sandbox.forge.actions import triggers
    from ..sandbox.forge.actions import workflow as workflows

    parsed = workflows.parse(".github/workflows/workflow.yaml", workflow)
    push = triggers.Push(ref=ref, before="1" * 40, after="2" * 40, changed=tuple(files))
    return triggers.push_triggers(parsed.on, push)[0]


def image_tags(workflow: str, *, job: str, ref: str, sha: str, repository: str = "learner/sample-app") -> list[str]:
    """The tags (names only) the metadata step of ``job`` computes for a push of ``sha`` to ``ref``."""
    from ..sandbox.forge.actions import metadata
    from ..sandbox.forge.actions import workflow as workflows

    parsed = workflows.parse(".github/workflows/workflow.yaml", workflow)
    steps = parsed.jobs[job].get("steps") or []
    meta = next((s for s in steps if str(s.get("uses", "")).startswith("docker/metadata-action")), None)
    if meta is None:
        raise UsageError(f"job {job!r} has no docker/metadata-action step.", hint="Name a job that computes tags.")
    given = meta.get("with") or {}
    event = metadata.Event("push", ref, sha, repository)
    found = metadata.docker_tags("image", given.get("tags"), event, flavor=given.get("flavor"))
    return [t.rsplit(":", 1)[-1] for t in found.tags]
