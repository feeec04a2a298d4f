"""Garbage collection in its three modes, namespace deletion, endpoints and EndpointSlices, service
accounts, node taints and the pod garbage collector, and how the controllers behave under failure
and at rest: in process, with the stand-in kubelet of ``k8s_sim``."""

from __future__ import annotations

import logging
import resource
import time

import pytest
from k8s_sim import DEPLOYMENTS, JOBS, NAMESPACES, NODES, PODS, RS, SERVICES, Cluster, deployment, node

from lab_helpers.sandbox.kubernetes.controllers.loop import Settings
from lab_helpers.sandbox.kubernetes.resources import by_plural

CONFIGMAPS = by_plural("configmaps")
ENDPOINTS = by_plural("endpoints")
SLICES = by_plural("endpointslices", "discovery.k8s.io")
SERVICE_ACCOUNTS = by_plural("serviceaccounts")


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path, Settings(job_backoff_s=0.05, job_backoff_max_s=0.2, podgc_quarantine_s=0.2))
    c.create(NODES, node("w1"))
    c.create(NODES, node("w2"))
    yield c
    c.stop()


def deleted_at(c: Cluster, res, since: int) -> dict[str, int]:
    """When (resourceVersion) each object of ``res`` was removed, by name."""
    return {obj["metadata"]["name"]: rv for rv, kind, obj in c.objects.changes_since(since, res) if kind == "DELETED"}


def web(c: Cluster, replicas: int = 2) -> None:
    c.create(DEPLOYMENTS, deployment("web", replicas))
    c.settle()


# -- garbage collection ---------------------------------------------------------------------------


def test_background_deletion_removes_the_owner_first_then_its_dependents(cluster):
    c = cluster
    web(c)
    start = c.objects.current_rv()
    c.objects.delete(DEPLOYMENTS, "default", "web", propagation="Background")
    c.wait_for(lambda: not c.list(RS) and not c.pods(), message="ReplicaSet and pods collected")
    gone_d = deleted_at(c, DEPLOYMENTS, start)["web"]
    gone_rs = list(deleted_at(c, RS, start).values())
    gone_pods = list(deleted_at(c, PODS, start).values())
    assert len(gone_rs) == 1 and len(gone_pods) == 2
    assert gone_d < gone_rs[0] < min(gone_pods)


def test_foreground_deletion_removes_the_dependents_first_then_the_owner(cluster):
    c = cluster
    web(c)
    start = c.objects.current_rv()
    owner, gone = c.objects.delete(DEPLOYMENTS, "default", "web", propagation="Foreground")
    assert not gone and "foregroundDeletion" in owner["metadata"]["finalizers"]
    c.wait_for(lambda: c.get(DEPLOYMENTS, "web") is None, message="the deployment goes last")
    gone_d = deleted_at(c, DEPLOYMENTS, start)["web"]
    assert max([*deleted_at(c, PODS, start).values(), *deleted_at(c, RS, start).values()]) < gone_d
    assert not c.list(RS) and not c.pods()


def test_orphan_deletion_leaves_the_dependents_without_their_owner(cluster):
    c = cluster
    web(c)
    [rs] = c.list(RS)
    c.objects.delete(DEPLOYMENTS, "default", "web", propagation="Orphan")
    c.wait_for(lambda: c.get(DEPLOYMENTS, "web") is None, message="the deployment goes")
    c.settle()
    kept = c.get(RS, rs["metadata"]["name"])
    assert kept is not None and not kept["metadata"].get("ownerReferences")
    pods = c.pods(app="web")
    assert len(pods) == 2 and all(p["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"] for p in pods)

    # A new Deployment with the same selector and template adopts the orphaned ReplicaSet.
    c.create(DEPLOYMENTS, deployment("web", 2))
    c.settle()
    adopted = c.get(RS, rs["metadata"]["name"])
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == c.get(DEPLOYMENTS, "web")["metadata"]["uid"]
    assert len(c.list(RS)) == 1 and len(c.pods(app="web")) == 2


