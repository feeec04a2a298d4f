"""The GitOps controller's pure parts, without a cluster: health rules, the desired-vs-live comparison, the
ApplicationSet's templates, the promotion's choice of tag, and a source rendered from git with the course's
own api chart by the real helm."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lab_helpers.sandbox.kubernetes.controllers.gitops import applicationset, health, promotion, source, sync
from lab_helpers.sandbox.kubernetes.controllers.gitops.application import ignoring, retry_due
from lab_helpers.sandbox.kubernetes.controllers.gitops.diff import drift
from lab_helpers.sandbox.kubernetes.kubelet.image_store import TagInfo


def _deploy(**status) -> dict:
    return {
        "metadata": {"name": "api-deployment", "generation": 2},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 2, **status},
    }


def test_deployment_health():
    assert (
        health.assess(_deploy(replicas=2, updatedReplicas=2, availableReplicas=2), "apps", "Deployment")[0] == "Healthy"
    )
    rolling = health.assess(_deploy(replicas=3, updatedReplicas=2, availableReplicas=2), "apps", "Deployment")
    assert rolling == ("Progressing", "Waiting for rollout to finish: 1 old replicas are pending termination...")
    stuck = _deploy(
        replicas=2, updatedReplicas=1, conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]
    )
    assert health.assess(stuck, "apps", "Deployment") == (
        "Degraded",
        'Deployment "api-deployment" exceeded its progress deadline',
    )
    paused = _deploy()
    paused["spec"]["paused"] = True
    assert health.assess(paused, "apps", "Deployment")[0] == "Suspended"
    unseen = _deploy(replicas=2, updatedReplicas=2, availableReplicas=2, observedGeneration=1)
    assert health.assess(unseen, "apps", "Deployment")[0] == "Progressing"


@pytest.mark.parametrize(
    ("group", "kind", "obj", "expected"),
    [
        ("", "Pod", {"status": {"phase": "Pending", "containerStatuses": [
            {"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}},
         "Degraded"),
        ("", "Pod", {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}, "Healthy"),
        ("", "Pod", {"status": {"phase": "Running", "containerStatuses": [
            {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}, "Degraded"),
        ("", "Service", {"spec": {"type": "LoadBalancer"}, "status": {}}, "Progressing"),
        ("", "Service", {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}]}}},
         "Healthy"),
        ("", "Service", {"spec": {"type": "ClusterIP"}}, "Healthy"),
        ("", "PersistentVolumeClaim", {"status": {"phase": "Pending"}}, "Progressing"),
        ("", "PersistentVolumeClaim", {"status": {"phase": "Bound"}}, "Healthy"),
        ("", "PersistentVolumeClaim", {"status": {"phase": "Lost"}}, "Degraded"),
        ("batch", "Job", {"status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}},
         "Degraded"),
        ("batch", "Job", {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}, "Healthy"),
        ("batch", "Job", {"spec": {"suspend": True}, "status": {}}, "Suspended"),
        ("apps", "StatefulSet", {"metadata": {"generation": 1}, "spec": {"replicas": 2},
                                 "status": {"observedGeneration": 1, "readyReplicas": 1}}, "Progressing"),
        ("argoproj.io", "Application", {"status": {"health": {"status": "Degraded"}}}, "Degraded"),
    ],
)  # fmt: skip
def test_health_rules(group, kind, obj, expected):
    assert health.assess({"metadata": {"name": "x"}, **obj}, group, kind)[0] == expected


def test_missing_unknown_kinds_and_the_worst():
    assert health.assess(None, "apps", "Deployment") == ("Missing", "")
    assert health.assess({"metadata": {"name": "c"}}, "", "ConfigMap") is None
    assert health.worst(["Healthy", "Progressing", "Suspended"]) == "Progressing"
    assert health.worst(["Healthy", "Missing", "Degraded"]) == "Degraded"
    assert health.worst([]) == "Healthy"


def test_drift_counts_only_what_git_sets():
    desired = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "labels": {"app": "api"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {"containers": [{"name": "api", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}}]}
            },
        },
    }
    live = {
        "metadata": {"name": "api", "labels": {"app": "api", "extra": "x"}, "uid": "u"},
        "spec": {
            "replicas": 2,
            "progressDeadlineSeconds": 600,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "terminationMessagePath": "/dev/termination-log",
                            "resources": {"requests": {"cpu": "500m", "memory": "1024Mi"}},
                        }
                    ]
                }
            },
        },
        "status": {"replicas": 2},
    }
    assert drift(desired, live) == []
    live["spec"]["replicas"] = 4
    assert drift(desired, live) == ["spec.replicas"]
    assert drift(desired, None) == ["<missing>"]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    assert drift(secret, {"metadata": {"name": "s"}, "data": {"k": "dg=="}}) == []


def test_ignore_differences_and_retry_back_off():
    desired = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {"replicas": 2}}
    live = {"metadata": {"name": "api"}, "spec": {"replicas": 5}}
    rule = {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}
    assert drift(ignoring(desired, {"spec": {"ignoreDifferences": [rule]}}), live) == []
    assert drift(ignoring(desired, {"spec": {"ignoreDifferences": [{**rule, "name": "other"}]}}), live) == [
        "spec.replicas"
    ]
    assert desired["spec"]["replicas"] == 2  # the rendered object itself is kept whole (it is what is applied)
    failed = {"phase": "Failed", "finishedAt": "2026-01-01T00:00:00Z"}
    t0 = 1767225600.0  # that time
    retry = {"limit": 2, "backoff": {"duration": "2s", "factor": 3, "maxDuration": "1m"}}
    assert retry_due(None, failed, t0 + 100) is False  # no retry policy: a failed sync stays failed
    assert retry_due(retry, failed, t0 + 1) is False and retry_due(retry, failed, t0 + 2) is True
    assert retry_due(retry, {**failed, "retryCount": 1}, t0 + 5) is False  # 2 s x 3
    assert retry_due(retry, {**failed, "retryCount": 1}, t0 + 6) is True
    assert retry_due(retry, {**failed, "retryCount": 2}, t0 + 1000) is False  # limit reached
    assert retry_due({"limit": -1}, {**failed, "retryCount": 50}, t0 + 180) is True  # unlimited, at most 3 min apart


@pytest.mark.parametrize(
    ("annotations", "hook"),
    [
        ({}, ""),
        ({"helm.sh/hook": "pre-install,pre-upgrade"}, "PreSync"),
        ({"helm.sh/hook": "post-upgrade"}, "PostSync"),
        ({"helm.sh/hook": "test"}, "Skip"),
        ({"argocd.argoproj.io/hook": "PostSync", "helm.sh/hook": "pre-install"}, "PostSync"),
        ({"argocd.argoproj.io/hook": "SyncFail"}, "Skip"),
    ],
)
def test_hooks_as_argo_cd_maps_them(annotations, hook):
    assert sync.hook_of({"metadata": {"name": "m", "annotations": annotations}}) == hook


def test_applicationset_template_and_generators():
    template = {"metadata": {"name": "{{repository}}"}, "spec": {"source": {"repoURL": "{{ url }}", "x": "{{other}}"}}}
    params = {"repository": "sample-app", "url": "http://127.0.0.1:1/git/learner/sample-app.git"}
    out = applicationset.render(template, params, go=False)
    assert out == {
        "metadata": {"name": "sample-app"},
        "spec": {"source": {"repoURL": "http://127.0.0.1:1/git/learner/sample-app.git", "x": "{{other}}"}},
    }
    assert applicationset.render({"n": "{{ .repository }}"}, params, go=True) == {"n": "sample-app"}
    assert applicationset.generate({"list": {"elements": [{"a": "1"}]}}) == [{"a": "1"}]
    with pytest.raises(applicationset.GeneratorError, match="gitea"):
        applicationset.generate({"scmProvider": {"github": {"organization": "x"}}})
    with pytest.raises(applicationset.GeneratorError, match="own forge"):
        applicationset.gitea({"owner": "learner", "api": "https://forge.example/git"})


def test_promotion_newest_matching_and_parameter():
    tags = [TagInfo("sha-aaaaaaa", "d1", 10.0), TagInfo("sha-bbbbbbb", "d2", 20.0), TagInfo("latest", "d3", 30.0)]
    assert promotion.newest(tags, "^sha-").name == "sha-bbbbbbb"
    assert promotion.newest(tags, "").name == "latest"
    assert promotion.newest(tags, "^v") is None
    app: dict = {"spec": {"source": {"helm": {"parameters": [{"name": "replicas", "value": "2"}]}}}}
    assert promotion.set_parameter(app, "image.tag", "sha-bbbbbbb") is True
    assert promotion.set_parameter(app, "image.tag", "sha-bbbbbbb") is False
    assert app["spec"]["source"]["helm"]["parameters"][-1] == {
        "name": "image.tag",
        "value": "sha-bbbbbbb",
        "forceString": True,
    }


@pytest.fixture
def infra(tmp_path) -> tuple[Path, str]:
    """A bare repository holding the course's api chart at charts/api (as the lab's infra repository)."""
    from lab_helpers.paths import data_dir

    work, bare = tmp_path / "work", tmp_path / "infra.git"
    env = {**os.environ, "GIT_AUTHOR_NAME": "L", "GIT_AUTHOR_EMAIL": "l@example.org",
           "GIT_COMMITTER_NAME": "L", "GIT_COMMITTER_EMAIL": "l@example.org"}  # fmt: skip
    shutil.copytree(data_dir() / "charts" / "api", work / "charts" / "api")
    for args in (["init", "-q", "-b", "main", str(work)], ["-C", str(work), "add", "-A"],
                 ["-C", str(work), "commit", "-q", "-m", "charts"], ["clone", "-q", "--bare", str(work), str(bare)]):  # fmt: skip
        subprocess.run(["git", *args], check=True, env=env, capture_output=True)
    sha = subprocess.run(["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    return bare, sha


def test_source_renders_the_course_chart_from_git(infra, tmp_path, k8s_tools):
    bare, sha = infra
    src = {
        "repoURL": f"file://{bare}",
        "path": "charts/api",
        "targetRevision": "main",
        "helm": {
            "valuesObject": {"replicas": 3, "image": {"tag": "main"}},
            "parameters": [{"name": "image.tag", "value": "sha-1234567", "forceString": True}],
        },
    }
    state = tmp_path / "state"
    got = source.render(state, k8s_tools / "helm", src, "api", "sample-app", fetch_now=True)
    assert got.revision == sha and got.source_type == "Helm"
    deploy = next(m for m in got.manifests if m["kind"] == "Deployment")
    assert deploy["metadata"]["name"] == "api-deployment" and deploy["spec"]["replicas"] == 3
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":sha-1234567")  # parameters win
    bad = {**src, "helm": {"valuesObject": {"gpu": {"enabled": True}}}}
    with pytest.raises(source.SourceError, match="gpu"):
        source.render(state, k8s_tools / "helm", bad, "api", "sample-app", fetch_now=False)
    with pytest.raises(source.SourceError, match="lab tools install"):
        source.render(state, None, src, "api", "sample-app", fetch_now=False)
    with pytest.raises(source.SourceError, match="unable to resolve 'nope'"):
        source.render(state, k8s_tools / "helm", {**src, "targetRevision": "nope"}, "api", "ns", fetch_now=False)
