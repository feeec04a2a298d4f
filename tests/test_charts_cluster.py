"""The api chart on the sandbox cluster: lab 05's database, queue and Secrets deployed as lab 05 makes
them, then the chart rendered with its defaults (``lab_helpers.deploy.charts.render``, the real
helm 4) and applied with the real kubectl, as a GitOps controller applies it; the API answers
``/api/healthz`` through the chart's Ingress, and a changed ``env`` rolls the pods (the ConfigMap's
checksum is in the pod template)."""

from __future__ import annotations

import json

import pytest
import requests
import yaml
from k8s_fixtures import cluster, kube  # noqa: F401
from test_sample_app_cluster import get, until

from lab_helpers.deploy import charts
from lab_helpers.kube import sample_app

# Under slow: lab 06's run deploys the api chart through the GitOps controller and reaches it on every CI run.
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

NS, RELEASE = "charts", "sample-api"


def apply(kube, manifests: list[dict]) -> str:
    """``kubectl apply --server-side`` of the objects, as a learner pipes ``helm template`` into it."""
    text = yaml.safe_dump_all(manifests, sort_keys=False)
    return kube.kubectl("apply", "--server-side", "-n", NS, "-f", "-", input=text, timeout=60).stdout


@pytest.fixture(scope="module")
def deployed(kube, cluster, k8s_tools):
    """Lab 05's db, queue and Secrets, then the api chart with its defaults; yields the Ingress's URL."""
    kube.kubectl("create", "namespace", NS)
    clouds_yaml = (kube.state / "sandbox" / "clouds.yaml").read_text()
    backing = [
        obj
        for obj in sample_app.manifests()
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") in ("db", "queue")
    ]
    apply(kube, sample_app.secrets(clouds_yaml, cloud="sandbox") + backing)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(k8s_tools))
        manifests = charts.render("api", release=RELEASE, namespace=NS)
    out = apply(kube, manifests)
    kube.kubectl("rollout", "status", f"deployment/{RELEASE}-deployment", "-n", NS, "--timeout=120s", timeout=150)
    port = until(
        "the ingress's port",
        lambda: kube.kubectl(
            "get", "ingress", f"{RELEASE}-ingress", "-n", NS,
            "-o", "jsonpath={.status.loadBalancer.ingress[0].ports[0].port}",
        ).stdout,
    )  # fmt: skip
    return {"url": f"http://127.0.0.1:{int(port)}", "applied": out, "k8s_tools": k8s_tools}


def test_the_api_chart_answers_healthz_through_its_ingress(deployed, kube):
    assert deployed["applied"].splitlines() == [
        f"configmap/{RELEASE}-config serverside-applied",
        f"service/{RELEASE}-service serverside-applied",
        f"deployment.apps/{RELEASE}-deployment serverside-applied",
        f"ingress.networking.k8s.io/{RELEASE}-ingress serverside-applied",
    ]
    url = deployed["url"]
    health = until("healthz through the ingress", lambda: requests.get(f"{url}/api/healthz", timeout=10), timeout=30)
    assert health.status_code == 200 and health.json() == {"ok": True}
    assert requests.get(f"{url}/api/version", timeout=10).json() == {"version": "1.0.0"}
    deployment = get(kube, "deployment", f"{RELEASE}-deployment", "-n", NS)
    assert deployment["status"]["readyReplicas"] == 2
    assert deployment["spec"]["progressDeadlineSeconds"] == 60
    pods = get(kube, "pods", "-n", NS, "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)


def test_a_changed_env_rolls_the_pods_and_reaches_the_api(deployed, kube):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(deployed["k8s_tools"]))
        manifests = charts.render(
            "api", {"env": [{"name": "APP_VERSION", "value": "1.0.1"}]}, release=RELEASE, namespace=NS
        )
    before = get(kube, "deployment", f"{RELEASE}-deployment", "-n", NS)["metadata"]["generation"]
    apply(kube, manifests)
    kube.kubectl("rollout", "status", f"deployment/{RELEASE}-deployment", "-n", NS, "--timeout=120s", timeout=150)
    assert get(kube, "deployment", f"{RELEASE}-deployment", "-n", NS)["metadata"]["generation"] == before + 1
    url = deployed["url"]
    until(
        "every answer from the new pods",
        lambda: all(requests.get(f"{url}/api/version", timeout=10).json() == {"version": "1.0.1"} for _ in range(4)),
        timeout=30,
    )


def test_kubectl_reads_the_rendered_chart_as_the_cluster_does(deployed, kube):
    """``kubectl apply --dry-run=server`` of the rendered worker chart: the API server's own validation."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(deployed["k8s_tools"]))
        text = charts.render_text("worker", {"resources": {"gpu": {"enabled": True}}}, release="worker", namespace=NS)
    done = kube.kubectl("apply", "--dry-run=server", "-n", NS, "-f", "-", "-o", "json", input=text)
    items = json.loads(done.stdout)
    kinds = sorted(i["kind"] for i in items.get("items", [items]))
    assert kinds == ["ConfigMap", "Deployment"]
