"""The sandbox's GitOps controller (Argo CD-like) against a real cluster: Applications from a git
repository (a ``file://`` bare repository here, as the forge's HTTP URL would be) rendered by the
course's helm, synced, pruned, self-healed, failing with the API's words, an app of apps, and a restart
of the sandbox that keeps it all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from k8s_fixtures import cluster, kube  # noqa: F401

from lab_helpers.deploy import gitops
from lab_helpers.errors import ResourceStateError

pytestmark = pytest.mark.timeout(300)

DATA = Path(__file__).parent / "data" / "gitops"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Learner",
    "GIT_AUTHOR_EMAIL": "learner@example.org",
    "GIT_COMMITTER_NAME": "Learner",
    "GIT_COMMITTER_EMAIL": "learner@example.org",
}


class Repo:
    """A working copy pushing to a bare repository, which the controller fetches by its file:// URL."""

    def __init__(self, root: Path) -> None:
        self.bare, self.work = root / "infra.git", root / "work"
        self.url = f"file://{self.bare}"
        self.git("init", "--bare", "-q", "-b", "main", str(self.bare), cwd=root)
        self.git("clone", "-q", self.url, str(self.work), cwd=root)
        shutil.copytree(DATA / "chart", self.work / "chart")
        (self.work / "apps").mkdir()
        text = (DATA / "apps" / "child.yaml").read_text().replace("REPO_URL", self.url)
        (self.work / "apps" / "child.yaml").write_text(text)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, **GIT_ENV}
        done = subprocess.run(["git", *args], cwd=cwd or self.work, env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")

    def set_values(self, **changes: object) -> None:
        import yaml

        path = self.work / "chart" / "values.yaml"
        values = yaml.safe_load(path.read_text())
        for dotted, value in changes.items():
            node = values
            *parents, last = dotted.split("__")
            for p in parents:
                node = node[p]
            node[last] = value
        path.write_text(yaml.safe_dump(values))


@pytest.fixture(scope="module")
def setup(kube, cluster, k8s_tools, tmp_path_factory):
    bin_dir = kube.state / "bin"  # where the sandbox finds the course's helm (`lab tools install`)
    bin_dir.mkdir(exist_ok=True)
    shutil.copy2(k8s_tools / "helm", bin_dir / "helm")
    gitops.install(api=kube.api_client("sandbox-admin"))
    gitops.install(api=kube.api_client("sandbox-admin"))  # idempotent
    repo = Repo(tmp_path_factory.mktemp("gitops-repo"))
    sha = repo.commit("A chart")
    return kube, repo, sha


def kubectl_json(kube, *args: str) -> dict:
    return json.loads(kube.kubectl(*args, "-o", "json").stdout)


def apply_app(kube, name: str, repo: Repo, *, path: str = "chart", namespace: str = "web", extra: str = "") -> None:
    manifest = f"""
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {repo.url}
    path: {path}
    targetRevision: main
{extra}
  destination:
    server: https://kubernetes.default.svc
    namespace: {namespace}
"""
    kube.kubectl("apply", "-f", "-", input=manifest)


AUTO = """  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]"""


def wait_until(check, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)


def test_sync_new_commit_prune_and_self_heal(setup):
    kube, repo, sha = setup
    api = kube.api_client()
    apply_app(kube, "web", repo, extra=AUTO)
    app = gitops.wait_for("web", revision=sha, timeout=60, api=api)
    status = app["status"]
    assert status["sourceType"] == "Helm"
    kinds = {(r["kind"], r["name"]) for r in status["resources"]}
    assert {
        ("Deployment", "web-deployment"),
        ("Service", "web-service"),
        ("Ingress", "web-ingress"),
        ("PersistentVolumeClaim", "web-claim"),
        ("ConfigMap", "web-config"),
    } <= kinds
    assert all(r["status"] == "Synced" for r in status["resources"])
    assert status["summary"]["images"] == ["visualizing-compute/sample-web:1.0.0"]
    assert status["operationState"]["phase"] == "Succeeded"
    assert status["history"][-1]["revision"] == sha
    deploy = kubectl_json(kube, "get", "deployment", "web-deployment", "-n", "web", "--show-managed-fields")
    assert deploy["metadata"]["labels"]["app.kubernetes.io/instance"] == "web"
    assert any(m.get("manager") == "argocd-controller" for m in deploy["metadata"]["managedFields"])

    # a new commit: two replicas, the ConfigMap removed -> synced at the new sha, pruned, rolled out
    repo.set_values(replicas=2, config__enabled=False)
    sha2 = repo.commit("Two replicas, no config")
    app = gitops.wait_for("web", revision=sha2, timeout=30, api=api)
    assert len(app["status"]["history"]) == 2
    assert kube.kubectl("get", "configmap", "web-config", "-n", "web", check=False).returncode != 0
    assert kubectl_json(kube, "get", "deployment", "web-deployment", "-n", "web")["spec"]["replicas"] == 2
    pruned = [r for r in app["status"]["operationState"]["syncResult"]["resources"] if r["status"] == "Pruned"]
    assert [r["name"] for r in pruned] == ["web-config"]

    # self-heal: kubectl scale and kubectl delete are undone from the watch
    kube.kubectl("scale", "deployment/web-deployment", "-n", "web", "--replicas=4")
    wait_until(
        lambda: kubectl_json(kube, "get", "deployment", "web-deployment", "-n", "web")["spec"]["replicas"] == 2,
        10,
        "the scaled Deployment back at 2 replicas",
    )
    kube.kubectl("delete", "service", "web-service", "-n", "web")
    wait_until(
        lambda: kube.kubectl("get", "service", "web-service", "-n", "web", check=False).returncode == 0,
        10,
        "the deleted Service made again",
    )
    gitops.wait_for("web", revision=sha2, timeout=30, api=api)
    page = requests.get(gitops.ingress_url("web", "web-ingress", api=api) + "/", timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_manual_sync_and_refresh(setup):
    kube, repo, sha = setup
    api = kube.api_client()
    values = "    helm:\n      valuesObject: {claim: {enabled: false}, replicas: 1, hooks: {enabled: true}}"
    apply_app(kube, "manual", repo, extra=values)
    app = gitops.wait_for("manual", sync="OutOfSync", health="Missing", timeout=20, api=api)
    assert "operationState" not in app["status"]  # no automated policy: nothing applied until asked
    assert gitops.helm_parameter("manual", "replicas", api=api) == "1"
    gitops.sync("manual", api=api)
    app = gitops.wait_for("manual", timeout=30, api=api)
    assert app["status"]["operationState"]["operation"]["initiatedBy"] == {"username": "learner"}
    assert "operation" not in app  # the one-shot operation is cleared once run
    # the Helm hooks: the pre-install Job ran in the sync (not compared, not pruned), the test hook never
    job = kubectl_json(kube, "get", "job", "manual-migrate", "-n", "web")
    assert kube.kubectl("get", "pod", "manual-test", "-n", "web", check=False).returncode != 0
    assert "manual-migrate" not in {r["name"] for r in app["status"]["resources"]}
    assert "manual-migrate" in {r["name"] for r in app["status"]["operationState"]["syncResult"]["resources"]}
    gitops.refresh("manual", api=api)
    wait_until(
        lambda: (
            "argocd.argoproj.io/refresh"
            not in (gitops.application("manual", api=api)["metadata"].get("annotations") or {})
        ),
        10,
        "the refresh annotation handled and removed",
    )
    assert "manual" in gitops.application_names(api=api)
    gitops.sync("manual", revision=sha[:7], api=api)  # an earlier commit than main's (argocd app sync --revision)
    wait_until(
        lambda: gitops.application("manual", api=api)["status"]["history"][-1]["revision"] == sha, 10, "the sync"
    )
    assert gitops.application("manual", api=api)["status"]["operationState"]["syncResult"]["revision"] == sha
    again = kubectl_json(kube, "get", "job", "manual-migrate", "-n", "web")
    assert again["metadata"]["uid"] != job["metadata"]["uid"]  # made afresh (before-hook-creation)


def test_comparison_error_and_a_quiet_status(setup):
    """A path git does not have is a ComparisonError naming it; a status that does not change is not written
    again at each poll (its resourceVersion stays), for a broken Application and a healthy one alike."""
    kube, repo, _ = setup
    api = kube.api_client()
    apply_app(kube, "typo", repo, path="chartz", namespace="typo")
    app = gitops.wait_for("typo", sync="Unknown", health="Unknown", timeout=20, api=api)
    assert app["status"]["conditions"][0]["type"] == "ComparisonError"
    assert "chartz" in app["status"]["conditions"][0]["message"]
    with pytest.raises(ResourceStateError, match="ComparisonError: .*chartz"):
        gitops.wait_for("typo", timeout=0.5, api=api)
    before = {n: gitops.application(n, api=api)["metadata"]["resourceVersion"] for n in ("typo", "manual")}
    time.sleep(4)  # over one poll (3 s)
    assert {n: gitops.application(n, api=api)["metadata"]["resourceVersion"] for n in ("typo", "manual")} == before


def test_applications_outside_argocd_are_left_alone(setup):
    """As Argo CD by default: a learner admin of namespace web may create an Application there (the aggregated
    roles), but the controller works only on those in argocd, so it cannot deploy into other namespaces."""
    kube, repo, _ = setup
    manifest = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: elsewhere, namespace: web}}