def test_an_object_with_two_owners_lives_until_both_are_gone(cluster):
    c = cluster
    a = c.create(CONFIGMAPS, {"metadata": {"name": "a", "namespace": "default"}})
    b = c.create(CONFIGMAPS, {"metadata": {"name": "b", "namespace": "default"}})
    refs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]}
        for o in (a, b)
    ]
    c.create(CONFIGMAPS, {"metadata": {"name": "shared", "namespace": "default", "ownerReferences": refs}})
    c.settle()
    c.objects.delete(CONFIGMAPS, "default", "a")
    c.settle()
    shared = c.get(CONFIGMAPS, "shared")
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["b"]
    c.objects.delete(CONFIGMAPS, "default", "b")
    c.wait_for(lambda: c.get(CONFIGMAPS, "shared") is None, message="collected once its last owner went")


def test_a_dependent_whose_owner_never_existed_is_collected(cluster):
    c = cluster
    ghost = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ghost", "uid": "0000-not-there"}
    c.create(CONFIGMAPS, {"metadata": {"name": "stray", "namespace": "default", "ownerReferences": [ghost]}})
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "1111"}
    c.create(CONFIGMAPS, {"metadata": {"name": "kept", "namespace": "default", "ownerReferences": [unknown]}})
    c.wait_for(lambda: c.get(CONFIGMAPS, "stray") is None, message="a dangling reference collected")
    c.settle()
    assert c.get(CONFIGMAPS, "kept") is not None  # an owner of a kind this cluster does not serve is not judged


# -- namespaces -----------------------------------------------------------------------------------


def test_deleting_a_namespace_empties_it_then_removes_it(cluster):
    c = cluster
    c.create(NAMESPACES, {"metadata": {"name": "team"}})
    c.settle()
    assert c.get(SERVICE_ACCOUNTS, "default", "team") is not None
    app = deployment("api", 2)
    app["metadata"]["namespace"] = "team"
    c.create(DEPLOYMENTS, app)
    c.create(CONFIGMAPS, {"metadata": {"name": "settings", "namespace": "team"}})
    held = {"metadata": {"name": "held", "namespace": "team", "finalizers": ["example.com/hold"]}}
    c.create(CONFIGMAPS, held)
    c.create(
        JOBS,
        {
            "metadata": {"name": "once", "namespace": "team"},
            "spec": {
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
                }
            },
        },
    )
    c.settle()
    assert len(c.pods("team")) == 3
    c.objects.delete(NAMESPACES, "", "team")

    def stuck_on_the_finalizer():
        ns = c.get(NAMESPACES, "team", "")
        conds = {x["type"]: x for x in ns["status"].get("conditions") or []}
        return (
            conds
            if conds.get("NamespaceContentRemaining", {})
            .get("message", "")
            .endswith("configmaps. has 1 resource instances")
            else None
        )

    conds = c.wait_for(stuck_on_the_finalizer, message="only the held ConfigMap left")
    assert c.get(NAMESPACES, "team", "")["status"]["phase"] == "Terminating"
    assert conds["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
    )
    assert conds["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
    assert not c.pods("team") and not c.list(DEPLOYMENTS, "team") and not c.list(JOBS, "team")

    c.patch(CONFIGMAPS, "held", lambda o: o["metadata"].update(finalizers=[]), ns="team")
    c.wait_for(lambda: c.get(NAMESPACES, "team", "") is None, message="the namespace goes once empty")
    for res in (CONFIGMAPS, SERVICE_ACCOUNTS, RS, PODS):
        assert not c.list(res, "team")


def test_every_namespace_keeps_its_default_service_account_and_root_ca(tmp_path):
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nsandbox\n-----END CERTIFICATE-----\n")
    c = Cluster(tmp_path)
    try:
        c.create(NAMESPACES, {"metadata": {"name": "lab"}})
        c.settle()
        cm = c.get(CONFIGMAPS, "kube-root-ca.crt", "lab")
        assert cm["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
        assert "kubernetes.default.svc" in cm["metadata"]["annotations"]["kubernetes.io/description"]
        first = c.get(SERVICE_ACCOUNTS, "default", "lab")["metadata"]["uid"]
        c.objects.delete(SERVICE_ACCOUNTS, "lab", "default")
        c.wait_for(lambda: c.get(SERVICE_ACCOUNTS, "default", "lab"), message="made again")
        assert c.get(SERVICE_ACCOUNTS, "default", "lab")["metadata"]["uid"] != first
        c.patch(CONFIGMAPS, "kube-root-ca.crt", lambda o: o.update(data={"ca.crt": "changed"}), ns="lab")
        c.wait_for(lambda: c.get(CONFIGMAPS, "kube-root-ca.crt", "lab")["data"]["ca.crt"] != "changed")
    finally:
        c.stop()


# -- endpoints -----------------------------------------------------------------------------------------


def service(name: str, selector: dict, target="http", **spec) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "labels": {"team": "web"}},
        "spec": {"selector": selector, "ports": [{"name": "web", "port": 8080, "targetPort": target}], **spec},
    }


