"""The sample application as pods in the sandbox cluster, end to end: a cluster with a GPU node
group, every part deployed with ``lab_helpers.kube.sample_app.deploy`` (the real kubernetes
client, server-side apply), the model's weights trained by a Job onto a PVC, then an upload
through the Ingress with ``requests`` becomes a job, a prediction and a row of ``GET /api/jobs``;
the model pod on the GPU node, its claim bound to a real sandbox Cinder volume; a rolling update
to 1.1.0 with ``kubectl set image``; a tag the registry lacks stays ImagePullBackOff.

One deployment is shared by the module's tests (it takes about a minute on 2 cores)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests
from k8s_fixtures import kube  # noqa: F401

from lab_helpers.kube import sample_app

pytestmark = pytest.mark.timeout(300)

NS = "sample"


def until(what: str, check, timeout: float = 60.0, every: float = 0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except requests.RequestException as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


def get(kube, *args: str) -> dict:
    return json.loads(kube.kubectl("get", *args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def app(kube):
    """The cluster (control plane, two workers, one GPU worker) with the whole app Ready; yields
    the Ingress's base URL and the seconds each part took to be Ready."""
    done = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "cluster", "create", "--gpu-workers", "1"],
        env=kube.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kube.kubectl("create", "namespace", NS)
    api = kube.api_client("sandbox")
    clouds_yaml = (kube.state / "sandbox" / "clouds.yaml").read_text()
    started = time.monotonic()
    applied = sample_app.deploy(api, NS, tag="1.0.0", clouds_yaml=clouds_yaml, cloud="sandbox")
    ready = sample_app.wait_ready(api, NS, timeout_s=150)
    print(f"\nsample app Ready after {time.monotonic() - started:.1f} s: {json.dumps(ready)}")
    port = until(
        "the ingress's port",
        lambda: (
            kube.kubectl(
                "get", "ingress", "app", "-n", NS, "-o", "jsonpath={.status.loadBalancer.ingress[0].ports[0].port}"
            ).stdout
        ),
    )
    return {"url": f"http://127.0.0.1:{int(port)}", "ready": ready, "applied": applied, "api": api}


def digit(index: int) -> tuple[list[int], int]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return [int(v) for v in data.data[index]], int(data.target[index])


def test_deploy_applies_every_part_and_again_changes_nothing(app, kube):
    kinds = set(app["applied"])
    for name in ("db", "queue", "api", "worker", "web", "model"):
        assert f"Deployment/{name}" in kinds
    assert {"Secret/app-cloud", "Secret/db-credentials", "Ingress/app", "Job/train-model"} <= kinds
    assert {"PersistentVolumeClaim/model-weights", "PersistentVolumeClaim/db-data"} <= kinds
    assert set(app["ready"]) >= {"job/train-model", "deployment/api", "deployment/model", "deployment/db"}
    before = get(kube, "secret", "db-credentials", "-n", NS)["data"]["POSTGRES_PASSWORD"]
    api_rv = get(kube, "deployment", "api", "-n", NS)["metadata"]["generation"]
    clouds_yaml = (kube.state / "sandbox" / "clouds.yaml").read_text()
    sample_app.deploy(app["api"], NS, tag="1.0.0", clouds_yaml=clouds_yaml, cloud="sandbox")
    assert get(kube, "secret", "db-credentials", "-n", NS)["data"]["POSTGRES_PASSWORD"] == before  # the db keeps it
    assert get(kube, "deployment", "api", "-n", NS)["metadata"]["generation"] == api_rv


def test_upload_becomes_a_job_a_prediction_and_a_row_through_the_ingress(app):
    url = app["url"]
    page = requests.get(f"{url}/", timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert requests.get(f"{url}/api/healthz", timeout=10).json() == {"ok": True}
    pixels, label = digit(0)
    sent = requests.post(f"{url}/api/jobs", json={"pixels": pixels}, timeout=10)
    assert sent.status_code == 202, sent.text
    job_id = sent.json()["id"]
    assert sent.json()["status"] == "queued"
    job = until(
        "the job done",
        lambda: (
            (j := requests.get(f"{url}/api/jobs/{job_id}", timeout=10).json()).get("status") in ("done", "failed") and j
        ),
        timeout=60,
    )
    assert job["status"] == "done", job
    assert job["label"] == label and 0.0 < job["confidence"] <= 1.0
    listed = requests.get(f"{url}/api/jobs", timeout=10).json()
    rows = listed["jobs"] if isinstance(listed, dict) else listed
    assert rows[0]["id"] == job_id
    bad = requests.post(f"{url}/api/jobs", json={"pixels": [1, 2]}, timeout=10)
    assert bad.status_code == 400


def test_the_model_runs_on_the_gpu_node_with_its_weights_on_a_cinder_volume(app, kube):
    pods = get(kube, "pods", "-n", NS, "-l", "app.kubernetes.io/name=model")["items"]
    assert len(pods) == 1
    node = get(kube, "node", pods[0]["spec"]["nodeName"])
    assert node["metadata"]["labels"]["nvidia.com/gpu.present"] == "true"
    assert pods[0]["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] == "1"
    claim = get(kube, "pvc", "model-weights", "-n", NS)
    assert claim["status"]["phase"] == "Bound" and claim["status"]["capacity"]["storage"] == "1Gi"
    handle = get(kube, "pv", claim["spec"]["volumeName"])["spec"]["csi"]["volumeHandle"]
    from lab_helpers.cloud import connect_cloud

    conn = connect_cloud("sandbox")
    try:
        volume = conn.block_storage.get_volume(handle)
        assert volume.size == 1 and volume.status == "in-use"
    finally:
        conn.close()


def test_set_image_rolls_out_1_1_0_and_the_api_says_so(app, kube):
    url = app["url"]
    assert requests.get(f"{url}/api/version", timeout=10).json() == {"version": "1.0.0"}
    kube.kubectl("set", "image", "deployment/api", "-n", NS, "api=visualizing-compute/sample-api:1.1.0")
    kube.kubectl("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s", timeout=90)
    until(
        "every answer from 1.1.0",
        lambda: all(requests.get(f"{url}/api/version", timeout=10).json() == {"version": "1.1.0"} for _ in range(6)),
        timeout=20,
    )


def test_a_tag_the_registry_lacks_stays_image_pull_back_off(app, kube):
    kube.kubectl("run", "badtag", "-n", NS, "--image=visualizing-compute/sample-api:9.9.9")

    def waiting():
        statuses = get(kube, "pod", "badtag", "-n", NS).get("status", {}).get("containerStatuses") or []
        state = (statuses[0].get("state") or {}).get("waiting") if statuses else None
        return state if state and state.get("reason") == "ImagePullBackOff" else None

    state = until("ImagePullBackOff", waiting, timeout=30)
    assert "sample-api:9.9.9: not found" in state["message"]
    assert "tags 1.0.0, 1.1.0" in state["message"]
    events = kube.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=badtag").stdout
    assert "ErrImagePull" in events