spec:
  source: {{repoURL: "{repo.url}", path: chart, targetRevision: main}}
  destination: {{server: "https://kubernetes.default.svc", namespace: kube-system}}
  syncPolicy: {{automated: {{}}}}
"""
    kube.kubectl("apply", "-f", "-", input=manifest)
    gitops.wait_for("web", timeout=10, api=kube.api_client())  # the controller is busy with others meanwhile
    time.sleep(2)
    app = gitops.application("elsewhere", "web", api=kube.api_client())
    assert "status" not in app
    assert kube.kubectl("--context", "sandbox-admin", "get", "deployment", "elsewhere-deployment", "-n", "kube-system",
                        check=False).returncode != 0  # fmt: skip


def test_bad_image_tag_is_degraded_after_the_deadline(setup):
    kube, repo, _ = setup
    api = kube.api_client()
    extra = (
        """    helm:
      parameters:
        - {name: image.tag, value: "9.9.9"}
        - {name: progressDeadlineSeconds, value: "3"}
        - {name: claim.enabled, value: "false"}
"""
        + AUTO
    )
    apply_app(kube, "badtag", repo, namespace="badtag", extra=extra)
    app = gitops.wait_for("badtag", health="Degraded", timeout=40, api=api)
    assert "exceeded its progress deadline" in app["status"]["health"]["message"]
    assert app["status"]["sync"]["status"] == "Synced"
    with pytest.raises(ResourceStateError, match="exceeded its progress deadline"):
        gitops.wait_for("badtag", timeout=1, api=api)


def test_failing_apply_is_failed_with_the_api_message(setup):
    kube, repo, _ = setup
    api = kube.api_client()
    retry = "  syncPolicy:\n    automated: {}\n    retry: {limit: 5, backoff: {duration: 1s, factor: 1}}"
    apply_app(kube, "nowhere", repo, namespace="nowhere", extra=retry)
    app = gitops.wait_for("nowhere", sync="OutOfSync", health=None, timeout=30, api=api)
    wait_until(lambda: "operationState" in gitops.application("nowhere", api=api)["status"], 10, "a sync")
    op = gitops.application("nowhere", api=api)["status"]["operationState"]
    assert op["phase"] == "Failed"
    assert 'namespaces "nowhere" not found' in op["message"]
    failed = [r for r in op["syncResult"]["resources"] if r["status"] == "SyncFailed"]
    assert failed and all("nowhere" in r["message"] for r in failed)
    assert app["status"]["health"]["status"] == "Missing"
    assert kube.kubectl("get", "namespace", "nowhere", check=False).returncode != 0
    # syncPolicy.retry: once the namespace is there, a retry of the same revision succeeds
    kube.kubectl("create", "namespace", "nowhere")
    app = gitops.wait_for("nowhere", health=None, timeout=20, api=api)
    assert app["status"]["operationState"]["phase"] == "Succeeded"
    assert app["status"]["operationState"]["retryCount"] >= 1


def test_app_of_apps_and_cascade_delete(setup):
    kube, repo, sha = setup
    api = kube.api_client()
    apply_app(kube, "root", repo, path="apps", namespace="argocd", extra="  syncPolicy:\n    automated: {prune: true}")
    root = gitops.wait_for("root", timeout=60, api=api)
    assert root["status"]["sourceType"] == "Directory"
    assert [r["kind"] for r in root["status"]["resources"]] == ["Application"]
    child = gitops.wait_for("child", timeout=60, api=api)
    assert {r["kind"] for r in child["status"]["resources"]} >= {"Deployment", "Service", "Ingress"}
    kube.kubectl("delete", "application", "child", "-n", "argocd", "--wait=false")
    wait_until(
        lambda: kube.kubectl("get", "deployment", "child-deployment", "-n", "child", check=False).returncode != 0,
        20,
        "the child's Deployment deleted with it",
    )


def test_applicationset_makes_one_application_per_repo_with_deploy(setup, tmp_path):
    """Over the forge's HTTP: repositories with a deploy/ folder get an Application, others not (yet)."""
    from lab_helpers.deploy import git

    kube, _, _ = setup
    api = kube.api_client()
    work = {}
    for name, with_deploy in (("svc-a", True), ("svc-b", False)):
        work[name] = git.clone(git.create_repo(name), tmp_path / name)
        (work[name] / "README.md").write_text(f"{name}\n")
        if with_deploy:
            (work[name] / "deploy").mkdir()
            (work[name] / "deploy" / "config.yaml").write_text(CONFIG.format(name=name))
        git.commit(work[name], "First")
        assert git.push(work[name]).ok
    kube.kubectl("apply", "-f", "-", input=APPSET.format(api=git.forge_url()))
    app = gitops.wait_for("svc-a", timeout=30, api=api)
    assert app["spec"]["source"]["repoURL"] == git.forge_url() + "/learner/svc-a.git"
    assert app["status"]["sync"]["revision"] == git.head(work["svc-a"])
    assert kubectl_json(kube, "get", "configmap", "svc-a-config", "-n", "svc-a")["data"] == {"SERVICE": "svc-a"}
    with pytest.raises(ResourceStateError, match="no Application 'svc-b'"):
        gitops.application("svc-b", api=api)
    (work["svc-b"] / "deploy").mkdir()
    (work["svc-b"] / "deploy" / "config.yaml").write_text(CONFIG.format(name="svc-b"))
    git.commit(work["svc-b"], "Deploy it")
    assert git.push(work["svc-b"]).ok
    gitops.wait_for("svc-b", timeout=30, api=api)
    appset = kubectl_json(kube, "get", "applicationset", "services", "-n", "argocd")
    assert [r["name"] for r in appset["status"]["resources"]] == ["svc-a", "svc-b"]


