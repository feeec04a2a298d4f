"""Lab 06's judges: triggers and tags decided by the workflow runner's own rules, the worker's values by the
real chart and Helm, the rollback by git, and the drills' readings."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab_helpers.checks import evaluate, get_spec
from lab_helpers.paths import data_dir

WORKFLOW = (data_dir() / "push-to-deploy" / "app" / ".github" / "workflows" / "deploy.yaml").read_text()
PUSHES = {
    "main: sample_app/api.py changed": {"ref": "refs/heads/main", "files": ["sample_app/api.py"]},
    "main: README.md changed": {"ref": "refs/heads/main", "files": ["README.md"]},
    "feature/login: sample_app/api.py changed": {"ref": "refs/heads/feature/login", "files": ["sample_app/api.py"]},
    "develop: Dockerfile changed": {"ref": "refs/heads/develop", "files": ["Dockerfile"]},
    "tag v1.2.0 pushed": {"ref": "refs/tags/v1.2.0", "files": []},
}
STARTS = {
    "main: sample_app/api.py changed": True,
    "main: README.md changed": False,
    "feature/login: sample_app/api.py changed": False,
    "develop: Dockerfile changed": True,
    "tag v1.2.0 pushed": True,
}
SHA = "8d3f2a9c41e07b5d6a3c2b1f0e9d8c7b6a5f4e3d"
PENDING = (
    "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient nvidia.com/gpu. preemption: 0/3 "
    "nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
)


@dataclass
class Judged:
    status: str
    message: str
    score: float  # the share of the check's points earned


def judge(name, answer, **context) -> Judged:
    result = evaluate(get_spec(name), answer, context)
    return Judged(result.status, result.message, result.earned / result.points)


def test_triggers_follow_the_runners_rules():
    assert judge("06.triggers", STARTS, pushes=PUSHES, workflow=WORKFLOW).status == "passed"
    readme = dict(STARTS, **{"main: README.md changed": True})
    wrong = judge("06.triggers", readme, pushes=PUSHES, workflow=WORKFLOW)
    assert wrong.status != "passed" and 0 < wrong.score < 1 and "paths" in wrong.message
    tag = dict(STARTS, **{"tag v1.2.0 pushed": False})
    assert "not evaluated for tags" in judge("06.triggers", tag, pushes=PUSHES, workflow=WORKFLOW).message
    text = judge("06.triggers", {k: "yes" for k in STARTS}, pushes=PUSHES, workflow=WORKFLOW)
    assert text.score == 0 and "bool" in text.message
    # the same answers against a workflow without a paths filter: the README push starts it now
    no_paths = WORKFLOW.replace('      - "sample_app/**"\n', '      - "**"\n')
    assert judge("06.triggers", readme, pushes=PUSHES, workflow=no_paths).status == "passed"


def test_tags_of_a_push_to_main():
    ctx = dict(sha=SHA, ref="refs/heads/main", workflow=WORKFLOW)
    assert judge("06.main-tags", ["main", "sha-8d3f2a9"], **ctx).status == "passed"
    assert judge("06.main-tags", ["sha-8d3f2a9", "registry.example/x/sample-app/api:main"], **ctx).status == "passed"
    latest = judge("06.main-tags", ["main", "sha-8d3f2a9", "latest"], **ctx)
    assert latest.score == 0 and "semver" in latest.message
    assert judge("06.main-tags", ["main"], **ctx).score == 0


def test_who_deploys():
    managers = ["argocd-controller", "kube-controller-manager"]
    assert judge("06.who-deploys", "the GitOps controller", managers=managers).status == "passed"
    assert judge("06.who-deploys", " The GitOps Controller ", managers=managers).status == "passed"
    wrong = judge("06.who-deploys", "the workflow", managers=managers)
    assert wrong.score == 0 and "argocd-controller" in wrong.message
    assert judge("06.who-deploys", "kubectl", managers=managers).score == 0


def test_worker_values_rendered_by_the_real_chart(k8s_tools, monkeypatch):
    monkeypatch.setenv("PATH", f"{k8s_tools}:{__import__('os').environ['PATH']}")
    image = {"repository": "registry.example/learner/sample-app/worker", "tag": "main"}
    right = {
        "replicas": 1,
        "image": image,
        "resources": {"gpu": {"enabled": True}},
        "env": [{"name": "POLL_S", "value": "1"}],
    }
    assert judge("06.worker-values", right).status == "passed"
    top_level = {"replicas": 1, "image": image, "gpu": {"enabled": True}, "env": [{"name": "POLL_S", "value": "1"}]}
    refused = judge("06.worker-values", top_level)
    assert refused.score == 0 and "gpu" in refused.message
    as_map = {"replicas": 1, "image": image, "resources": {"gpu": {"enabled": True}}, "env": {"POLL_S": "1"}}
    assert judge("06.worker-values", as_map).score == 0
    no_gpu = {"replicas": 1, "image": image, "env": [{"name": "POLL_S", "value": "1"}]}
    partial = judge("06.worker-values", no_gpu)
    assert 0 < partial.score < 1 and "resources.gpu.enabled" in partial.message


def test_gpu_pending():
    assert judge("06.gpu-pending", PENDING, nodes=3, phase="Pending").status == "passed"
    selector = (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
        "available: 3 Preemption is not helpful for scheduling."
    )
    assert judge("06.gpu-pending", selector, nodes=3, phase="Pending").status == "passed"
    assert judge("06.gpu-pending", PENDING, nodes=4, phase="Pending").score == 0
    assert judge("06.gpu-pending", "no GPU", nodes=3, phase="Pending").score == 0


def test_bad_tag():
    ctx = dict(health="Degraded", reasons=["ImagePullBackOff"])
    assert judge("06.bad-tag", {"health": "Degraded", "waiting_reason": "ImagePullBackOff"}, **ctx).status == "passed"
    half = judge("06.bad-tag", {"health": "Progressing", "waiting_reason": "ImagePullBackOff"}, **ctx)
    assert half.score == 0.5
    assert judge("06.bad-tag", {"health": "Degraded", "waiting_reason": "ErrImagePull"}, **ctx).score == 0.5


def test_secret_fixed():
    assert judge("06.secret-fixed", "a" * 40, pushed=True, refused="", findings=[]).status == "passed"
    refused = judge("06.secret-fixed", "a" * 40, pushed=False, refused="push declined: secret", findings=[])
    assert refused.score == 0 and "declined" in refused.message
    assert judge("06.secret-fixed", "a" * 40, pushed=True, refused="", findings=["x:3 Secret Keyword"]).score == 0
    assert judge("06.secret-fixed", None, pushed=False, refused="", findings=[]).score == 0


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "L",
        "GIT_AUTHOR_EMAIL": "l@example.org",
        "GIT_COMMITTER_NAME": "L",
        "GIT_COMMITTER_EMAIL": "l@example.org",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def test_rollback_is_judged_by_git(tmp_path):
    from lab_helpers.deploy.git import revert_facts

    repo = tmp_path / "app"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "v.py").write_text('__version__ = "1.1.0"\n')
    _git(repo, "add", "."), _git(repo, "commit", "-qm", "good")
    (repo / "v.py").write_text('__version__ = "1.2.0"\nboom()\n')
    _git(repo, "commit", "-qam", "bad")
    bad = _git(repo, "rev-parse", "HEAD")
    _git(repo, "revert", "--no-edit", "HEAD")
    revert = _git(repo, "rev-parse", "HEAD")

    def rollback(sha):
        # the facts are read in the kernel, while the clone exists; the grader judges them after the cleanup
        return judge("06.rollback", sha, bad=bad, facts=revert_facts(repo, sha, bad))

    assert rollback(revert).status == "passed"
    assert rollback(bad).score == 0
    assert rollback("0" * 40).score == 0
    # a commit that only changes the version back keeps the bad line: not a revert
    (repo / "v.py").write_text('__version__ = "1.1.0"\nboom()\n')
    _git(repo, "commit", "-qam", "half a fix")
    half = _git(repo, "rev-parse", "HEAD")
    assert rollback(half).score == 0
    # the revert, but something else committed after it: half
    assert rollback(revert).score == 0.5
    # the clone gone (the lab's cleanup): the facts say nothing, and nothing is earned
    assert revert_facts(tmp_path / "gone", revert, bad)["commit"] is False


@pytest.mark.parametrize(
    "order, ok",
    [
        (["the Applications", "the namespace", "the cluster"], True),
        (["the cluster", "the namespace", "the Applications"], False),
        (["the namespace", "the Applications", "the cluster"], False),
    ],
)
def test_cleanup_order(order, ok):
    steps = ["the cluster", "the namespace", "the Applications"]
    assert (judge("06.cleanup-order", order, steps=steps).status == "passed") is ok
