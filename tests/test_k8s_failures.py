"""Failure drills on the sandbox cluster, each the sequence a learner meets, seen through the real
kubectl and the Python client: a worker's VM stopped (the node goes NotReady, its pods come back
Running on a healthy node once their short toleration runs out, and the node recovers when its VM
starts); a crash loop backing off; a GPU pod that fits nowhere saying why; a stale update refused
with 409; the sandbox's service killed with SIGKILL in the middle of a rollout and started again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest
from k8s_fixtures import cluster, kube  # noqa: F401

pytestmark = pytest.mark.timeout(300)

NS = "drills"
TOLERATION_S = 3  # the cluster's default not-ready/unreachable toleration in these drills


def wait_for(what, check, timeout: float = 40.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


def kjson(kube, *args: str, admin: bool = False) -> dict:
    extra = ("--context", "sandbox-admin") if admin else ()
    return json.loads(kube.kubectl(*extra, *args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def drills(kube, cluster):
    """The cluster with a short default toleration (as a lab sets it) and a namespace for the drills;
    a crash-looping pod starts here so its back-off has grown by the time its drill looks."""
    from lab_helpers.kube import create_cluster

    # as a lab's notebook asks for it: the cluster (already made here) with a short default toleration
    made = create_cluster(toleration_s=TOLERATION_S, show=None)
    assert sorted(made.node_names) == sorted(cluster)
    kube.kubectl("create", "namespace", NS)
    control_plane = next(n for n in cluster if "control-plane" in n)  # away from the node-loss drill's workers
    crasher = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "crasher", "namespace": NS},
        "spec": {
            "nodeName": control_plane,
            "containers": [{"name": "crasher", "image": "busybox", "command": ["sh", "-c", "echo crashing; exit 1"]}],
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(crasher))
    restarts: dict[int, float] = {}  # restartCount -> when it was first seen, by a watcher of the pod
    stop = threading.Event()

    def watch_restarts() -> None:
        from kubernetes import client

        core = client.CoreV1Api(kube.api_client("sandbox"))
        while not stop.wait(0.2):
            try:
                pod = core.read_namespaced_pod("crasher", NS)
            except Exception:  # noqa: BLE001 - the service may be down in another drill
                continue
            for cs in pod.status.container_statuses or []:
                restarts.setdefault(cs.restart_count, time.monotonic())

    watcher = threading.Thread(target=watch_restarts, daemon=True)
    watcher.start()
    yield {"nodes": cluster, "restarts": restarts}
    stop.set()
    watcher.join(5)


def _pods(kube, selector: str) -> list[dict]:
    return kjson(kube, "get", "pods", "-n", NS, "-l", selector)["items"]


def _running_ready(pod: dict) -> bool:
    st = pod.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
    return st.get("phase") == "Running" and ready and not pod["metadata"].get("deletionTimestamp")


def test_new_pods_carry_the_clusters_short_toleration(kube, drills):
    """The cluster's setting is visible where a kubeadm cluster keeps it, and a pod that says nothing
    tolerates a failed node for that long; a pod that names its own tolerationSeconds keeps it."""
    cm = kjson(kube, "get", "configmap", "kubeadm-config", "-n", "kube-system", admin=True)
    config = cm["data"]["ClusterConfiguration"]
    assert "reads apiServer.extraArgs here" in cm["metadata"]["annotations"]["sandbox.visualizing-compute/simulated"]
    assert "name: default-unreachable-toleration-seconds" in config and f"value: '{TOLERATION_S}'" in config
    kube.kubectl("run", "plain", "-n", NS, "--image=busybox", "--restart=Never", "--", "sleep", "1")
    tolerations = kjson(kube, "get", "pod", "plain", "-n", NS)["spec"]["tolerations"]
    assert {(t["key"], t["tolerationSeconds"]) for t in tolerations} == {
        ("node.kubernetes.io/not-ready", TOLERATION_S),
        ("node.kubernetes.io/unreachable", TOLERATION_S),
    }
    own = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "patient", "namespace": NS},
        "spec": {
            "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1"]}],
            "restartPolicy": "Never",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 600,
                }
            ],
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(own))
    tolerations = kjson(kube, "get", "pod", "patient", "-n", NS)["spec"]["tolerations"]
    assert {(t["key"], t["tolerationSeconds"]) for t in tolerations} == {
        ("node.kubernetes.io/unreachable", 600),
        ("node.kubernetes.io/not-ready", TOLERATION_S),
    }
    kube.kubectl("delete", "pod", "plain", "patient", "-n", NS, "--wait=false")


def test_node_loss_moves_pods_to_a_healthy_node(kube, drills):
    """Stop a worker's VM: kubectl get nodes says NotReady, the node is tainted unreachable, and after
    the short toleration its pods are Running on the other worker; start the VM and the node is Ready
    again, untainted."""
    from lab_helpers.kube import start_node, stop_node

    kube.kubectl("create", "deployment", "web", "-n", NS, "--image=nginx", "--replicas=2")
    kube.kubectl("rollout", "status", "deployment/web", "-n", NS, "--timeout=60s")
    pods = _pods(kube, "app=web")
    victim = pods[0]["spec"]["nodeName"]
    started = time.monotonic()
    stop_node(victim)
    wait_for(
        f"{victim} NotReady",
        lambda: re.search(rf"^{re.escape(victim)}\s+NotReady\s", kube.kubectl("get", "nodes").stdout, re.M),
    )
    node = kjson(kube, "get", "node", victim)
    assert {(t["key"], t["effect"]) for t in node["spec"].get("taints") or []} >= {
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoSchedule"),
    }
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")

    def moved():
        pods = _pods(kube, "app=web")
        live = [p for p in pods if _running_ready(p)]
        return len(live) == 2 and all(p["spec"]["nodeName"] != victim for p in live) and live

    live = wait_for("the pods Running elsewhere", moved, timeout=60)
    took = time.monotonic() - started
    print(f"node failure -> pods Running elsewhere: {took:.1f} s (toleration {TOLERATION_S} s)")
    assert took >= TOLERATION_S  # not before the toleration ran out
    events = kube.kubectl("get", "events", "-n", NS, "--field-selector", "reason=TaintManagerEviction").stdout
    assert re.search(r"Marking for deletion Pod drills/web-", events), events
    not_ready = kube.kubectl("get", "events", "-n", NS, "--field-selector", "reason=NodeNotReady").stdout
    assert re.search(r"Warning\s+NodeNotReady\s+pod/web-\S+\s+Node is not ready", not_ready), not_ready
    assert {p["spec"]["nodeName"] for p in live} <= set(drills["nodes"]) - {victim}

    start_node(victim)
    wait_for(
        f"{victim} Ready",
        lambda: re.search(rf"^{re.escape(victim)}\s+Ready\s", kube.kubectl("get", "nodes").stdout, re.M),
    )
    wait_for(
        "the unreachable taints gone",
        lambda: (
            not any(
                t["key"].startswith("node.kubernetes.io/")
                for t in kjson(kube, "get", "node", victim)["spec"].get("taints") or []
            )
        ),
    )


def test_unschedulable_gpu_pod_says_why(kube, drills):
    """A pod asking for a GPU on a cluster without one stays Pending: the FailedScheduling event and
    the PodScheduled condition carry the scheduler's words, preemption's verdict included."""

    def gpu_pod(name: str, tolerate_all: bool) -> dict:
        spec: dict = {
            "containers": [
                {
                    "name": "cuda",
                    "image": "busybox",
                    "command": ["sleep", "60"],
                    "resources": {"limits": {"nvidia.com/gpu": 1}},
                }
            ],
            "restartPolicy": "Never",
        }
        if tolerate_all:
            spec["tolerations"] = [{"operator": "Exists"}]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": spec}

    kube.kubectl("apply", "-f", "-", input=json.dumps(gpu_pod("gpu-job", False)))
    kube.kubectl("apply", "-f", "-", input=json.dumps(gpu_pod("gpu-anywhere", True)))
    plain = (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient nvidia.com/gpu. "
        "no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
        "scheduling, 2 No preemption victims found for incoming pod."
    )
    anywhere = (
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. no new claims to deallocate, preemption: "
        "0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )
    for name, message in (("gpu-job", plain), ("gpu-anywhere", anywhere)):

        def scheduled(name=name):
            conds = kjson(kube, "get", "pod", name, "-n", NS)["status"].get("conditions") or []
            return next((c for c in conds if c["type"] == "PodScheduled"), None)

        cond = wait_for(f"{name} PodScheduled", scheduled)
        assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", message)
        assert re.search(rf"^{name}\s+0/1\s+Pending\s+0\s", kube.kubectl("get", "pod", name, "-n", NS).stdout, re.M)
        described = kube.kubectl("describe", "pod", name, "-n", NS).stdout
        assert re.search(r"Warning\s+FailedScheduling\s+.*default-scheduler\s+" + re.escape(message), described), (
            described
        )


def test_stale_update_is_refused_with_409(kube, drills):
    """Two writers read the same Deployment; the second one's update carries a stale resourceVersion
    and the API server refuses it (the Python client and kubectl replace both see the 409)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    kube.kubectl("create", "deployment", "stale", "-n", NS, "--image=nginx", "--replicas=1")
    apps = client.AppsV1Api(kube.api_client("sandbox"))
    first = apps.read_namespaced_deployment("stale", NS)
    second = apps.read_namespaced_deployment("stale", NS)
    first.spec.replicas = 2
    apps.replace_namespaced_deployment("stale", NS, first)
    second.spec.replicas = 3
    with pytest.raises(ApiException) as caught:
        apps.replace_namespaced_deployment("stale", NS, second)
    body = json.loads(caught.value.body)
    expected = (
        'Operation cannot be fulfilled on deployments.apps "stale": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert (caught.value.status, body["reason"], body["message"]) == (409, "Conflict", expected)
    assert apps.read_namespaced_deployment("stale", NS).spec.replicas == 2  # the first write stands
    stale = client.ApiClient().sanitize_for_serialization(second)
    done = kube.kubectl("replace", "-f", "-", input=json.dumps(stale), check=False)
    assert done.returncode == 1
    assert f'Error from server (Conflict): error when replacing "STDIN": {expected}' in done.stderr, done.stderr


def test_crash_loop_backs_off(kube, drills):
    """A container that exits at once is restarted at once, then after 10 s, and then the kubelet says
    it waits 20 s: CrashLoopBackOff in kubectl get, the back-off growing in the kubelet's message, its
    BackOff event."""
    seen = drills["restarts"]
    wait_for("two restarts", lambda: 2 in seen, timeout=60, every=0.25)
    assert {0, 1, 2} <= set(seen), seen  # the watcher saw each restart
    first, second = seen[1] - seen[0], seen[2] - seen[1]
    print(f"crash loop: restarted after {first:.1f} s, then {second:.1f} s")
    assert first < 8 <= second  # at once, then after the first back-off (10 s)
    if 3 in seen:  # a slow machine may have got this far: the next wait was longer again
        assert seen[3] - seen[2] > second

    def backing_off():
        pod = kjson(kube, "get", "pod", "crasher", "-n", NS)
        cs = pod["status"]["containerStatuses"][0]
        waiting = (cs.get("state") or {}).get("waiting") or {}
        return (cs, waiting) if waiting.get("reason") == "CrashLoopBackOff" and cs["restartCount"] >= 2 else None

    cs, waiting = wait_for("CrashLoopBackOff after the second restart", backing_off, timeout=30, every=0.25)
    uid = kjson(kube, "get", "pod", "crasher", "-n", NS)["metadata"]["uid"]
    step = 10 * 2 ** (cs["restartCount"] - 1)
    assert waiting["message"] == f"back-off {step}s restarting failed container=crasher pod=crasher_{NS}({uid})"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    listed = kube.kubectl("get", "pod", "crasher", "-n", NS).stdout
    assert re.search(r"^crasher\s+0/1\s+CrashLoopBackOff\s+\d+ \(\S+ ago\)\s", listed, re.M), listed
    events = kube.kubectl("get", "events", "-n", NS, "--field-selector", "involvedObject.name=crasher").stdout
    assert f"Back-off restarting failed container crasher in pod crasher_{NS}({uid})" in events, events


def _service_pid(kube) -> int:
    from lab_helpers.sandbox.service import status

    current = status(kube.state / "sandbox")
    assert current.running and current.pid
    return int(current.pid)


def test_rollout_survives_the_service_killed(kube, drills):
    """kill -9 of the sandbox's service while `kubectl rollout status` follows a rollout; start it
    again and the rollout resumes from what is stored: the right replicas, one pod per replica, all
    of the new template."""
    from lab_helpers import sandbox as sb

    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "roll", "namespace": NS},
        "spec": {
            "replicas": 3,
            "minReadySeconds": 1,
            "selector": {"matchLabels": {"app": "roll"}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "roll"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    kube.kubectl("rollout", "status", "deployment/roll", "-n", NS, "--timeout=60s")
    kube.kubectl("set", "image", "deployment/roll", "-n", NS, "web=nginx:1.27")
    follow = subprocess.Popen(
        ["kubectl", "rollout", "status", "deployment/roll", "-n", NS, "--timeout=90s"],
        env=kube.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(
        "the rollout under way",
        lambda: kjson(kube, "get", "deployment", "roll", "-n", NS)["status"].get("updatedReplicas", 0) >= 1,
    )
    os.kill(_service_pid(kube), signal.SIGKILL)
    # kubectl's watch fails and it retries, as against a real API server that went down; its retries last
    # about a second (a GET after the watch ends, retried once), so start again at once, as a supervisor
    # would: on a loaded machine a one-second pause plus a slow start outlasted them (connection refused)
    time.sleep(0.2)
    assert follow.poll() is None
    sb.start()  # on the same port, from what is stored
    out, _ = follow.communicate(timeout=90)
    assert follow.returncode == 0, out
    assert 'deployment "roll" successfully rolled out' in out
    d = kjson(kube, "get", "deployment", "roll", "-n", NS)
    assert (d["status"]["replicas"], d["status"]["updatedReplicas"], d["status"]["availableReplicas"]) == (3, 3, 3)

    def settled():
        pods = [p for p in _pods(kube, "app=roll") if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == 3 and all(_running_ready(p) for p in pods) and pods

    pods = wait_for("three pods, no more", settled)
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.27"}
    assert len({p["metadata"]["name"] for p in pods}) == 3
    rs = [r for r in kjson(kube, "get", "rs", "-n", NS, "-l", "app=roll")["items"]]
    assert sorted(r["spec"]["replicas"] for r in rs) == [0, 3]


@pytest.mark.slow
def test_lost_vm_and_deleted_node_pods_recreated_elsewhere(kube, drills):
    """Delete a worker's VM from the cloud, then its Node: the Deployment's pods are replaced on the
    other worker, and the pods still bound to the gone node are garbage-collected (after the pod GC's
    40 s quarantine), so none is left pointing at it. Last: the cluster has one worker after it."""
    from lab_helpers.kube import delete_node_server

    kube.kubectl("create", "deployment", "keep", "-n", NS, "--image=nginx", "--replicas=2")
    kube.kubectl("rollout", "status", "deployment/keep", "-n", NS, "--timeout=60s")
    victim = _pods(kube, "app=keep")[0]["spec"]["nodeName"]
    delete_node_server(victim)
    wait_for(
        f"{victim} NotReady",
        lambda: re.search(rf"^{re.escape(victim)}\s+NotReady\s", kube.kubectl("get", "nodes").stdout, re.M),
    )
    kube.kubectl("--context", "sandbox-admin", "delete", "node", victim)

    def replaced():
        pods = _pods(kube, "app=keep")
        live = [p for p in pods if _running_ready(p)]
        bound_to_victim = [p for p in pods if p["spec"].get("nodeName") == victim]
        return len(live) == 2 and not bound_to_victim and live

    live = wait_for("the pods recreated elsewhere and the old ones collected", replaced, timeout=90)
    assert all(p["spec"]["nodeName"] != victim for p in live)
    assert re.search(rf"^{re.escape(victim)}\s", kube.kubectl("get", "nodes").stdout, re.M) is None