CONFIG = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  SERVICE: {name}
"""

APPSET = """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: services
  namespace: argocd
spec:
  generators:
    - scmProvider:
        gitea:
          owner: learner
          api: {api}
        filters:
          - pathsExist: [deploy]
  template:
    metadata:
      name: '{{{{repository}}}}'
    spec:
      project: default
      source:
        repoURL: '{{{{url}}}}'
        path: deploy
        targetRevision: '{{{{branch}}}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{{{repository}}}}'
      syncPolicy:
        automated: {{prune: true, selfHeal: true}}
        syncOptions: [CreateNamespace=true]
"""


def test_promotion_picks_the_newest_matching_tag(setup, tmp_path):
    from lab_helpers.sandbox.kubernetes.kubelet.builds import build

    kube, repo, _ = setup
    api = kube.api_client()
    image = "registry.example/learner/promo/web"
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nCOPY serve.py /app/\nCMD ["python", "/app/serve.py"]\n'
    )
    (tmp_path / "serve.py").write_text(SERVE)
    state = kube.state / "sandbox"
    build(state, tmp_path, tags=[f"{image}:sha-1111111"])
    time.sleep(0.05)
    build(state, tmp_path, tags=[f"{image}:sha-2222222"])
    time.sleep(0.05)
    build(state, tmp_path, tags=[f"{image}:develop"])  # newest, but not matching allowTags
    extra = (
        f"""    helm:
      parameters:
        - {{name: image.repository, value: {image}}}
        - {{name: claim.enabled, value: "false"}}
        - {{name: config.enabled, value: "false"}}
