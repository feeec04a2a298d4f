"""The controllers and the scheduler seen through the real kubectl: a rollout, its history and
``rollout undo``; ``delete --cascade`` in its three modes; ``wait --for=condition=complete`` and
``=failed`` on Jobs; a GPU pod that fits nowhere, as ``kubectl describe`` shows it."""

from __future__ import annotations

import json
import time

import pytest
from k8s_fixtures import kube  # noqa: F401

pytestmark = pytest.mark.timeout(240)

WORKERS = ("ctl-cpu-1", "ctl-cpu-2")
GPU_NODE = "ctl-gpu-1"


def wait_for(what, check, timeout: float = 30.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


@pytest.fixture(scope="module")
def k(kube):
    """Two CPU workers and a GPU worker tainted as JS2's GPU nodes are, registered by the admin."""
    from kubernetes import client

    admin = client.CoreV1Api(kube.api_client("sandbox-admin"))
    for name in (*WORKERS, GPU_NODE):
        spec = (
            {"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}
            if name == GPU_NODE
            else {}
        )
        admin.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec})
    room = {"cpu": "4", "memory": "16Gi", "pods": "110"}
    for name in (*WORKERS, GPU_NODE):
        sized = {**room, "nvidia.com/gpu": "1"} if name == GPU_NODE else room
        admin.patch_node_status(name, {"status": {"capacity": sized, "allocatable": sized}})
    for name in (*WORKERS, GPU_NODE):
        wait_for(
            f"{name} Ready",
            lambda n=name: any(
                c.type == "Ready" and c.status == "True" for c in admin.read_node(n).status.conditions or []
            ),
        )
    return kube


def kubectl_json(kube, *args: str) -> dict:
    return json.loads(kube.kubectl(*args, "-o", "json").stdout)


