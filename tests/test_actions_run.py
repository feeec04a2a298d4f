"""Workflow runs for real: a bare repository made with real git, runs planned from a push and executed (bash
steps in a fresh checkout, outputs, $GITHUB_ENV, needs, a failing step skipping its dependant)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lab_helpers.sandbox.forge.actions import records
from lab_helpers.sandbox.forge.actions.runs import execute, plan
from lab_helpers.sandbox.forge.actions.workspace import PushContext

ZERO = "0" * 40

WORKFLOW = """\
name: Build
on:
  push:
    branches: [main]
env:
  GREETING: hello
  IMAGE: registry.example/${{ github.repository }}
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      short: ${{ steps.sha.outputs.short }}
    steps:
      - uses: actions/checkout@v4
      - id: sha
        run: |
          test -f app.txt
          echo "short=${GITHUB_SHA::7}" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV_FILE=yes" >> "$GITHUB_ENV"
      - run: |
          test "$FROM_ENV_FILE" = yes
          test "$GREETING" = hello
          test "$IMAGE" = registry.example/learner/app
          test "$CI" = true && test "$RUNNER_OS" = Linux
          test -z "${OS_CLOUD:-}" && test -z "${KUBECONFIG:-}" && test -z "${SECRET_OF_THE_HOST:-}"
          echo "token ${{ secrets.GITHUB_TOKEN }} ref $GITHUB_REF_NAME"
  test:
    needs: build
    runs-on: [self-hosted, cluster]
    steps:
      - run: echo "built ${{ needs.build.outputs.short }}"
      - run: FAIL_HERE
  deploy:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - run: echo deploying
"""


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    bare = tmp_path / "forge" / "repos" / "learner" / "app.git"
    bare.parent.mkdir(parents=True)
    _git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
    work = tmp_path / "work"
    _git(tmp_path, "init", "--quiet", "-b", "main", str(work))
    return bare, work


def _push(work: Path, bare: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    _git(work, "add", "-A")
    _git(work, "commit", "--quiet", "-m", "change")
    _git(work, "push", "--quiet", str(bare), "HEAD:refs/heads/main")
    return _git(work, "rev-parse", "HEAD")


def _ctx(sha: str, before: str = ZERO, ref: str = "refs/heads/main") -> PushContext:
    return PushContext("learner", "app", ref, sha, before, "learner")


def test_run_success_outputs_env_and_a_failing_step_skips_its_dependant(
    repo: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_OF_THE_HOST", "must-not-leak")
    bare, work = repo
    sha = _push(work, bare, {"app.txt": "v1\n", ".github/workflows/build.yaml": WORKFLOW})
    state = tmp_path
    [run_id] = plan(state, bare, _ctx(sha))
    assert records.load(state, run_id)["status"] == "queued"
    run = execute(state, run_id, bare)
    jobs = {j["id"]: j for j in run["jobs"]}
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert jobs["build"]["conclusion"] == "success" and jobs["build"]["runner"] == "hosted"
    assert jobs["test"]["conclusion"] == "failure" and jobs["test"]["runner"] == "cluster"
    assert jobs["deploy"]["conclusion"] == "skipped"
    assert [s["conclusion"] for s in jobs["test"]["steps"]] == ["success", "failure"]
    logs = records.logs_text(state, run)
    assert f"built {sha[:7]}" in logs
    assert "ref main" in logs and "token *** ref" in logs  # the run's token is masked
    assert "FAIL_HERE: command not found" in logs and "##[error]Process completed with exit code 127." in logs
    first = logs.splitlines()[1]
    assert first[:4].isdigit() and first[10] == "T" and first.split(" ")[0].endswith("Z")  # GitHub's timestamps


def test_triggers_invalid_files_and_deleted_refs(repo: tuple[Path, Path], tmp_path: Path) -> None:
    bare, work = repo
    ok = "on:\n  push:\n    paths: ['src/**']\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n"
    bad = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    strategy: {matrix: {x: [1]}}\n    steps:\n      - run: 'true'\n"
    first = _push(work, bare, {".github/workflows/ok.yml": ok, ".github/workflows/bad.yaml": bad, "README.md": "x"})
    made = [records.load(tmp_path, i) for i in plan(tmp_path, bare, _ctx(first))]
    # a root commit changes every file: src/** matches nothing, so only the invalid file makes a run
    assert [r["workflow_path"] for r in made] == [".github/workflows/bad.yaml"]
    assert made[0]["conclusion"] == "failure" and "'strategy'" in made[0]["message"]
    assert "Invalid workflow file: .github/workflows/bad.yaml" in made[0]["message"]
    second = _push(work, bare, {"src/app.py": "print()\n", ".github/workflows/bad.yaml": ok.replace("src", "nope")})
    made = [records.load(tmp_path, i) for i in plan(tmp_path, bare, _ctx(second, before=first))]
    assert [r["workflow_path"] for r in made] == [".github/workflows/ok.yml"]
    assert execute(tmp_path, made[0]["id"], bare)["conclusion"] == "success"
    assert plan(tmp_path, bare, PushContext("learner", "app", "refs/heads/main", ZERO, second, "learner")) == []
    assert [r["id"] for r in records.list_runs(tmp_path, "learner/app")] == sorted(
        (r["id"] for r in records.list_runs(tmp_path)), reverse=True
    )
