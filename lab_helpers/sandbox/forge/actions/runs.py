"""From a push to finished runs, as an ordered list of steps:

1. ``plan``: read ``.github/workflows/*.y*ml`` at the pushed commit (real ``git`` on the forge's bare
   repository), parse and validate each (an invalid file is a failed run naming file and key, as GitHub
   shows it), match its ``on.push`` filters against the ref and the files the push changed, and record one
   queued run per match. Recording before running is what makes a crash harmless: queued runs are run
   when the service starts again.
2. ``execute``: jobs in ``needs`` order, one after another (the course's CI has two cores); a job whose
   ``needs`` failed is skipped unless its ``if:`` says ``always()`` or ``failure()``; the run's conclusion is
   ``failure`` when any job failed.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from .expressions import ExpressionError, evaluate_if
from .jobs import base_contexts, run_job
from .records import allocate, iso, job_log, load, save
from .triggers import ZERO_SHA, Push, push_triggers
from .workflow import Workflow, WorkflowError, parse, runner_kind
from .workspace import Builder, PushContext, StepFailed, git

__all__ = ["changed_files", "execute", "job_order", "plan", "workflow_files"]

WORKFLOW_DIR = ".github/workflows"


def workflow_files(repo_path: Path, sha: str) -> dict[str, str]:
    """``path -> text`` of every workflow file at ``sha``."""
    try:
        listing = git("ls-tree", "--name-only", f"{sha}:{WORKFLOW_DIR}", cwd=repo_path)
    except StepFailed:
        return {}
    names = [n for n in listing.splitlines() if n.endswith((".yml", ".yaml"))]
    return {f"{WORKFLOW_DIR}/{n}": git("show", f"{sha}:{WORKFLOW_DIR}/{n}", cwd=repo_path) for n in sorted(names)}


def changed_files(repo_path: Path, before: str, after: str) -> tuple[str, ...]:
    """The files a push changed: ``before..after``; for a new ref, what its tip commit changed against its
    parent (every file of a root commit), as GitHub compares a new branch's push."""
    if before == ZERO_SHA or not before:
        parents = git("rev-list", "--parents", "-n", "1", after, cwd=repo_path).split()[1:]
        if not parents:
            return tuple(git("ls-tree", "-r", "--name-only", after, cwd=repo_path).splitlines())
        before = parents[0]
    try:
        out = git("diff", "--name-only", "--no-renames", before, after, cwd=repo_path)
    except StepFailed:  # `before` unknown (a force push over history the repository no longer has)
        out = git("ls-tree", "-r", "--name-only", after, cwd=repo_path)
    return tuple(out.splitlines())


def job_order(jobs: dict[str, dict[str, Any]]) -> list[str]:
    """Job ids so each comes after those it ``needs``, otherwise in file order."""
    order: list[str] = []
    pending = list(jobs)
    while pending:
        for job_id in pending:
            needs = jobs[job_id].get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            if all(n in order for n in needs):
                order.append(job_id)
                pending.remove(job_id)
                break
        else:  # a cycle (workflow.parse refuses those): keep file order
            order.extend(pending)
            break
    return order


def _new_run(state_dir: Path, push: PushContext, path: str, name: str, server_url: str) -> dict[str, Any]:
    ts = time.time()
    run_id = allocate(state_dir)
    return {
        "id": run_id,
        "name": name,
        "workflow_path": path,
        "event": push.event_name,
        "head_branch": push.ref_name,
        "head_sha": push.sha,
        "before": push.before,
        "ref": push.ref,
        "actor": push.actor,
        "status": "queued",
        "conclusion": None,
        "created_at": iso(ts),
        "updated_at": iso(ts),
        "run_started_at": None,
        "repository": {
            "full_name": push.repository,
            "name": push.repo,
            "owner": {"login": push.owner},
            "default_branch": push.default_branch,
        },
        "html_url": f"{server_url}/{push.repository}/actions/runs/{run_id}",
        "jobs": [],
        "images": [],
        "message": "",
    }


def plan(state_dir: Path, repo_path: Path, push: PushContext) -> list[int]:
    """Record a queued run for each workflow this push triggers (a failed one for each invalid file)."""
    if push.sha == ZERO_SHA:
        return []  # a deleted ref starts nothing
    event = Push(push.ref, push.before, push.sha, changed_files(repo_path, push.before, push.sha))
    made: list[int] = []
    for path, text in workflow_files(repo_path, push.sha).items():
        try:
            workflow = parse(path, text)
        except WorkflowError as exc:
            run = _new_run(state_dir, push, path, path, push.server_url)
            ts = iso(time.time())
            run.update(status="completed", conclusion="failure", message=str(exc), run_started_at=ts, updated_at=ts)
            save(state_dir, run)
            made.append(run["id"])
            continue
        due, _why = push_triggers(workflow.on, event)
        if due:
            run = _new_run(state_dir, push, path, workflow.name, push.server_url)
            save(state_dir, run)
            made.append(run["id"])
    return made


