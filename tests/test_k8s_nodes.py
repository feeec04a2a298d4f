"""Nodes, drains, disruption budgets and DaemonSets with the real clients: the transcript in
``k8s_transcripts/nodes.txt`` (cordon, drain held by a budget, DaemonSet rollout, a VM stopped
with the openstack CLI), then a drain that waits, running, until a replacement pod is Ready, the
eviction API's answers on the wire, budget arithmetic (percentages, maxUnavailable, unmanaged pods),
and a DaemonSet following nodes as they come and go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from k8s_fixtures import Transcript, cluster, kube, load_transcript  # noqa: F401

pytestmark = pytest.mark.timeout(300)

SECTIONS = load_transcript("nodes.txt")
NS = "nodes-py"


def wait_for(what, check, timeout: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


def kjson(kube, *args: str) -> dict:
    return json.loads(kube.kubectl(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def env(kube, cluster) -> dict[str, str]:
    """kubectl's environment plus the workers' names and the openstack CLI's cloud."""
    workers = [n for n in cluster if "-worker-" in n]
    out = dict(kube.env)
    out.update(
        {
            "W1": next(n for n in workers if n.endswith("-worker-1")),
            "W2": next(n for n in workers if n.endswith("-worker-2")),
            "OS_CLIENT_CONFIG_FILE": str(kube.state / "sandbox" / "clouds.yaml"),
            "OS_CLOUD": "sandbox",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{out['PATH']}",
        }
    )
    return out


@pytest.fixture(scope="module")
def transcript(env, tmp_path_factory) -> Transcript:
    return Transcript(env, tmp_path_factory.mktemp("nodes-transcript"))


# The openstack CLI takes seconds to start; the same failure runs as a Python drill in test_k8s_failures.
SLOW_SECTIONS = ("node-failure",)


def _sections():
    for name in SECTIONS:
        yield pytest.param(name, marks=[pytest.mark.slow] if name in SLOW_SECTIONS else [], id=name)


@pytest.mark.parametrize("section", list(_sections()))
def test_nodes_transcript(transcript, section):
    transcript.run(section, SECTIONS[section])


@pytest.fixture(scope="module")
def ns(kube, env) -> str:
    kube.kubectl("create", "namespace", NS)
    return NS


def _pdb(kube, name: str) -> dict:
    return kjson(kube, "get", "pdb", name, "-n", NS)


