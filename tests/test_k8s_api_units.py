"""The Kubernetes API server's pieces in-process, without a service: selectors, the ages and
statuses ``kubectl get`` shows, path parsing, defaults, and the watch stream's bookmarks, timeout
and stop."""

from __future__ import annotations

import ipaddress
import json
import threading
import time

import pytest

from lab_helpers.sandbox.errors import ApiError
from lab_helpers.sandbox.kubernetes.apiserver import defaults, paths, selectors, tables, watch
from lab_helpers.sandbox.kubernetes.objects import Objects
from lab_helpers.sandbox.kubernetes.resources import by_plural
from lab_helpers.sandbox.store import Store

PODS = by_plural("pods")
CONFIGMAPS = by_plural("configmaps")


def labelled(**labels: str) -> dict:
    return {"metadata": {"name": "x", "labels": labels}}


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app in (web, db)", {"app": "db"}, True),
        ("app notin (web,db)", {"app": "db"}, False),
        ("app notin (web,db)", {}, True),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("app in (a,b),tier,!gpu", {"app": "a", "tier": "1"}, True),
        ("example.com/role=x", {"example.com/role": "x"}, True),
    ],
)
def test_label_selectors(selector, labels, matches):
    assert selectors.label_selector(selector)(labelled(**labels)) is matches


@pytest.mark.parametrize("bad", ["app in (", "a b", "app in ()", "=x", "a=b=c", "-bad=1"])
def test_label_selector_errors_are_400(bad):
    with pytest.raises(ApiError) as err:
        selectors.label_selector(bad)
    assert err.value.response.status_code == 400
    assert json.loads(err.value.response.get_data())["reason"] == "BadRequest"


def test_field_selectors():
    pod = {"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "n1", "hostNetwork": False},
           "status": {"phase": "Running"}}  # fmt: skip
    match = selectors.field_selector(PODS, "spec.nodeName=n1,status.phase!=Pending,metadata.namespace==n")
    assert match(pod) and not selectors.field_selector(PODS, "spec.nodeName=")(pod)
    assert selectors.field_selector(PODS, "spec.hostNetwork=false")(pod)
    with pytest.raises(ApiError) as err:
        selectors.field_selector(CONFIGMAPS, "spec.nodeName=n1")
    assert json.loads(err.value.response.get_data())["message"] == "field label not supported: spec.nodeName"
    event = {"involvedObject": {"name": "p", "kind": "Pod"}, "source": {"component": "kubelet"}, "type": "Warning"}
    assert selectors.field_selector(by_plural("events"), "involvedObject.name=p,source=kubelet,type=Warning")(event)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(-5, "<invalid>"), (0, "0s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600 + 5, "3h"),
     (5 * 3600 + 600, "5h10m"), (30 * 3600, "30h"), (3 * 86400 + 7200, "3d2h"), (40 * 86400, "40d"),
     (800 * 86400, "2y70d")],
)  # fmt: skip
def test_ages_as_kubectl_shows_them(seconds, shown):
    assert tables.human_duration(seconds) == shown


def _pod(statuses: list[dict], **extra) -> dict:
    containers = [{"name": s["name"], "image": "busybox"} for s in statuses]
    return {"metadata": {"name": "p", **extra.pop("meta", {})}, "spec": {"containers": containers},
            "status": {"phase": extra.pop("phase", "Running"), "containerStatuses": statuses, **extra}}  # fmt: skip


def test_pod_status_column():
    running = {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}}
    crash = {
        "name": "b",
        "ready": False,
        "restartCount": 3,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2020-01-01T00:00:00Z"}},
    }
    assert tables.pod_status_text(_pod([running]))[:4] == ("Running", 1, 1, 0)
    reason, ready, total, restarts, last = tables.pod_status_text(_pod([running, crash]))
    assert (reason, ready, total, restarts) == ("CrashLoopBackOff", 1, 2, 3) and last
    assert tables.cells(PODS, _pod([running, crash]))[3].startswith("3 (") and tables.cells(PODS, _pod([crash]))[
        3
    ].endswith(" ago)")
    done = {
        "name": "a",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    assert tables.pod_status_text(_pod([done], phase="Succeeded"))[0] == "Completed"
    killed = {"name": "a", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 137, "signal": 9}}}
    assert tables.pod_status_text(_pod([killed]))[0] == "Signal:9"
    deleting = _pod([running], meta={"deletionTimestamp": "2020-01-01T00:00:00Z"})
    assert tables.pod_status_text(deleting)[0] == "Terminating"
    init = _pod([], phase="Pending", initContainerStatuses=[{"name": "i", "restartCount": 0, "state": {"running": {}}}])
    init["spec"]["initContainers"] = [{"name": "i", "image": "busybox"}]
    assert tables.pod_status_text(init)[0] == "Init:0/1"