def _push_of(run: dict[str, Any], server_url: str) -> PushContext:
    repo = run["repository"]
    return PushContext(
        owner=repo["owner"]["login"],
        repo=repo["name"],
        ref=run["ref"],
        sha=run["head_sha"],
        before=run.get("before") or ZERO_SHA,
        actor=run.get("actor") or repo["owner"]["login"],
        event_name=run["event"],
        default_branch=repo.get("default_branch") or "main",
        server_url=server_url,
    )


def execute(
    state_dir: Path,
    run_id: int,
    repo_path: Path,
    *,
    builder: Builder | None = None,
    server_url: str = "http://127.0.0.1/git",
) -> dict[str, Any]:
    """Run a queued run to completion; the finished run."""
    run = load(state_dir, run_id)
    if run is None:
        raise KeyError(f"no workflow run {run_id}")
    if run["status"] == "completed":
        return run
    push = _push_of(run, server_url)
    try:
        workflow: Workflow = parse(
            run["workflow_path"], git("show", f"{push.sha}:{run['workflow_path']}", cwd=repo_path)
        )
    except (WorkflowError, StepFailed) as exc:
        ts = iso(time.time())
        run.update(status="completed", conclusion="failure", message=str(exc), updated_at=ts)
        save(state_dir, run)
        return run
    run.update(status="in_progress", run_started_at=iso(time.time()), updated_at=iso(time.time()), jobs=[], images=[])
    save(state_dir, run)
    token = "ghs_" + secrets.token_urlsafe(27)  # a per-run token that opens nothing outside this run
    masks = [token]
    base = base_contexts(push, token, Path("/home/runner/work") / push.repo / push.repo, run_id)
    results: dict[str, dict[str, Any]] = {}
    for job_id in job_order(workflow.jobs):
        job = workflow.jobs[job_id]
        needs_list = job.get("needs") or []
        needs_list = [needs_list] if isinstance(needs_list, str) else needs_list
        needs = {n: results[n] for n in needs_list}
        status = "success" if all(results[n]["result"] == "success" for n in needs_list) else "failure"
        contexts = {**base, "env": {k: str(v) for k, v in (workflow.doc.get("env") or {}).items()}, "needs": needs}
        try:
            due = evaluate_if(job.get("if"), contexts, status)
        except ExpressionError as exc:
            due = False
            run["message"] = f"jobs.{job_id}.if: {exc}"
            status = "failure"
        name = str(job.get("name") or job_id)
        if not due:
            conclusion = "failure" if run["message"].startswith(f"jobs.{job_id}.") else "skipped"
            run["jobs"].append(
                {
                    "name": name,
                    "id": job_id,
                    "runner": runner_kind(job.get("runs-on")),
                    "status": "completed",
                    "conclusion": conclusion,
                    "started_at": None,
                    "completed_at": None,
                    "steps": [],
                }
            )
            results[job_id] = {"result": conclusion, "outputs": {}}
            save(state_dir, run)
            continue
        placeholder: dict[str, Any] = {
            "name": name,
            "id": job_id,
            "runner": runner_kind(job.get("runs-on")),
            "status": "in_progress",
            "conclusion": None,
            "started_at": iso(time.time()),
            "completed_at": None,
            "steps": [],
        }
        run["jobs"].append(placeholder)
        save(state_dir, run)
        result = run_job(
            job_id=job_id,
            job=job,
            runner=str(placeholder["runner"]),
            push=push,
            repo_path=repo_path,
            state_dir=state_dir,
            log_path=job_log(state_dir, run_id, name),
            base=base,
            workflow_env=workflow.doc.get("env") or {},
            needs=needs,
            masks=masks,
            builder=builder,
        )
        run["jobs"][-1] = result.record
        run["images"] = [*run["images"], *[i for i in result.images if i not in run["images"]]]
        results[job_id] = {"result": result.conclusion, "outputs": result.outputs}
        run["updated_at"] = iso(time.time())
        save(state_dir, run)
    failed = any(j["conclusion"] == "failure" for j in run["jobs"])
    run.update(status="completed", conclusion="failure" if failed else "success", updated_at=iso(time.time()))
    save(state_dir, run)
    return run