def test_drain_waits_for_a_replacement_to_be_ready(kube, env, ns):
    """kubectl drain, held by a budget, keeps retrying; scaling up gives the budget a spare Ready pod
    and the same drain command finishes on its own."""
    kube.kubectl("create", "deployment", "api", "-n", NS, "--image=nginx", "--replicas=1")
    kube.kubectl("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    kube.kubectl("create", "pdb", "api", "-n", NS, "--selector=app=api", "--min-available=1")
    wait_for("the budget worked out", lambda: _pdb(kube, "api").get("status", {}).get("observedGeneration"))
    node = kjson(kube, "get", "pods", "-n", NS, "-l", "app=api")["items"][0]["spec"]["nodeName"]
    drain = subprocess.Popen(
        ["kubectl", "--context", "sandbox-admin", "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
         "--timeout=90s"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(
            "the node cordoned by the drain", lambda: kjson(kube, "get", "node", node)["spec"].get("unschedulable")
        )
        time.sleep(1.5)
        assert drain.poll() is None  # still retrying: the budget allows no disruption
        assert _pdb(kube, "api")["status"]["disruptionsAllowed"] == 0
        kube.kubectl("scale", "deployment/api", "-n", NS, "--replicas=2")
        out, _ = drain.communicate(timeout=60)
    finally:
        if drain.poll() is None:
            drain.kill()
    assert drain.returncode == 0, out
    assert "Cannot evict pod as it would violate the pod's disruption budget." in out, out
    assert f"node/{node} drained" in out
    pods = [
        p
        for p in kjson(kube, "get", "pods", "-n", NS, "-l", "app=api")["items"]
        if not p["metadata"].get("deletionTimestamp")
    ]
    assert pods and all(p["spec"]["nodeName"] != node for p in pods)
    kube.kubectl("--context", "sandbox-admin", "uncordon", node)


def test_eviction_answers_on_the_wire(kube, ns):
    """The policy/v1 Eviction through the Python client: 429 with the DisruptionBudget cause while the
    budget allows nothing, dryRun changes nothing, a pod no budget covers is simply deleted."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(kube.api_client("sandbox"))
    kube.kubectl("create", "deployment", "db", "-n", NS, "--image=nginx", "--replicas=2")
    kube.kubectl("rollout", "status", "deployment/db", "-n", NS, "--timeout=60s")
    kube.kubectl("create", "pdb", "db", "-n", NS, "--selector=app=db", "--max-unavailable=50%")
    wait_for("one disruption allowed", lambda: _pdb(kube, "db").get("status", {}).get("disruptionsAllowed") == 1)
    st = _pdb(kube, "db")["status"]
    assert (st["currentHealthy"], st["desiredHealthy"], st["expectedPods"]) == (2, 1, 2)
    assert [(c["type"], c["status"], c["reason"]) for c in st["conditions"]] == [
        ("DisruptionAllowed", "True", "SufficientPods")
    ]
    pods = sorted(p["metadata"]["name"] for p in kjson(kube, "get", "pods", "-n", NS, "-l", "app=db")["items"])

    def evict(name: str, dry: bool = False, grace: int | None = None):
        options = None
        if dry or grace is not None:
            options = client.V1DeleteOptions(dry_run=["All"] if dry else None, grace_period_seconds=grace)
        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=NS), delete_options=options)
        return core.create_namespaced_pod_eviction(name, NS, body)

    evict(pods[0], dry=True)  # allowed, but nothing happens
    assert _pdb(kube, "db")["status"]["disruptionsAllowed"] == 1
    assert not kjson(kube, "get", "pod", pods[0], "-n", NS)["metadata"].get("deletionTimestamp")
    evict(pods[0])
    gone = kjson(kube, "get", "pods", "-n", NS, "-l", "app=db")["items"]
    evicted = next((p for p in gone if p["metadata"]["name"] == pods[0]), None)
    if evicted is not None:  # still terminating: it says why it goes
        conds = {c["type"]: c for c in evicted["status"].get("conditions") or []}
        assert conds["DisruptionTarget"]["reason"] == "EvictionByEvictionAPI"
    with pytest.raises(ApiException) as caught:
        evict(pods[1])
    body = json.loads(caught.value.body)
    assert caught.value.status == 429
    assert (body["reason"], body["message"]) == (
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    )
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert body["details"]["causes"][0]["message"].startswith("The disruption budget db needs 1 healthy pods and has")
    # once the replacement is Ready the budget allows one again
    wait_for("the budget restored", lambda: _pdb(kube, "db")["status"].get("disruptionsAllowed") == 1)
    assert pods[0] not in (_pdb(kube, "db")["status"].get("disruptedPods") or {})
    kube.kubectl("create", "pdb", "db-too", "-n", NS, "--selector=app=db", "--min-available=1")
    survivor = next(p["metadata"]["name"] for p in kjson(kube, "get", "pods", "-n", NS, "-l", "app=db")["items"]
                    if not p["metadata"].get("deletionTimestamp"))  # fmt: skip
    with pytest.raises(ApiException) as caught:
        evict(survivor)
    body = json.loads(caught.value.body)
    assert caught.value.status == 500 and "reason" not in body  # kubectl says "Error from server: ..."
    assert (
        body["message"]
        == "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    )
    kube.kubectl("run", "loner", "-n", NS, "--image=busybox", "--restart=Never", "--", "sleep", "60")
    wait_for("loner running", lambda: kjson(kube, "get", "pod", "loner", "-n", NS)["status"].get("phase") == "Running")
    evict("loner", grace=1)  # the eviction's own grace period (sleep as PID 1 ignores SIGTERM: it waits it out)
    assert kjson(kube, "get", "pod", "loner", "-n", NS)["metadata"]["deletionGracePeriodSeconds"] == 1
    wait_for(
        "loner gone",
        lambda: kube.kubectl("get", "pod", "loner", "-n", NS, check=False).returncode == 1,
    )


def test_budget_arithmetic(kube, ns):
    """minAvailable as a percentage counts the controller's scale (rounding up); a budget over a bare
    pod with maxUnavailable fails safe, as the disruption controller does."""
    kube.kubectl("create", "deployment", "cache", "-n", NS, "--image=nginx", "--replicas=3")
    kube.kubectl("rollout", "status", "deployment/cache", "-n", NS, "--timeout=60s")
    kube.kubectl("create", "pdb", "cache", "-n", NS, "--selector=app=cache", "--min-available=50%")
    wait_for("the budget worked out", lambda: _pdb(kube, "cache").get("status", {}).get("expectedPods") == 3)
    st = _pdb(kube, "cache")["status"]
    assert (st["desiredHealthy"], st["currentHealthy"], st["disruptionsAllowed"]) == (2, 3, 1)
    listed = kube.kubectl("get", "pdb", "cache", "-n", NS).stdout
    assert listed.split("\n")[1].split()[:4] == ["cache", "50%", "N/A", "1"], listed
    kube.kubectl(
        "run", "bare", "-n", NS, "--image=busybox", "--labels=tier=bare", "--restart=Never", "--", "sleep", "60"
    )
    kube.kubectl("create", "pdb", "bare", "-n", NS, "--selector=tier=bare", "--max-unavailable=1")
    cond = wait_for(
        "the budget failing safe",
        lambda: next((c for c in _pdb(kube, "bare").get("status", {}).get("conditions") or []), None),
    )
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "SyncFailed",
        'found no controller ref for pod "bare"',
    )
    assert _pdb(kube, "bare")["status"]["disruptionsAllowed"] == 0


def test_daemonset_follows_nodes(kube, ns):
    """A node registered later gets the daemon pod (pinned to it by matchFields); a node labelled out of
    the nodeSelector loses it; the status counts say so."""
    from kubernetes import client

    admin = client.CoreV1Api(kube.api_client("sandbox-admin"))
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "probe", "namespace": NS},
        "spec": {
            "selector": {"matchLabels": {"app": "probe"}},
            "template": {
                "metadata": {"labels": {"app": "probe"}},
                "spec": {
                    "nodeSelector": {"disktype": "ssd"},
                    "containers": [{"name": "probe", "image": "busybox", "command": ["sleep", "3600"]}],
                },
            },
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(ds))
    wait_for(
        "no node matches",
        lambda: kjson(kube, "get", "ds", "probe", "-n", NS).get("status", {}).get("observedGeneration"),
    )
    assert kjson(kube, "get", "ds", "probe", "-n", NS)["status"]["desiredNumberScheduled"] == 0
    admin.create_node({"metadata": {"name": "extra-ssd", "labels": {"disktype": "ssd"}}})
    pod = wait_for(
        "a pod on the new node",
        lambda: next(
            (p for p in kjson(kube, "get", "pods", "-n", NS, "-l", "app=probe")["items"]
             if p["spec"].get("nodeName") == "extra-ssd" and p["status"].get("phase") == "Running"),
            None,
        ),
    )  # fmt: skip
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms == {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                               "values": ["extra-ssd"]}]}]}  # fmt: skip
    keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
    assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
    assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
    assert pod["metadata"]["labels"]["controller-revision-hash"]
    st = wait_for(
        "status", lambda: (s := kjson(kube, "get", "ds", "probe", "-n", NS)["status"]).get("numberReady") == 1 and s
    )
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["updatedNumberScheduled"]) == (1, 1, 1)
    kube.kubectl("--context", "sandbox-admin", "label", "node", "extra-ssd", "disktype=hdd", "--overwrite")
    wait_for("the pod removed", lambda: not [
        p for p in kjson(kube, "get", "pods", "-n", NS, "-l", "app=probe")["items"]
        if not p["metadata"].get("deletionTimestamp")])  # fmt: skip
    wait_for("desired 0", lambda: kjson(kube, "get", "ds", "probe", "-n", NS)["status"]["desiredNumberScheduled"] == 0)
    admin.delete_node("extra-ssd")


def test_daemonset_surge_and_on_delete(kube, ns):
    """maxSurge 1, maxUnavailable 0: each node runs the new pod next to the old one until the new one is
    available, then the old one goes. OnDelete: a new template reaches a node only when its pod is deleted."""
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "surge", "namespace": NS},
        "spec": {
            "selector": {"matchLabels": {"app": "surge"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "surge"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "s", "image": "busybox", "command": ["sleep", "3600"]}],
                },
            },
        },
    }
    kube.kubectl("apply", "-f", "-", input=json.dumps(ds))
    kube.kubectl("rollout", "status", "ds/surge", "-n", NS, "--timeout=60s")
    doubled: set[str] = set()

    def watch_nodes():
        st = kjson(kube, "get", "ds", "surge", "-n", NS)["status"]
        pods = kjson(kube, "get", "pods", "-n", NS, "-l", "app=surge")["items"]  # read after the status
        per_node: dict[str, int] = {}
        images = set()
        for p in pods:
            if not p["metadata"].get("deletionTimestamp"):
                images.add(p["spec"]["containers"][0]["image"])
                node = p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
                    "nodeSelectorTerms"][0]["matchFields"][0]["values"][0]  # fmt: skip
                per_node[node] = per_node.get(node, 0) + 1
        doubled.update(n for n, count in per_node.items() if count > 1)
        return (
            st.get("observedGeneration") == 2
            and st.get("updatedNumberScheduled") == 2 == st.get("numberAvailable")
            and sorted(per_node.values()) == [1, 1]
            and images == {"busybox:1.36"}
        )

    kube.kubectl("set", "image", "ds/surge", "-n", NS, "s=busybox:1.36")
    wait_for("the surge rollout done", watch_nodes, timeout=60, every=0.1)
    assert doubled, "no node ran the old and the new pod side by side"

    kube.kubectl("patch", "ds/surge", "-n", NS, "--type=merge", "-p",
                 json.dumps({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": None}}}))  # fmt: skip
    kube.kubectl("set", "image", "ds/surge", "-n", NS, "s=busybox")
    wait_for("generation 4 seen", lambda: kjson(kube, "get", "ds", "surge", "-n", NS)["status"].get(
        "observedGeneration") == 4)  # fmt: skip
    st = kjson(kube, "get", "ds", "surge", "-n", NS)["status"]
    assert (st["updatedNumberScheduled"], st["currentNumberScheduled"]) == (0, 2)
    done = kube.kubectl("rollout", "status", "ds/surge", "-n", NS, check=False)
    assert done.returncode == 1 and "rollout status is only available for RollingUpdate strategy type" in done.stderr
    victim = next(
        p["metadata"]["name"]
        for p in kjson(kube, "get", "pods", "-n", NS, "-l", "app=surge")["items"]
        if not p["metadata"].get("deletionTimestamp")  # not one of the rollout's old pods, still terminating
    )
    kube.kubectl("delete", "pod", victim, "-n", NS, "--wait=false")
    wait_for("one pod updated", lambda: kjson(kube, "get", "ds", "surge", "-n", NS)["status"].get(
        "updatedNumberScheduled") == 1 and kjson(kube, "get", "ds", "surge", "-n", NS)["status"].get(
        "numberAvailable") == 2)  # fmt: skip