def test_paths():
    t = paths.parse("", "v1", ["namespaces", "web", "pods", "api-1", "log"])
    assert (t.res.plural, t.namespace, t.name, t.sub) == ("pods", "web", "api-1", "log")
    t = paths.parse("", "v1", ["namespaces", "web", "status"])
    assert (t.res.plural, t.name, t.sub) == ("namespaces", "web", "status")
    t = paths.parse("", "v1", ["namespaces", "web", "services", "web:80", "proxy", "a", "b"])
    assert (t.name, t.sub, t.rest) == ("web:80", "proxy", "a/b")
    assert paths.parse("", "v1", ["watch", "namespaces", "w", "pods"]).watch
    assert paths.parse("apps", "v1", ["deployments"]).collection
    for bad in (["pods", "x"], ["namespaces", "w", "pods", "x", "nosuch"], ["nothings"], ["pods", "x", "log", "y"]):
        with pytest.raises(ApiError):
            paths.parse("", "v1", bad)


def test_pull_policy_and_cluster_ips(tmp_path):
    assert defaults.pull_policy("busybox") == "Always"
    assert defaults.pull_policy("nginx:latest") == "Always"
    assert defaults.pull_policy("registry:5000/app:1.2") == "IfNotPresent"
    assert defaults.pull_policy("app@sha256:abc") == "IfNotPresent"
    objects = Objects(Store(tmp_path))
    block = defaults.service_range(objects)
    assert block.prefixlen == 20 and block.subnet_of(ipaddress.ip_network("127.96.0.0/12"))
    assert defaults.service_range(objects) == block  # drawn once, kept
    assert defaults.kubernetes_service_ip(objects) == str(block[1])
    first = defaults.allocate_cluster_ip(objects)
    assert first == str(block[2])
    svc = {"metadata": {"name": "s", "namespace": "default"}, "spec": {"clusterIP": first, "ports": [{"port": 80}]}}
    objects.create(by_plural("services"), svc)
    assert defaults.allocate_cluster_ip(objects) == str(block[3])


@pytest.fixture()
def objects(tmp_path) -> Objects:
    return Objects(Store(tmp_path))


def _events(chunks) -> list[dict]:
    return [json.loads(line) for chunk in chunks for line in chunk.splitlines() if line]


def test_watch_bookmarks_timeout_and_stop(objects, monkeypatch):
    monkeypatch.setattr(watch, "BOOKMARK_S", 0.2)
    monkeypatch.setattr(watch, "POLL_S", 0.05)
    objects.create(CONFIGMAPS, {"metadata": {"name": "a", "namespace": "n"}})
    req = watch.WatchRequest(CONFIGMAPS, "n", lambda o: True, timeout=0.7, bookmarks=True)
    t0 = time.monotonic()
    chunks = list(watch.stream(objects, req, threading.Event()))
    assert chunks[0] == b""  # the headers go out before anything happens
    took = time.monotonic() - t0
    events = _events(chunks)
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "a"
    marks = [e for e in events if e["type"] == "BOOKMARK"]
    assert len(marks) >= 2 and 0.6 < took < 2.0
    assert marks[-1]["object"]["metadata"]["resourceVersion"] == str(objects.current_rv())
    stop = threading.Event()
    endless = watch.WatchRequest(CONFIGMAPS, "n", lambda o: True, timeout=600)
    got: list[bytes] = []
    runner = threading.Thread(target=lambda: got.extend(watch.stream(objects, endless, stop)))
    runner.start()
    time.sleep(0.2)
    objects.create(CONFIGMAPS, {"metadata": {"name": "b", "namespace": "n"}})
    time.sleep(0.3)
    stop.set()
    runner.join(timeout=3)
    assert not runner.is_alive(), "a watch outlived the service"
    assert [e["object"]["metadata"]["name"] for e in _events(got)] == ["a", "b"]


def test_watch_list_then_changes(objects):
    objects.create(CONFIGMAPS, {"metadata": {"name": "a", "namespace": "n", "labels": {"x": "1"}}})
    req = watch.WatchRequest(
        CONFIGMAPS, "n", selectors.label_selector("x=1"), timeout=0.5, bookmarks=True, send_initial=True
    )
    stream = watch.stream(objects, req, threading.Event())
    head = [next(stream), next(stream), next(stream)]
    objects.create(CONFIGMAPS, {"metadata": {"name": "b", "namespace": "n", "labels": {"x": "1"}}})
    objects.create(CONFIGMAPS, {"metadata": {"name": "c", "namespace": "n", "labels": {"x": "2"}}})
    events = _events(head + list(stream))
    shown = [(e["type"], e["object"]["metadata"].get("name")) for e in events]
    assert shown[:3] == [("ADDED", "a"), ("BOOKMARK", None), ("ADDED", "b")]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert ("ADDED", "c") not in shown
