"""Lab 05's judges: the packing the scheduler does, the Service, the GPU pod spec, the drill's message,
the crash loop and the cleanup order."""

from __future__ import annotations

import pytest

from lab_helpers.checks import evaluate, get_spec
from lab_helpers.checks.lab05 import flavor_allocatable, nodes_needed, pods_of, quantity
from lab_helpers.resources.cost import flavors

REQUESTS = {
    "api": {"replicas": 2, "cpu": "2", "memory": "1Gi"},
    "worker": {"replicas": 3, "cpu": "1", "memory": "15Gi"},
    "web": {"replicas": 2, "cpu": "500m", "memory": "256Mi"},
}
MEDIUM = flavors()["m3.medium"]
DRILL = (
    "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. no new claims to "
    "deallocate, preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption "
    "victims found for incoming pod."
)


def judge(name, answer, **context):
    return evaluate(get_spec(name), answer, context)


def test_quantities():
    assert quantity("500m") == 0.5 and quantity("2Gi") == 2 * 1024**3 and quantity(3) == 3.0
    assert quantity("1k") == 1000
    with pytest.raises(ValueError):
        quantity("lots")
    with pytest.raises(ValueError):
        quantity(True)


def test_the_packing_is_not_the_division_of_sums():
    node = flavor_allocatable(MEDIUM["vcpus"], MEDIUM["ram_gb"])
    assert node == (8.0, (30 * 1024 - 100) * 1024**2)  # allocatable: the flavor less the eviction threshold
    assert nodes_needed(pods_of(REQUESTS), node) == 3  # one 15Gi worker pod per node: two need more than 29.9 GiB
    # with the flavor's full 30 GiB two would fit on one node, and two nodes would do
    assert nodes_needed(pods_of(REQUESTS), (8.0, 30 * 1024**3)) == 2
    assert nodes_needed([(3.0, 1.0)] * 5, (8.0, 100.0)) == 3  # 15 CPUs in all, yet two 3-CPU pods per node
    assert nodes_needed([(9.0, 1.0)], (8.0, 100.0)) is None  # fits no node


def test_workers_needed():
    context = dict(requests=REQUESTS, vcpus=MEDIUM["vcpus"], ram_gb=MEDIUM["ram_gb"])
    assert judge("05.workers-needed", 3, **context).status == "passed"
    by_sum = judge("05.workers-needed", 2, **context)
    assert by_sum.status == "failed" and "never split" in by_sum.message
    assert "fewer" in judge("05.workers-needed", 5, **context).message
    assert judge("05.workers-needed", "3", **context).status == "failed"
    assert judge("05.workers-needed", True, **context).status == "failed"
    assert judge("05.workers-needed", None, **context).status == "not done"


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
           "spec": {"selector": {"app": "api"}, "ports": [{"port": 8080, "targetPort": 8080}]}}  # fmt: skip
SERVICE_CONTEXT = dict(pod_labels={"app": "api"}, container_port=8080, port_name="http", ready_endpoints=1)


def test_api_service():
    assert judge("05.api-service", SERVICE, **SERVICE_CONTEXT).status == "passed"
    named = {**SERVICE, "spec": {**SERVICE["spec"], "ports": [{"port": 80, "targetPort": "http"}]}}
    assert judge("05.api-service", named, **SERVICE_CONTEXT).status == "passed"
    other = {**SERVICE, "spec": {**SERVICE["spec"], "selector": {"app": "web"}}}
    assert "matches none" in judge("05.api-service", other, **SERVICE_CONTEXT).message
    port = {**SERVICE, "spec": {**SERVICE["spec"], "ports": [{"port": 8080, "targetPort": 80}]}}
    assert "targetPort" in judge("05.api-service", port, **SERVICE_CONTEXT).message
    not_ready = judge("05.api-service", SERVICE, **{**SERVICE_CONTEXT, "ready_endpoints": 0})
    assert not_ready.status == "partial" and "ready endpoint" in not_ready.message
    assert judge("05.api-service", {"kind": "Pod"}, **SERVICE_CONTEXT).status == "failed"
    assert judge("05.api-service", None, **SERVICE_CONTEXT).status == "not done"


GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}


def test_model_on_gpu():
    container = {"name": "model", "image": "visualizing-compute/sample-model:1.0.0"}
    gpu = {**container, "resources": {"limits": {"nvidia.com/gpu": 1}}}
    assert judge("05.model-on-gpu", {"containers": [gpu], "tolerations": [GPU_TOLERATION]}).status == "passed"
    exists = {"key": "nvidia.com/gpu", "operator": "Exists"}
    assert judge("05.model-on-gpu", {"containers": [gpu], "tolerations": [exists]}).status == "passed"
    half = judge("05.model-on-gpu", {"containers": [gpu]})
    assert half.status == "partial" and half.earned == 1.5 and "taint" in half.message
    two = {**container, "resources": {"limits": {"nvidia.com/gpu": 2}}}
    assert "exactly one GPU" in judge("05.model-on-gpu", {"containers": [two], "tolerations": [GPU_TOLERATION]}).message
    wrong_value = {**GPU_TOLERATION, "value": "absent"}
    assert judge("05.model-on-gpu", {"containers": [gpu], "tolerations": [wrong_value]}).status == "partial"
    assert judge("05.model-on-gpu", {"tolerations": [GPU_TOLERATION]}).status == "failed"


def test_gpu_pending():
    context = dict(nodes=4, phase="Pending", asked=2)
    assert judge("05.gpu-pending", DRILL, **context).status == "passed"
    assert "Insufficient" in judge("05.gpu-pending", "not enough GPUs", **context).message
    assert judge("05.gpu-pending", DRILL, **{**context, "nodes": 3}).status == "failed"
    assert judge("05.gpu-pending", DRILL, **{**context, "phase": "Running"}).status == "failed"
    assert (
        judge("05.gpu-pending", "3 Insufficient nvidia.com/gpu", **context).status == "failed"
    )  # not the whole message


def test_crash_loop():
    line = "sample_app.model: no weights at /models/digits.npz (WEIGHTS_DIR=/models)"
    context = dict(exit_code=1, log_lines=["starting", line])
    right = {"waiting_reason": "CrashLoopBackOff", "exit_code": 1, "log_line": line}
    assert judge("05.crash-loop", right, **context).status == "passed"
    two = judge("05.crash-loop", {**right, "exit_code": 0}, **context)
    assert two.status == "partial" and round(two.earned, 2) == round(2 * 2 / 3, 2)
    assert judge("05.crash-loop", {**right, "log_line": "starting"}, **context).status == "partial"
    assert judge("05.crash-loop", {"waiting_reason": "Error"}, **context).status == "failed"


def test_cleanup_order():
    steps = ["node VMs", "namespace", "nodes"]
    assert judge("05.cleanup-order", ["namespace", "nodes", "node VMs"], steps=steps).status == "passed"
    assert judge("05.cleanup-order", ["Namespace", "NODES", "node vms"], steps=steps).status == "passed"
    early = judge("05.cleanup-order", ["nodes", "namespace", "node VMs"], steps=steps)
    assert early.status == "failed" and "CSI" in early.message
    assert judge("05.cleanup-order", ["node VMs", "nodes", "namespace"], steps=steps).status == "failed"
    assert judge("05.cleanup-order", ["namespace", "nodes"], steps=steps).status == "failed"
    assert judge("05.cleanup-order", "namespace", steps=steps).status == "failed"
