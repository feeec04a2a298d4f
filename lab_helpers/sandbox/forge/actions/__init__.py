"""The course's workflow runner, like GitHub Actions: a push to the sandbox's forge runs the workflows of
``.github/workflows/`` at the pushed commit, for real, in a fresh checkout. It is the course's own runner
(no GitHub Actions runner can be installed here), faithful to GitHub's documented behaviour for the subset
below; the same workflow files run unchanged on GitHub.

Each workflow file is checked first against GitHub's published workflow schema (the copy check-jsonschema
ships), then against this subset; a file outside it fails its run with one line naming the file and the key.
"""

from __future__ import annotations

from .consumer import start, stop

__all__ = ["SUBSET", "start", "stop"]

SUBSET = """\
The course's workflow runner (like GitHub Actions) supports:
  on:        push (branches, branches-ignore, tags, tags-ignore, paths, paths-ignore; patterns *, **, ?, +, [], !),
             pull_request (read and validated; the forge has no pull requests, so it starts nothing),
             workflow_dispatch (read and validated; starts nothing)
  env:       at workflow, job and step level; $GITHUB_ENV from a step for the steps after it
  jobs:      name, needs, if, runs-on (ubuntu-* -> a hosted runner; [self-hosted, cluster] or a scale set
             named in data/ci.yaml -> a cluster runner), outputs, env, permissions, timeout-minutes, steps
  steps:     name, id, if, env, run (bash, in a fresh checkout), working-directory, shell: bash,
             timeout-minutes (default 10), with, uses of:
               actions/checkout@v4|v5, docker/setup-buildx-action@v3, docker/setup-qemu-action@v3,
               docker/login-action@v3 (accepted and logged), docker/metadata-action@v5,
               docker/build-push-action@v5|v6 (builds into the sandbox registry)
  ${{ }}:    github.* (sha, ref, ref_name, ref_type, repository, repository_owner, actor, event_name, workspace),
             env.*, steps.<id>.outputs.*, needs.<job>.outputs.*, secrets.GITHUB_TOKEN (a per-run token that
             opens nothing), vars; literals, == != < <= > >= && || ! ( ); startsWith, endsWith, contains,
             format, toJSON, success(), failure(), always(), cancelled()
Not supported (the run fails naming the key): strategy/matrix, services, container, reusable workflows
(jobs.<id>.uses), concurrency, environment, defaults, on.schedule and other events, actions not listed above,
shells other than bash, runners other than Linux.
Jobs run one after another in `needs` order; a failed job skips the jobs that need it.
"""
