"""The ``kubernetes`` Python client (typed API and ``DynamicClient``) against the sandbox cluster, as
a notebook uses it: a transcript of calls in order against one sandbox, each recorded with what
it returned; a call that differs fails with the whole transcript up to it.

The typed client deserialises every answer into its models and raises ``ValueError`` on a missing
required field, so each typed call here also checks the shape of what the API returned.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from k8s_fixtures import cluster, kube

pytestmark = pytest.mark.timeout(300)

NS = "tx-python"
DYN_NS = "tx-dynamic"

# Tests that fail because a piece of the cluster is missing or wrong, each with what is wrong.
XFAIL: dict[str, str] = {}


def xfail_if_listed(fn):
    reason = XFAIL.get(fn.__name__)
    return pytest.mark.xfail(strict=False, reason=reason)(fn) if reason else fn


class Calls:
    """Runs client calls, recording each with a short account of what came back."""

    def __init__(self) -> None:
        self.log: list[str] = []

    @staticmethod
    def _summary(result: Any) -> str:
        if result is None:
            return "None"
        items = getattr(result, "items", None)
        if isinstance(items, list):
            return f"{type(result).__name__} of {len(items)}"
        meta = getattr(result, "metadata", None)
        if meta is not None and getattr(meta, "name", None):
            return f"{type(result).__name__} {meta.name} rv={meta.resource_version}"
        return repr(result)[:200]

    def __call__(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        t = time.monotonic()
        try:
            result = fn(*args, **kw)
        except ApiException as e:
            self.log.append(f"{what} -> ApiException {e.status} {e.reason}: {(e.body or '')[:300]}")
            raise
        except Exception as e:
            self.log.append(f"{what} -> {type(e).__name__}: {e}")
            raise
        self.log.append(f"{what} -> {self._summary(result)} [{time.monotonic() - t:.2f} s]")
        return result

    def fails(self, what: str, status: int, fn: Callable[..., Any], *args: Any, **kw: Any) -> dict:
        """The call must fail with this HTTP status; returns the ``Status`` object the API answered."""
        from kubernetes.client.exceptions import ApiException

        try:
            result = fn(*args, **kw)
        except ApiException as e:
            self.log.append(f"{what} -> ApiException {e.status}: {(e.body or '')[:300]}")
            assert e.status == status, f"{what}: HTTP {e.status}, expected {status}"
            body = json.loads(e.body)
            assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["code"] == status, body
            return body
        self.log.append(f"{what} -> {self._summary(result)} (expected HTTP {status})")
        raise AssertionError(f"{what} succeeded; expected HTTP {status}")

    @contextmanager
    def section(self, title: str) -> Iterator[None]:
        self.log.append(f"## {title}")
        try:
            yield
        except Exception as e:
            raise AssertionError(f"{title}: {type(e).__name__}: {e}\n\n" + "\n".join(self.log)) from e


class Py:
    def __init__(self, kube) -> None:
        from kubernetes import client

        self.api = kube.api_client("sandbox")
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.batch = client.BatchV1Api(self.api)
        admin = kube.api_client("sandbox-admin")
        self.admin_core = client.CoreV1Api(admin)
        self.admin_apps = client.AppsV1Api(admin)
        self.call = Calls()

    def log(self, pod: str, **kw: Any) -> str:
        """A pod's log as text. Client 36 returns the repr of the bytes from ``read_namespaced_pod_log``
        ("b'...'", kubernetes-client/python issue 2596), so the body is read and decoded here."""
        return self.core.read_namespaced_pod_log(pod, NS, _preload_content=False, **kw).data.decode()

    def until(self, what: str, probe: Callable[[], Any], timeout: float = 60) -> Any:
        """Poll ``probe`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            got = probe()
            if got:
                self.call.log.append(f"{what}: yes")
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout:g} s")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def py(kube, cluster) -> Py:
    return Py(kube)


def _namespace(py: Py, name: str) -> str:
    """``name``, created by the learner as the test that makes it does, when that test did not run first
    (``-k``): a learner may act only in the namespaces they made."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        py.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    except ApiException as e:
        if e.status != 409:  # 409: made already, by the test that makes it
            raise
    return name


@pytest.fixture
def ns(py) -> str:
    return _namespace(py, NS)


@pytest.fixture
def dyn_ns(py) -> str:
    return _namespace(py, DYN_NS)


def _deployment(name: str, replicas: int, image: str = "busybox", command: list[str] | None = None):
    from kubernetes import client

    labels = {"app": name}
    container = client.V1Container(
        name="main",
        image=image,
        command=command or ["sh", "-c", "echo up; sleep 3600"],
        ports=[client.V1ContainerPort(container_port=8080, name="http")],
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                # the shell is the container's first process, which ignores SIGTERM: without this, each pod
                # would take the default 30 s to stop
                spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=1),
            ),
        ),
    )


@xfail_if_listed
def test_typed_namespace_and_errors(py):
    from kubernetes import client

    c = py.call
    with c.section("typed: namespace, nodes, errors"):
        ns = c("create_namespace", py.core.create_namespace, client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
        assert ns.metadata.name == NS and ns.metadata.uid and ns.metadata.creation_timestamp
        assert c("read_namespace", py.core.read_namespace, NS).status.phase == "Active"
        nodes = c("list_node", py.core.list_node).items
        assert len(nodes) >= 3 and all(n.status.allocatable.get("cpu") for n in nodes)
        assert (
            c("list_namespaced_service_account", py.core.list_namespaced_service_account, NS).items[0].metadata.name
            == "default"
        )
        body = c.fails(
            "create_namespace again",
            409,
            py.core.create_namespace,
            client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)),
        )
        assert body["reason"] == "AlreadyExists" and body["details"]["name"] == NS
        assert body["message"] == f'namespaces "{NS}" already exists'
        body = c.fails("read missing pod", 404, py.core.read_namespaced_pod, "nope", NS)
        assert body["reason"] == "NotFound" and body["message"] == 'pods "nope" not found'
        body = c.fails(
            "create config map in kube-system",
            403,
            py.core.create_namespaced_config_map,
            "kube-system",
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name="intruder")),
        )
        assert body["reason"] == "Forbidden" and 'User "learner" cannot create resource "configmaps"' in body["message"]
        bad = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Not_Valid"), data={"a": "1"})
        body = c.fails("create invalid name", 422, py.core.create_namespaced_config_map, NS, bad)
        assert body["reason"] == "Invalid"
        assert any(cause["field"] == "metadata.name" for cause in body["details"]["causes"]), body


@xfail_if_listed
def test_typed_config_maps(py, ns):
    from kubernetes import client

    c = py.call
    with c.section("typed: config maps, selectors, patches, conflicts, dry run"):
        for i in range(3):
            cm = client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name=f"cm-{i}", labels={"tier": "web" if i < 2 else "db", "i": str(i)}),
                data={"n": str(i)},
            )
            c(f"create cm-{i}", py.core.create_namespaced_config_map, NS, cm)
        web = c("list tier=web", py.core.list_namespaced_config_map, NS, label_selector="tier=web")
        assert sorted(o.metadata.name for o in web.items) == ["cm-0", "cm-1"] and web.metadata.resource_version
        notin = c("list tier notin (web)", py.core.list_namespaced_config_map, NS, label_selector="tier notin (web),i")
        assert [o.metadata.name for o in notin.items] == ["cm-2"]
        named = c("list by name", py.core.list_namespaced_config_map, NS, field_selector="metadata.name=cm-1")
        assert [o.metadata.name for o in named.items] == ["cm-1"]
        page = c("list limit 2", py.core.list_namespaced_config_map, NS, label_selector="i", limit=2)
        assert len(page.items) == 2 and page.metadata._continue
        rest = c(
            "list continue",
            py.core.list_namespaced_config_map,
            NS,
            label_selector="i",
            _continue=page.metadata._continue,
        )
        assert [o.metadata.name for o in page.items + rest.items] == ["cm-0", "cm-1", "cm-2"]

        old = c("read cm-0", py.core.read_namespaced_config_map, "cm-0", NS)
        patched = c("strategic patch cm-0", py.core.patch_namespaced_config_map, "cm-0", NS, {"data": {"extra": "x"}})
        assert patched.data == {"n": "0", "extra": "x"}
        assert int(patched.metadata.resource_version) > int(old.metadata.resource_version)
        merged = c(
            "merge patch cm-0",
            py.core.patch_namespaced_config_map,
            "cm-0",
            NS,
            {"data": {"extra": None}},
            _content_type="application/merge-patch+json",
        )
        assert merged.data == {"n": "0"}
        jp = c(
            "json patch cm-0",
            py.core.patch_namespaced_config_map,
            "cm-0",
            NS,
            [{"op": "replace", "path": "/data/n", "value": "zero"}],
        )
        assert jp.data == {"n": "zero"}
        body = c.fails(
            "replace with a stale resourceVersion", 409, py.core.replace_namespaced_config_map, "cm-0", NS, old
        )
        assert body["reason"] == "Conflict" and "the object has been modified" in body["message"]

        applied = c(
            "server-side apply cm-ssa",
            py.core.patch_namespaced_config_map,
            "cm-ssa",
            NS,
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-ssa"}, "data": {"k": "v"}},
            field_manager="notebook",
            _content_type="application/apply-patch+yaml",
        )
        assert applied.data == {"k": "v"}
        assert [m.manager for m in applied.metadata.managed_fields] == ["notebook"]
        assert applied.metadata.managed_fields[0].operation == "Apply"

        dry = c(
            "create dry run",
            py.core.create_namespaced_config_map,
            NS,
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dry"), data={"a": "b"}),
            dry_run="All",
        )
        assert dry.metadata.name == "dry"
        c.fails("read the dry run's object", 404, py.core.read_namespaced_config_map, "dry", NS)

        gen = c(
            "create with generateName",
            py.core.create_namespaced_config_map,
            NS,
            client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="gen-")),
        )
        assert gen.metadata.name.startswith("gen-") and len(gen.metadata.name) == len("gen-") + 5
        status = c("delete cm-2", py.core.delete_namespaced_config_map, "cm-2", NS)
        assert status is not None
        c.fails("read deleted cm-2", 404, py.core.read_namespaced_config_map, "cm-2", NS)


@xfail_if_listed
def test_typed_watch(py, ns):
    from kubernetes import client, watch

    c = py.call
    with c.section("typed: watch from a resourceVersion"):
        rv = c("list for rv", py.core.list_namespaced_config_map, NS).metadata.resource_version
        seen: list[tuple[str, str, float]] = []
        started = time.monotonic()

        def follow() -> None:
            w = watch.Watch()
            for ev in w.stream(py.core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=5):
                seen.append((ev["type"], ev["object"].metadata.name, time.monotonic()))
                if ev["type"] == "DELETED" and ev["object"].metadata.name == "watched":
                    w.stop()

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        time.sleep(0.3)
        created_at = time.monotonic()
        c(
            "create watched",
            py.core.create_namespaced_config_map,
            NS,
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched"), data={"a": "1"}),
        )
        c("patch watched", py.core.patch_namespaced_config_map, "watched", NS, {"data": {"a": "2"}})
        c("delete watched", py.core.delete_namespaced_config_map, "watched", NS)
        thread.join(10)
        c.log.append(f"events: {[(t, n) for t, n, _ in seen]}")
        assert [(t, n) for t, n, _ in seen if n == "watched"] == [
            ("ADDED", "watched"),
            ("MODIFIED", "watched"),
            ("DELETED", "watched"),
        ]
        assert not thread.is_alive() and time.monotonic() - started < 6
        added = next(at for t, n, at in seen if t == "ADDED")
        assert added - created_at < 5, f"ADDED seen {added - created_at:.2f} s after the create"  # not one timeout late

        # a watch that times out on the server ends by itself
        t = time.monotonic()
        events = list(
            watch.Watch().stream(py.core.list_namespaced_config_map, NS, label_selector="none", timeout_seconds=1)
        )
        assert time.monotonic() - t < 5 and events == []


@xfail_if_listed
def test_typed_deployment_scale_and_cascade(py, ns):
    c = py.call
    with c.section("typed: deployment, scale subresource, pods, events, foreground delete"):
        dep = c("create deployment web", py.apps.create_namespaced_deployment, NS, _deployment("web", 2))
        assert dep.spec.strategy.type == "RollingUpdate" and dep.spec.revision_history_limit == 10  # defaults
        py.until(
            "2 ready replicas",
            lambda: (py.apps.read_namespaced_deployment_status("web", NS).status.ready_replicas or 0) == 2,
        )
        scale = c("read scale", py.apps.read_namespaced_deployment_scale, "web", NS)
        assert scale.kind == "Scale" and scale.spec.replicas == 2 and scale.status.replicas == 2
        scale = c("patch scale", py.apps.patch_namespaced_deployment_scale, "web", NS, {"spec": {"replicas": 3}})
        assert scale.spec.replicas == 3
        py.until(
            "3 ready replicas",
            lambda: (py.apps.read_namespaced_deployment_status("web", NS).status.ready_replicas or 0) == 3,
        )
        pods = c("list pods app=web", py.core.list_namespaced_pod, NS, label_selector="app=web").items
        running = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
        assert len(running) == 3
        pod = running[0]
        assert pod.spec.node_name and pod.status.pod_ip and pod.status.container_statuses[0].ready
        owner = pod.metadata.owner_references[0]
        assert owner.kind == "ReplicaSet" and owner.controller
        rs = c("read replicaset", py.apps.read_namespaced_replica_set, owner.name, NS)
        assert rs.metadata.owner_references[0].kind == "Deployment" and rs.metadata.owner_references[0].name == "web"
        by_node = c(
            "list pods on a node", py.core.list_namespaced_pod, NS, field_selector=f"spec.nodeName={pod.spec.node_name}"
        ).items
        assert pod.metadata.name in [p.metadata.name for p in by_node]
        log = py.until("pod log", lambda: py.log(pod.metadata.name, container="main"), timeout=20)
        assert log == "up\n"
        events = py.until(
            "the pod's events",
            lambda: py.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={pod.metadata.name}").items,
            timeout=20,
        )
        assert "Scheduled" in {e.reason for e in events}

        c("delete web (Foreground)", py.apps.delete_namespaced_deployment, "web", NS, propagation_policy="Foreground")
        py.until(
            "web, its replica set and its pods gone",
            lambda: (
                not py.apps.list_namespaced_deployment(NS).items
                and not py.apps.list_namespaced_replica_set(NS, label_selector="app=web").items
                and not py.core.list_namespaced_pod(NS, label_selector="app=web").items
            ),
        )


@xfail_if_listed
def test_typed_job_and_logs(py, ns):
    from kubernetes import client

    c = py.call
    with c.section("typed: job to completion, its log, a failing job"):
        job = client.V1Job(
            metadata=client.V1ObjectMeta(name="count"),
            spec=client.V1JobSpec(
                completions=2,
                parallelism=1,
                backoff_limit=0,
                template=client.V1PodTemplateSpec(
                    spec=client.V1PodSpec(
                        restart_policy="Never",
                        containers=[
                            client.V1Container(
                                name="count", image="busybox", command=["sh", "-c", "for i in 1 2 3; do echo $i; done"]
                            )
                        ],
                    )
                ),
            ),
        )
        created = c("create job count", py.batch.create_namespaced_job, NS, job)
        assert created.spec.selector.match_labels  # the API server filled the selector
        done = py.until(
            "job complete",
            lambda: (
                (py.batch.read_namespaced_job_status("count", NS).status.succeeded or 0) == 2
                and py.batch.read_namespaced_job_status("count", NS)
            ),
        )
        assert any(cond.type == "Complete" and cond.status == "True" for cond in done.status.conditions)
        assert done.status.completion_time and done.status.start_time
        pods = c("pods of the job", py.core.list_namespaced_pod, NS, label_selector="job-name=count").items
        assert len(pods) == 2 and {p.status.phase for p in pods} == {"Succeeded"}
        assert c("read log", py.log, pods[0].metadata.name) == "1\n2\n3\n"
        assert c("read log tail", py.log, pods[0].metadata.name, tail_lines=1) == "3\n"

        bad = client.V1Job(
            metadata=client.V1ObjectMeta(name="fails"),
            spec=client.V1JobSpec(
                backoff_limit=0,
                template=client.V1PodTemplateSpec(
                    spec=client.V1PodSpec(
                        restart_policy="Never",
                        containers=[client.V1Container(name="x", image="busybox", command=["sh", "-c", "exit 7"])],
                    )
                ),
            ),
        )
        c("create job fails", py.batch.create_namespaced_job, NS, bad)
        failed = py.until(
            "job failed",
            lambda: next(
                (
                    cond
                    for cond in (py.batch.read_namespaced_job_status("fails", NS).status.conditions or [])
                    if cond.type == "Failed" and cond.status == "True"
                ),
                None,
            ),
        )
        assert failed.reason == "BackoffLimitExceeded"
        pod = c("pod of the failed job", py.core.list_namespaced_pod, NS, label_selector="job-name=fails").items[0]
        assert pod.status.container_statuses[0].state.terminated.exit_code == 7


@xfail_if_listed
def test_dynamic_client(py):
    from kubernetes.dynamic import DynamicClient

    c = py.call
    with c.section("dynamic: discovery, CRUD, server-side apply, watch"):
        dyn = c("DynamicClient (discovery)", DynamicClient, py.api)
        namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
        c("create namespace", namespaces.create, body={"metadata": {"name": DYN_NS}})
        cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
        deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        assert deployments.namespaced and "deploy" in deployments.short_names
        assert {"scale", "status"} <= set(deployments.subresources)
        assert dyn.resources.get(api_version="v1", kind="Pod").subresources["log"]
        c(
            "create cm",
            cms.create,
            namespace=DYN_NS,
            body={"metadata": {"name": "dyn", "labels": {"via": "dynamic"}}, "data": {"a": "1"}},
        )
        got = c("get cm", cms.get, name="dyn", namespace=DYN_NS)
        assert got.data.a == "1" and got.kind == "ConfigMap"
        listed = c("list cm via=dynamic", cms.get, namespace=DYN_NS, label_selector="via=dynamic")
        assert listed.kind == "ConfigMapList" and [i.metadata.name for i in listed.items] == ["dyn"]
        patched = c(
            "merge patch",
            cms.patch,
            name="dyn",
            namespace=DYN_NS,
            body={"data": {"b": "2"}},
            content_type="application/merge-patch+json",
        )
        assert dict(patched.data) == {"a": "1", "b": "2"}
        applied = c(
            "server_side_apply",
            dyn.server_side_apply,
            cms,
            body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"x": "y"}},
            name="ssa",
            namespace=DYN_NS,
            field_manager="dynamic",
        )
        assert applied.data.x == "y"

        events: list[tuple[str, str]] = []

        def follow() -> None:
            for ev in cms.watch(namespace=DYN_NS, timeout=4):
                events.append((ev["type"], ev["object"].metadata.name))
                if ev["object"].metadata.name == "late":
                    break

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        time.sleep(0.5)
        c("create late", cms.create, namespace=DYN_NS, body={"metadata": {"name": "late"}})
        thread.join(8)
        c.log.append(f"events: {events}")
        assert ("ADDED", "late") in events and ("ADDED", "dyn") in events

        dep = py.api.sanitize_for_serialization(_deployment("dyn-web", 1))
        c("create deployment", deployments.create, namespace=DYN_NS, body=dep)
        scale = dyn.resources.get(api_version="apps/v1", kind="Deployment").subresources["scale"]
        got = c("get scale", scale.get, name="dyn-web", namespace=DYN_NS)
        assert got.kind == "Scale" and got.spec.replicas == 1
        c(
            "delete deployment (Orphan)",
            deployments.delete,
            name="dyn-web",
            namespace=DYN_NS,
            propagation_policy="Orphan",
        )
        py.until("the deployment gone", lambda: not deployments.get(namespace=DYN_NS).items)
        rs = dyn.resources.get(api_version="apps/v1", kind="ReplicaSet")
        left = c("replica sets left", rs.get, namespace=DYN_NS, label_selector="app=dyn-web")
        assert len(left.items) == 1 and not left.items[0].metadata.ownerReferences
        c.fails("get missing", 404, cms.get, name="missing", namespace=DYN_NS)


@xfail_if_listed
def test_namespace_deletion_empties_it(py, dyn_ns):
    c = py.call
    with c.section("typed: namespace deletion empties it first"):
        slow = {
            "metadata": {"name": "slow-stop"},
            "spec": {
                "terminationGracePeriodSeconds": 10,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "command": ["sh", "-c", "trap 'sleep 1; exit 0' TERM; while true; do sleep 0.1; done"],
                    }
                ],
            },
        }
        c("create a pod that takes 1 s to stop", py.core.create_namespaced_pod, DYN_NS, slow)
        py.until("it runs", lambda: py.core.read_namespaced_pod("slow-stop", DYN_NS).status.phase == "Running")
        c("delete namespace", py.core.delete_namespace, DYN_NS)
        ns = c("read namespace", py.core.read_namespace, DYN_NS)
        assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp
        py.until(
            "namespace gone",
            lambda: DYN_NS not in [n.metadata.name for n in py.core.list_namespace().items],
        )
        # the learner's rights went with its namespace: the admin looks
        assert c("config maps left", py.admin_core.list_namespaced_config_map, DYN_NS).items == []
        assert c("pods left", py.admin_core.list_namespaced_pod, DYN_NS).items == []
        assert c("replica sets left", py.admin_apps.list_namespaced_replica_set, DYN_NS).items == []
