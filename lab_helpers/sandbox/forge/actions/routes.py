"""The runs' REST API, a subset of GitHub's "Workflow runs" endpoints, mounted in the forge's JSON API
(``/git/api/v1``): ``GET /repos/{owner}/{repo}/actions/runs`` (``{"total_count", "workflow_runs"}``,
filters ``head_sha``, ``branch``, ``status``), ``.../actions/runs/{id}`` and ``.../actions/runs/{id}/logs``
(plain text; GitHub's answers a zip of the same logs)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, Routes, reply
from ..common import readable
from . import records

__all__ = ["routes"]

routes = Routes()


def _run_of(ctx: Ctx, owner: str, repo: str, run_id: str) -> dict[str, Any]:
    readable(ctx, owner, repo)
    run = records.load(ctx.state_dir, int(run_id)) if run_id.isdigit() else None
    if run is None or run["repository"]["full_name"] != f"{owner}/{repo}":
        raise ctx.bad(f"workflow run {run_id} of {owner}/{repo} not found", 404, "NotFound")
    return run


@routes("/repos/<owner>/<repo>/actions/runs", "GET")
def list_runs(ctx: Ctx, owner: str, repo: str) -> Response:
    readable(ctx, owner, repo)
    shown = records.list_runs(ctx.state_dir, f"{owner}/{repo}")
    args = ctx.request.args
    for key, field in (("head_sha", "head_sha"), ("branch", "head_branch"), ("status", "status")):
        if args.get(key):
            shown = [
                r for r in shown if r.get(field) == args[key] or (key == "status" and r.get("conclusion") == args[key])
            ]
    return reply({"total_count": len(shown), "workflow_runs": shown})


@routes("/repos/<owner>/<repo>/actions/runs/<run_id>", "GET")
def show_run(ctx: Ctx, owner: str, repo: str, run_id: str) -> Response:
    return reply(_run_of(ctx, owner, repo, run_id))


@routes("/repos/<owner>/<repo>/actions/runs/<run_id>/logs", "GET")
def run_logs(ctx: Ctx, owner: str, repo: str, run_id: str) -> Response:
    run = _run_of(ctx, owner, repo, run_id)
    return Response(records.logs_text(ctx.state_dir, run), 200, mimetype="text/plain")