"""
        + AUTO
    )
    apply_app(kube, "promoted", repo, namespace="promoted", extra=extra)
    kube.kubectl("apply", "-f", "-", input=PROMOTION.format(image=image))
    app = gitops.wait_for("promoted", timeout=40, api=api)
    assert {"name": "image.tag", "value": "sha-2222222", "forceString": True} in app["spec"]["source"]["helm"][
        "parameters"
    ]
    assert app["status"]["summary"]["images"] == [f"{image}:sha-2222222"]
    promotion = kubectl_json(kube, "get", "promotion", "web", "-n", "argocd")
    assert promotion["status"]["tag"] == "sha-2222222" and promotion["status"]["phase"] == "Promoted"


SERVE = """import http.server, os
http.server.HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), http.server.SimpleHTTPRequestHandler).serve_forever()
"""

PROMOTION = """apiVersion: deploy.course.example/v1alpha1
kind: Promotion
metadata:
  name: web
  namespace: argocd
spec:
  image:
    repoURL: {image}
    allowTags: ^sha-
  application:
    name: promoted
"""


def test_restart_keeps_state_and_resumes(setup):
    kube, repo, _ = setup
    from lab_helpers import sandbox as sb

    api_before = gitops.application("web", api=kube.api_client())
    sb.stop()
    sb.start()
    api = kube.api_client()
    app = gitops.application("web", api=api)
    assert app["status"]["history"] == api_before["status"]["history"]
    repo.set_values(replicas=1)
    sha = repo.commit("One replica")
    gitops.wait_for("web", revision=sha, timeout=30, api=api)
    assert kubectl_json(kube, "get", "deployment", "web-deployment", "-n", "web")["spec"]["replicas"] == 1