def labelled(name: str, replicas: int, **notes: str) -> dict:
    d = deployment(name, replicas, pod_annotations=notes)
    d["spec"]["template"]["metadata"]["labels"]["role"] = "web"
    return d


def test_endpoints_and_slices_follow_the_selected_pods(cluster):
    c = cluster
    c.create(DEPLOYMENTS, labelled("web", 2))
    c.create(DEPLOYMENTS, labelled("web-canary", 1, **{"sim/ready": "false"}))
    c.settle()
    svc = c.create(SERVICES, service("front", {"role": "web"}))
    c.settle()
    pods = {p["status"]["podIP"]: p for p in c.list(PODS) if (p["metadata"]["labels"] or {}).get("role") == "web"}
    ready_ips = sorted(ip for ip, p in pods.items() if p["metadata"]["labels"]["app"] == "web")
    canary_ips = sorted(ip for ip, p in pods.items() if p["metadata"]["labels"]["app"] == "web-canary")
    ep = c.get(ENDPOINTS, "front")
    [subset] = ep["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ready_ips and len(ready_ips) == 2
    assert [a["ip"] for a in subset["notReadyAddresses"]] == canary_ips
    assert subset["ports"] == [{"name": "web", "port": 80, "protocol": "TCP"}]
    assert subset["addresses"][0]["targetRef"]["kind"] == "Pod" and ep["metadata"]["labels"] == {"team": "web"}
    [slice_] = c.list(SLICES)
    assert slice_["metadata"]["name"].startswith("front-") and slice_["addressType"] == "IPv4"
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "front"
    assert slice_["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert slice_["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]
    assert slice_["ports"] == [{"name": "web", "port": 80, "protocol": "TCP"}]
    by_ip = {e["addresses"][0]: e["conditions"] for e in slice_["endpoints"]}
    assert {ip: by_ip[ip]["ready"] for ip in ready_ips + canary_ips} == {
        **dict.fromkeys(ready_ips, True),
        **dict.fromkeys(canary_ips, False),
    }

    c.patch(DEPLOYMENTS, "web", lambda d: d["spec"].update(replicas=1))
    c.settle()
    assert len(c.get(ENDPOINTS, "front")["subsets"][0]["addresses"]) == 1
    c.objects.delete(SERVICES, "default", "front")
    c.wait_for(lambda: c.get(ENDPOINTS, "front") is None and not c.list(SLICES), message="endpoints removed")


def test_a_service_whose_pods_lack_the_named_port_has_an_empty_slice(cluster):
    c = cluster
    web(c, 1)
    c.create(SERVICES, service("odd", {"app": "web"}, target="metrics"))
    c.create(SERVICES, service("manual", {}, target=80))
    c.settle()
    assert "subsets" not in c.get(ENDPOINTS, "odd")
    [slice_] = c.list(SLICES)
    assert slice_["endpoints"] == [] and "ports" not in slice_
    assert c.get(ENDPOINTS, "manual") is None  # no selector: endpoints are the user's to write


# -- nodes -----------------------------------------------------------------------------------------------


def test_pods_of_a_deleted_node_are_collected_and_replaced_elsewhere(cluster):
    c = cluster
    web(c, 4)
    on_w1 = [p["metadata"]["name"] for p in c.pods(app="web") if p["spec"]["nodeName"] == "w1"]
    assert on_w1
    c.objects.delete(NODES, "", "w1")
    c.wait_for(lambda: all(c.get(PODS, n) is None for n in on_w1), message="pods of the gone node removed")
    c.settle()
    pods = c.pods(app="web")
    assert len(pods) == 4 and {p["spec"]["nodeName"] for p in pods} == {"w2"}


def test_pods_on_an_unreachable_node_are_evicted_when_their_toleration_runs_out(cluster):
    c = cluster
    d = deployment("web", 4)
    d["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1}
    ]
    c.create(DEPLOYMENTS, d)
    c.settle()
    on_w1 = [p["metadata"]["name"] for p in c.pods(app="web") if p["spec"]["nodeName"] == "w1"]
    assert on_w1

    def unreachable(n):
        n["status"]["conditions"] = [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]

    c.patch(NODES, "w1", unreachable, ns="")
    c.wait_for(
        lambda: (
            {(t["key"], t["effect"]) for t in c.get(NODES, "w1", "")["spec"].get("taints") or []}
            == {("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")}
        ),
        message="the unreachable taints",
    )
    assert all(c.get(PODS, n) is not None for n in on_w1)  # tolerated for a second
    c.wait_for(lambda: all(c.get(PODS, n) is None for n in on_w1), timeout=8, message="evicted after 1 s")
    c.settle()
    assert {p["spec"]["nodeName"] for p in c.pods(app="web")} == {"w2"} and len(c.pods(app="web")) == 4
    evicted = c.messages("TaintManagerEviction")
    assert sorted(evicted) == sorted(f"Marking for deletion Pod default/{n}" for n in on_w1)


def test_every_object_the_controllers_write_validates_against_the_bundled_schemas(tmp_path):
    import kubernetes_validate

    from lab_helpers.sandbox.kubernetes.resources import MINOR, RESOURCES

    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nsandbox\n-----END CERTIFICATE-----\n")
    c = Cluster(tmp_path)
    try:
        c.create(
            NODES, node("gpu", gpus=1, taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}])
        )
        down = node("down")
        down["status"]["conditions"][0]["status"] = "Unknown"
        c.create(NODES, down)
        c.create(DEPLOYMENTS, deployment("web", 3, pod_annotations={"sim/ready": "false"}))
        c.create(SERVICES, service("web", {"app": "web"}))
        run = {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
        for name, code, extra in (
            ("ok", "0", {"completionMode": "Indexed", "completions": 2}),
            ("bad", "1", {"backoffLimit": 0}),
        ):
            body = {"template": {"metadata": {"annotations": {"sim/exit": code}}, "spec": run}, **extra}
            c.create(JOBS, {"metadata": {"name": name, "namespace": "default"}, "spec": body})
        gpu_pod = {"name": "c", "image": "busybox", "resources": {"limits": {"nvidia.com/gpu": "2"}}}
        c.create(PODS, {"metadata": {"name": "big", "namespace": "default"}, "spec": {"containers": [gpu_pod]}})
        c.create(NAMESPACES, {"metadata": {"name": "t"}})
        c.create(CONFIGMAPS, {"metadata": {"name": "hold", "namespace": "t", "finalizers": ["example.com/x"]}})
        c.settle()
        c.objects.delete(NAMESPACES, "", "t")
        c.patch(DEPLOYMENTS, "web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:2"))
        c.settle()
        checked, problems = 0, []
        for res in RESOURCES:
            for obj in c.objects.list(res)[0]:
                checked += 1
                try:
                    kubernetes_validate.validate(obj, f"1.{MINOR}.0", strict=True)
                except Exception as err:  # the library raises its own error types
                    problems.append(f"{res.kind} {obj['metadata']['name']}: {str(err).splitlines()[0]}")
        assert checked >= 30 and problems == []
    finally:
        c.stop()


# -- failure and rest ------------------------------------------------------------------------------------


def test_a_failing_reconcile_is_logged_and_retried_and_the_thread_lives_on(cluster, caplog):
    c = cluster
    ctl = c.controller("replicaset-controller")
    real = ctl.reconcile
    calls = {"n": 0}

    def flaky(key):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected failure")
        return real(key)

    ctl.reconcile = flaky
    with caplog.at_level(logging.ERROR, logger="lab_helpers.sandbox"):
        c.create(DEPLOYMENTS, deployment("web", 2))
        c.wait_for(lambda: len(c.pods(app="web")) == 2, message="the ReplicaSet made its pods after a retry")
    assert any("injected failure" in (r.exc_text or "") or "reconciling" in r.getMessage() for r in caplog.records)
    assert calls["n"] >= 2


def test_at_rest_the_controllers_use_next_to_no_cpu(cluster):
    c = cluster
    c.create(DEPLOYMENTS, deployment("web", 40))
    c.create(SERVICES, service("front", {"app": "web"}))
    c.settle()
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(1.0)
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert used < 0.1, f"{used:.3f} s of CPU in 1 s at rest"