def test_a_rollout_its_history_and_rollout_undo(k):
    k.kubectl("create", "namespace", "roll")
    k.kubectl("create", "deployment", "web", "-n", "roll", "--image=nginx:1.27", "--replicas=2")
    k.kubectl("rollout", "status", "-n", "roll", "deploy/web", "--timeout=90s", timeout=100)
    k.kubectl("set", "image", "-n", "roll", "deploy/web", "nginx=nginx:1.28")
    k.kubectl("annotate", "-n", "roll", "deploy/web", "kubernetes.io/change-cause=nginx 1.28")
    done = k.kubectl("rollout", "status", "-n", "roll", "deploy/web", "--timeout=90s", timeout=100).stdout
    assert done.strip().endswith('deployment "web" successfully rolled out')
    history = k.kubectl("rollout", "history", "-n", "roll", "deploy/web").stdout.split()
    assert history[-7:] == ["REVISION", "CHANGE-CAUSE", "1", "<none>", "2", "nginx", "1.28"]

    assert "rolled back" in k.kubectl("rollout", "undo", "-n", "roll", "deploy/web").stdout
    k.kubectl("rollout", "status", "-n", "roll", "deploy/web", "--timeout=90s", timeout=100)
    d = kubectl_json(k, "get", "-n", "roll", "deploy/web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    rs = kubectl_json(k, "get", "-n", "roll", "rs")["items"]
    sizes = {r["spec"]["template"]["spec"]["containers"][0]["image"]: r["spec"]["replicas"] for r in rs}
    assert sizes == {"nginx:1.27": 2, "nginx:1.28": 0}  # the first ReplicaSet came back; no third one
    rows = k.kubectl("rollout", "history", "-n", "roll", "deploy/web").stdout.split()
    assert rows[-5:] == ["2", "nginx", "1.28", "3", "<none>"]
    images = {p["spec"]["containers"][0]["image"] for p in kubectl_json(k, "get", "-n", "roll", "pods")["items"]}
    assert images == {"nginx:1.27"}
    events = k.kubectl("describe", "-n", "roll", "deploy/web").stdout
    assert "ScalingReplicaSet" in events and "deployment-controller" in events and " to 0 from 1" in events


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_delete_cascade(k, cascade):
    ns = f"cascade-{cascade}"
    k.kubectl("create", "namespace", ns)
    k.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx:1.27", "--replicas=2")
    k.kubectl("rollout", "status", "-n", ns, "deploy/web", "--timeout=90s", timeout=100)
    [rs] = kubectl_json(k, "get", "-n", ns, "rs")["items"]
    k.kubectl("delete", "-n", ns, "deploy/web", f"--cascade={cascade}", timeout=90)
    assert not kubectl_json(k, "get", "-n", ns, "deploy")["items"]
    if cascade == "orphan":
        left = kubectl_json(k, "get", "-n", ns, "rs")["items"]
        assert [r["metadata"]["name"] for r in left] == [rs["metadata"]["name"]]
        assert "ownerReferences" not in left[0]["metadata"]
        assert len(kubectl_json(k, "get", "-n", ns, "pods")["items"]) == 2
    else:
        wait_for(
            "ReplicaSet and pods gone",
            lambda: (
                not kubectl_json(k, "get", "-n", ns, "rs")["items"]
                and not kubectl_json(k, "get", "-n", ns, "pods")["items"]
            ),
        )
    k.kubectl("delete", "namespace", ns, "--wait=true", timeout=90)
    assert "NotFound" in k.kubectl("get", "namespace", ns, check=False).stderr


def test_kubectl_waits_for_a_job_to_complete_or_fail(k):
    k.kubectl("create", "namespace", "jobs")
    k.kubectl("create", "job", "hello", "-n", "jobs", "--image=busybox", "--", "sh", "-c", "echo done")
    k.kubectl("wait", "-n", "jobs", "--for=condition=complete", "job/hello", "--timeout=60s", timeout=70)
    assert k.kubectl("logs", "-n", "jobs", "job/hello").stdout.strip() == "done"
    job = kubectl_json(k, "get", "-n", "jobs", "job/hello")
    assert job["status"]["succeeded"] == 1 and job["status"]["uncountedTerminatedPods"] == {}
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]

    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "broken"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 3"]}],
                }
            },
        },
    }
    k.kubectl("apply", "-n", "jobs", "-f", "-", input=json.dumps(manifest))
    k.kubectl("wait", "-n", "jobs", "--for=condition=failed", "job/broken", "--timeout=60s", timeout=70)
    described = k.kubectl("describe", "-n", "jobs", "job/broken").stdout
    assert "BackoffLimitExceeded" in described and "Job has reached the specified backoff limit" in described
    pods = kubectl_json(k, "get", "-n", "jobs", "pods", "-l", "job-name=broken")["items"]
    assert len(pods) == 1 and pods[0]["status"]["phase"] == "Failed"
    assert not pods[0]["metadata"].get("finalizers")


def test_a_gpu_pod_that_fits_nowhere_as_kubectl_describe_shows_it(k):
    k.kubectl("create", "namespace", "gpu")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "model"},
        "spec": {
            "containers": [
                {
                    "name": "model",
                    "image": "busybox",
                    "command": ["sleep", "3600"],
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                }
            ]
        },
    }
    k.kubectl("apply", "-n", "gpu", "-f", "-", input=json.dumps(pod))

    def described():
        text = k.kubectl("describe", "-n", "gpu", "pod/model").stdout
        return text if "FailedScheduling" in text else ""

    text = wait_for("a FailedScheduling event", described)
    assert "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient nvidia.com/gpu." in " ".join(
        text.split()
    )
    assert "default-scheduler" in text
    status = k.kubectl("get", "-n", "gpu", "pod/model", "--no-headers").stdout.split()
    assert status[2] == "Pending"

    pod["metadata"]["name"] = "model-tolerating"
    pod["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    k.kubectl("apply", "-n", "gpu", "-f", "-", input=json.dumps(pod))
    node = wait_for(
        "bound to the GPU node",
        lambda: kubectl_json(k, "get", "-n", "gpu", "pod/model-tolerating")["spec"].get("nodeName"),
    )
    assert node == GPU_NODE
    k.kubectl("delete", "-n", "gpu", "pod/model", "pod/model-tolerating", "--grace-period=0", "--force", timeout=60)
