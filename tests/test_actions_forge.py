"""The workflow runner end to end: a real push to the sandbox's forge starts a run, which completes, and its
logs are readable through the API, the client and `lab ci logs`."""

from __future__ import annotations

import requests
from sandbox_fixtures import sandbox  # noqa: F401

WORKFLOW = """\
name: Deploy
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: registry.example/learner/ci-app/api
          tags: type=sha
      - run: |
          cat app.txt
          echo "tags ${{ steps.meta.outputs.tags }}"
  check:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: exit 3
  after:
    needs: check
    runs-on: ubuntu-latest
    steps:
      - run: echo never
"""


def test_push_runs_the_workflow_and_logs_are_readable(sandbox, tmp_path, capsys):
    from lab_helpers.cli import main
    from lab_helpers.deploy import ci, git

    work = git.clone(git.create_repo("ci-app"), tmp_path / "ci-app")
    (work / "app.txt").write_text("the app's code\n")
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / ".github" / "workflows" / "deploy.yaml").write_text(WORKFLOW)
    sha = git.commit(work, "app and its workflow")
    assert git.push(work).ok
    run = ci.wait_for_run("ci-app", sha, timeout=60)
    assert run.status == "completed" and run.conclusion == "failure", ci.logs(run.id)
    assert [(j["id"], j["conclusion"]) for j in run.jobs] == [
        ("build", "success"),
        ("check", "failure"),
        ("after", "skipped"),
    ]
    text = ci.logs(run.id)
    assert "the app's code" in text and f"registry.example/learner/ci-app/api:sha-{sha[:7]}" in text
    assert "Process completed with exit code 3." in text
    api = f"{sandbox.base_url}/git/api/v1/repos/learner/ci-app/actions/runs"
    listed = requests.get(api, params={"head_sha": sha}, timeout=30).json()
    assert [r["id"] for r in listed["workflow_runs"]] == [run.id] and listed["total_count"] == 1
    assert requests.get(f"{api}/{run.id}/logs", timeout=30).text == text
    assert requests.get(f"{api}/999999", timeout=30).status_code == 404
    assert main(["ci", "logs", str(run.id)]) == 0
    assert "the app's code" in capsys.readouterr().out
    assert main(["ci", "runs", "--repo", "ci-app"]) == 0
    assert sha[:7] in capsys.readouterr().out
