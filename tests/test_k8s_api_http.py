"""The sandbox's Kubernetes API at the HTTP level, as clients see it on the wire: discovery and
OpenAPI documents, authentication and the learner's permissions, bodies in JSON, YAML and
protobuf, field validation modes, Table answers, watches (streamed in chunks, resumed, expired,
the watch-list protocol), paging, dry runs, generateName, finalizers, delete options, the status
and scale subresources, defaults, and what the Python client's models require of every object."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from k8s_fixtures import kube  # noqa: F401

pytestmark = pytest.mark.timeout(300)

NS = "tx-http"
TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


class Api:
    """Raw requests to the sandbox's Kubernetes API with a context's bearer token."""

    def __init__(self, kube, context: str = "sandbox") -> None:
        cfg = yaml.safe_load(kube.kubeconfig.read_text())
        self.base = cfg["clusters"][0]["cluster"]["server"]
        user = next(c["context"]["user"] for c in cfg["contexts"] if c["name"] == context)
        self.token = next(u["user"]["token"] for u in cfg["users"] if u["name"] == user)
        self.ca = str(kube.state / "sandbox" / "pki" / "ca.crt")

    def __call__(self, method: str, path: str, body=None, *, ctype: str = "application/json", token=None, **kw):
        headers = {"Authorization": f"Bearer {self.token if token is None else token}", **kw.pop("headers", {})}
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
        if data is not None:
            headers["Content-Type"] = ctype
        return requests.request(method, self.base + path, data=data, headers=headers, verify=self.ca, timeout=30, **kw)


@pytest.fixture(scope="module")
def api(kube) -> Api:
    a = Api(kube)
    r = a("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    assert r.status_code == 201, r.text
    return a


@pytest.fixture(scope="module")
def admin(kube) -> Api:
    return Api(kube, "sandbox-admin")


def cm(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


def status_of(r: requests.Response, code: int) -> dict:
    assert r.status_code == code, (r.status_code, r.text)
    body = r.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["code"] == code, body
    return body


def test_discovery(api, kube):
    version = requests.get(api.base + "/version", verify=api.ca, timeout=10).json()  # no credentials needed
    assert version["gitVersion"] == "v1.35.2" and version["buildDate"]
    assert requests.get(api.base + "/healthz", verify=api.ca, timeout=10).text == "ok"
    body = status_of(requests.get(api.base + "/api", verify=api.ca, timeout=10), 401)
    assert body["reason"] == "Unauthorized" and body["message"] == "Unauthorized"
    status_of(api("GET", "/api", token="wrong"), 401)
    core = api("GET", "/api").json()
    assert core["kind"] == "APIVersions" and core["versions"] == ["v1"] and core["serverAddressByClientCIDRs"]
    groups = api("GET", "/apis").json()
    assert groups["kind"] == "APIGroupList"
    assert {g["name"] for g in groups["groups"]} == {
        "apps", "batch", "discovery.k8s.io", "events.k8s.io", "authorization.k8s.io", "authentication.k8s.io",
        "networking.k8s.io", "storage.k8s.io", "apiextensions.k8s.io", "policy", "autoscaling",
        "rbac.authorization.k8s.io", "metrics.k8s.io",
    }  # fmt: skip
    assert api("GET", "/apis/apps").json()["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    v1 = {r["name"]: r for r in api("GET", "/api/v1").json()["resources"]}
    assert v1["pods"]["shortNames"] == ["po"] and v1["pods"]["namespaced"] and v1["pods"]["singularName"] == "pod"
    assert v1["pods/log"]["kind"] == "Pod" and v1["pods/log"]["verbs"] == ["get"]
    assert v1["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert "deletecollection" not in v1["namespaces"]["verbs"] and v1["nodes"]["namespaced"] is False
    apps = {r["name"]: r for r in api("GET", "/apis/apps/v1").json()["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale" and apps["deployments/scale"]["group"] == "autoscaling"
    assert apps["deployments"]["categories"] == ["all"]
    for path in ("/apis/nope/v1", "/api/v2", "/api/v1/nothings", "/apis/apps/v1/namespaces/x/pods"):
        body = status_of(api("GET", path), 404)
        assert body["message"] == "the server could not find the requested resource"
    status_of(api("POST", "/api/v1", {}), 405)


def test_openapi(api):
    index = api("GET", "/openapi/v3").json()
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1"} <= set(index["paths"])
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    r = api("GET", url)
    assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
    doc = r.json()
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]
    assert "/apis/apps/v1/namespaces/{namespace}/deployments" in doc["paths"]
    status_of(api("GET", "/openapi/v3/apis/nope/v1"), 404)


def test_learner_permissions(api, admin):
    assert admin("POST", "/api/v1/namespaces", {"metadata": {"name": "tx-admins"}}).status_code == 201
    body = status_of(api("POST", "/api/v1/namespaces/tx-admins/configmaps", cm("x")), 403)
    assert body["message"] == (
        'configmaps is forbidden: User "learner" cannot create resource "configmaps" in API group "" '
        'in the namespace "tx-admins"'
    )
    body = status_of(api("GET", "/api/v1/namespaces/tx-admins/configmaps"), 403)  # nor read: not its namespace
    assert 'cannot list resource "configmaps"' in body["message"]
    body = status_of(api("GET", "/api/v1/namespaces/kube-system/secrets"), 403)
    assert 'cannot list resource "secrets"' in body["message"]
    body = status_of(api("DELETE", "/api/v1/namespaces/tx-admins"), 403)
    assert 'cannot delete resource "namespaces"' in body["message"]
    body = status_of(api("DELETE", "/api/v1/namespaces/kube-system"), 403)
    node = {"metadata": {"name": "tx-http-node"}}
    body = status_of(api("POST", "/api/v1/nodes", node), 403)
    assert body["message"] == (
        'nodes is forbidden: User "learner" cannot create resource "nodes" in API group "" at the cluster scope'
    )
    assert admin("POST", "/api/v1/nodes", node).status_code == 201
    body = status_of(
        api("PATCH", "/api/v1/nodes/tx-http-node/status", {"status": {}}, ctype="application/merge-patch+json"), 403
    )
    assert 'cannot patch resource "nodes/status"' in body["message"]
    body = status_of(admin("DELETE", "/api/v1/namespaces/default"), 403)
    assert body["message"] == 'namespaces "default" is forbidden: this namespace may not be deleted'
    assert api("GET", f"/api/v1/namespaces/{NS}").json()["metadata"]["annotations"] == {
        "sandbox.visualizing-compute/namespace-owner": "learner"
    }


def test_bodies_json_yaml_protobuf(api):
    from lab_helpers.sandbox.kubernetes.wire import protobuf

    base = f"/api/v1/namespaces/{NS}/configmaps"
    assert api("POST", base, yaml.safe_dump(cm("from-yaml")), ctype="application/yaml").status_code == 201
    assert api("POST", base, cm("no-type"), ctype="").status_code == 201  # a client that names no content type
    proto = protobuf.encode({**cm("from-proto"), "metadata": {"name": "from-proto", "namespace": NS}})
    r = api("POST", base, proto, ctype="application/vnd.kubernetes.protobuf")
    assert r.status_code == 201 and r.json()["data"] == {"k": "v"}, r.text
    assert "couldn't get version/kind; json parse error" in status_of(api("POST", base, "{nope"), 400)["message"]
    status_of(api("POST", base, "[1, 2]"), 400)
    body = status_of(api("POST", base, cm("x"), ctype="text/csv"), 415)
    assert body["message"].startswith("the body of the request was in an unknown format")
    body = status_of(api("POST", base, {**cm("x"), "kind": "Secret"}), 400)
    assert "does not match the expected kind" in body["message"]
    body = status_of(api("POST", base, {**cm("x"), "metadata": {"name": "x", "namespace": "other"}}), 400)
    assert body["message"] == "the namespace of the provided object does not match the namespace sent on the request"
    body = status_of(api("POST", "/api/v1/namespaces/nowhere/configmaps", cm("x")), 403)  # not the learner's
    assert body["reason"] == "Forbidden"


def test_field_validation(api):
    base = f"/api/v1/namespaces/{NS}/configmaps"
    extra = {**cm("strict"), "spec": {"foo": 1}}
    body = status_of(api("POST", base + "?fieldValidation=Strict", extra), 400)
    assert body["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"'
    )
    r = api("POST", base + "?fieldValidation=Warn", {**extra, "metadata": {"name": "warned"}})
    assert r.status_code == 201 and r.headers["Warning"] == '299 - "unknown field \\"spec\\""'
    assert "spec" not in r.json()  # dropped, as decoding drops it
    r = api("POST", base, {**extra, "metadata": {"name": "quiet"}, "data": {"a": "b"}})  # no parameter: Warn
    assert "Warning" in r.headers and r.status_code == 201
    r = api("POST", base + "?fieldValidation=Ignore", {**extra, "metadata": {"name": "ignored"}})
    assert r.status_code == 201 and "Warning" not in r.headers and "spec" not in r.json()
    status_of(api("POST", base + "?fieldValidation=Loose", cm("x")), 400)
    wrong = {**cm("typed"), "data": {"k": 3}}
    body = status_of(api("POST", base, wrong), 400)  # Go's structs fail to decode it, before any validation
    assert body["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct '
        "field ConfigMap.data of type string"
    )
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "Bad_Name"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "c"}}, "spec": {"containers": [{"name": "c"}]}},
        },
    }
    body = status_of(api("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", dep), 422)
    fields = {c["field"] for c in body["details"]["causes"]}
    assert {"metadata.name", "spec.template.metadata.labels", "spec.template.spec.containers[0].image"} <= fields
    assert body["message"].startswith('Deployment.apps "Bad_Name" is invalid: [')


def test_defaults(api):
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    got = api("POST", f"/api/v1/namespaces/{NS}/pods", pod).json()
    spec = got["spec"]
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["serviceAccountName"] == "default"
    assert spec["containers"][0]["imagePullPolicy"] == "Always"  # no tag: latest
    assert got["status"]["phase"] == "Pending" and got["status"]["qosClass"] == "BestEffort"
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
    }
    got = api("POST", f"/apis/batch/v1/namespaces/{NS}/jobs", job).json()
    uid = got["metadata"]["uid"]
    assert got["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert got["spec"]["template"]["metadata"]["labels"]["job-name"] == "j"
    assert got["spec"]["backoffLimit"] == 6 and got["spec"]["completions"] == 1
    svc = {"metadata": {"name": "s"}, "spec": {"type": "NodePort", "selector": {"app": "s"}, "ports": [{"port": 80}]}}
    got = api("POST", f"/api/v1/namespaces/{NS}/services", svc).json()
    port = got["spec"]["ports"][0]
    assert port["targetPort"] == 80 and port["protocol"] == "TCP" and 30000 <= port["nodePort"] <= 32767
    assert ipaddress.ip_address(got["spec"]["clusterIP"]) in ipaddress.ip_network("127.96.0.0/12") and got["spec"][
        "clusterIPs"
    ] == [got["spec"]["clusterIP"]]
    assert "loopback" in got["metadata"]["annotations"]["sandbox.visualizing-compute/simulated"]
    taken = {**svc, "metadata": {"name": "s2"}, "spec": {**svc["spec"], "clusterIP": got["spec"]["clusterIP"]}}
    body = status_of(api("POST", f"/api/v1/namespaces/{NS}/services", taken), 422)
    assert "provided IP is already allocated" in body["message"]
    outside = {**taken, "spec": {**svc["spec"], "clusterIP": "10.96.0.10"}}
    assert (
        "not in the valid range" in status_of(api("POST", f"/api/v1/namespaces/{NS}/services", outside), 422)["message"]
    )
    r = api("PATCH", f"/api/v1/namespaces/{NS}/services/s", {"spec": {"type": "ClusterIP"}},
            ctype="application/merge-patch+json")  # fmt: skip
    assert r.status_code == 200 and "nodePort" not in r.json()["spec"]["ports"][0], r.text  # dropped with the type
    ns = api("GET", f"/api/v1/namespaces/{NS}").json()
    put = api("PUT", f"/api/v1/namespaces/{NS}", {**ns, "spec": {}}).json()
    assert put["spec"] == {"finalizers": ["kubernetes"]}  # changed only through /finalize
    secret = {"metadata": {"name": "sec"}, "stringData": {"pw": "hi"}}
    got = api("POST", f"/api/v1/namespaces/{NS}/secrets", secret).json()
    assert (
        got["type"] == "Opaque" and got["data"] == {"pw": base64.b64encode(b"hi").decode()} and "stringData" not in got
    )


def test_tables(api):
    path = f"/api/v1/namespaces/{NS}/pods"
    table = api("GET", path, headers={"Accept": TABLE}).json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [c["priority"] for c in table["columnDefinitions"]][5:] == [1, 1, 1, 1]
    row = next(r for r in table["rows"] if r["cells"][0] == "p")
    assert (
        row["cells"][:2] == ["p", "0/1"]
        and row["cells"][2] in ("Pending", "ContainerCreating", "Running")
        and row["object"]["kind"] == "PartialObjectMetadata"
    )
    full = api("GET", path + "?includeObject=Object", headers={"Accept": TABLE}).json()
    assert {r["object"]["kind"] for r in full["rows"]} == {"Pod"}
    bare = api("GET", path + "/p?includeObject=None", headers={"Accept": TABLE}).json()
    assert "object" not in bare["rows"][0] and len(bare["rows"]) == 1
    beta = api("GET", path, headers={"Accept": "application/json;as=Table;v=v1beta1;g=meta.k8s.io"}).json()
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1"
    jobs = api("GET", f"/apis/batch/v1/namespaces/{NS}/jobs", headers={"Accept": TABLE}).json()
    assert [c["name"] for c in jobs["columnDefinitions"]][:5] == ["Name", "Status", "Completions", "Duration", "Age"]
    assert jobs["rows"][0]["cells"][0] == "j" and jobs["rows"][0]["cells"][1] in ("Running", "Complete", "Failed")
    meta = api("GET", path, headers={"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"})
    assert meta.json()["kind"] == "PartialObjectMetadataList"


def test_paging(api):
    base = f"/api/v1/namespaces/{NS}/configmaps"
    for i in range(5):
        api("POST", base, cm(f"page-{i}", page="yes"))
    seen, token, pages = [], "", 0
    while True:
        body = api("GET", base, params={"labelSelector": "page=yes", "limit": 2, "continue": token}).json()
        seen += [i["metadata"]["name"] for i in body["items"]]
        pages += 1
        token = body["metadata"].get("continue", "")
        if not token:
            break
        assert body["metadata"]["remainingItemCount"] == 5 - len(seen)
    assert seen == [f"page-{i}" for i in range(5)] and pages == 3
    body = status_of(api("GET", base, params={"continue": "garbage!"}), 400)
    assert "continue key is not valid" in body["message"]


def test_writes_dry_run_generate_name_finalizers(api):
    base = f"/api/v1/namespaces/{NS}/configmaps"
    r = api("POST", base + "?dryRun=All", cm("dry"))
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "dry"
    status_of(api("GET", base + "/dry"), 404)
    status_of(api("POST", base + "?dryRun=Some", cm("dry")), 400)
    made = api("POST", base, {"metadata": {"generateName": "gen-"}}).json()
    assert made["metadata"]["name"].startswith("gen-") and len(made["metadata"]["name"]) == 9
    held = api("POST", base, {**cm("held"), "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    assert held.status_code == 201
    gone = api("DELETE", base + "/held").json()
    assert gone["metadata"]["deletionTimestamp"] and gone["metadata"]["finalizers"] == ["example.com/hold"]
    assert api("GET", base + "/held").status_code == 200
    r = api("PATCH", base + "/held", {"metadata": {"finalizers": None}}, ctype="application/merge-patch+json")
    assert r.status_code == 200, r.text
    status_of(api("GET", base + "/held"), 404)
    rv = api("GET", base + "/page-0").json()["metadata"]["resourceVersion"]
    stale = api("PUT", base + "/page-0", {**cm("page-0"), "metadata": {"name": "page-0", "resourceVersion": "1"}})
    assert rv != "1"
    body = status_of(stale, 409)
    assert body["reason"] == "Conflict" and "the object has been modified" in body["message"]
    meta = {"name": "page-0", "labels": {"page": "yes"}, "resourceVersion": rv}
    fresh = api("PUT", base + "/page-0", {**cm("page-0"), "metadata": meta, "data": {"k": "w"}})
    assert fresh.status_code == 200 and fresh.json()["metadata"]["resourceVersion"] != rv
    same = api("PUT", base + "/page-0", fresh.json())
    assert same.json()["metadata"]["resourceVersion"] == fresh.json()["metadata"]["resourceVersion"]  # no change
    pre = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-the-uid"}}
    body = status_of(api("DELETE", base + "/page-0", pre), 409)
    assert body["message"].startswith('Operation cannot be fulfilled on configmaps "page-0": Precondition failed: uid')
    status_of(api("DELETE", base + "/page-0?propagationPolicy=Sideways"), 400)
    body = api("DELETE", base + "/page-0?dryRun=All").json()
    assert body["status"] == "Success" and api("GET", base + "/page-0").status_code == 200
    deleted = api("DELETE", base, params={"labelSelector": "page=yes"}).json()
    assert len(deleted["items"]) == 5 and api("GET", base, params={"labelSelector": "page"}).json()["items"] == []


def test_status_and_scale(api, admin):
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "scaled"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"a": "s"}},
            "template": {
                "metadata": {"labels": {"a": "s"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
        "status": {"replicas": 99},
    }
    base = f"/apis/apps/v1/namespaces/{NS}/deployments"
    made = api("POST", base, dep).json()
    assert made["status"].get("replicas") != 99  # status is not the client's to set on create
    unconditional = {k: v for k, v in made["metadata"].items() if k != "resourceVersion"}  # controllers write too
    put = api("PUT", base + "/scaled", {**made, "metadata": unconditional, "status": {"replicas": 99}}).json()
    assert put["status"].get("replicas") != 99
    body = {**put, "metadata": unconditional, "spec": {**put["spec"], "replicas": 7}, "status": {"replicas": 5}}
    st = admin("PUT", base + "/scaled/status", body)  # a namespace's admin may not write status: the controllers do
    assert st.status_code == 200 and st.json()["status"]["replicas"] == 5 and st.json()["spec"]["replicas"] == 2
    scale = api("GET", base + "/scaled/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1" and scale["spec"] == {"replicas": 2}
    assert scale["status"]["selector"] == "a=s" and isinstance(scale["status"]["replicas"], int)
    r = api("PATCH", base + "/scaled/scale", {"spec": {"replicas": 4}}, ctype="application/merge-patch+json")
    assert r.json()["spec"]["replicas"] == 4 and api("GET", base + "/scaled").json()["spec"]["replicas"] == 4
    stale = {**scale, "spec": {"replicas": 1}}
    status_of(api("PUT", base + "/scaled/scale", stale), 409)
    assert (
        status_of(
            api("PATCH", base + "/scaled/scale", {"spec": {"replicas": -1}}, ctype="application/merge-patch+json"), 422
        )["reason"]
        == "Invalid"
    )


def _watch_lines(api: Api, path: str, *, seconds: float = 3, want: int = 0) -> list[dict]:
    r = api("GET", path, stream=True)
    assert r.status_code == 200, r.text
    out = []
    deadline = time.monotonic() + seconds
    for line in r.iter_lines():
        if line:
            out.append(json.loads(line))
        if (want and len(out) >= want) or time.monotonic() > deadline:
            break
    r.close()
    return out


def test_watch_resume_selectors_and_watch_list(api):
    base = f"/api/v1/namespaces/{NS}/configmaps"
    listed = api("GET", base).json()
    rv = listed["metadata"]["resourceVersion"]
    api("POST", base, cm("w-1", team="a"))
    api("POST", base, cm("w-2", team="b"))
    events = _watch_lines(api, f"{base}?watch=1&resourceVersion={rv}&labelSelector=team%3Da&timeoutSeconds=2")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w-1")]
    names = {o["metadata"]["name"] for o in listed["items"]}
    events = _watch_lines(api, f"{base}?watch=true&timeoutSeconds=1")  # no resourceVersion: the state, then changes
    assert {e["object"]["metadata"]["name"] for e in events} == names | {"w-1", "w-2"}
    assert {e["type"] for e in events} == {"ADDED"}
    q = "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2"
    events = _watch_lines(api, f"{base}?{q}&labelSelector=team")
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    mark = events[-1]["object"]
    assert mark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"} and mark["kind"] == "ConfigMap"
    assert int(mark["metadata"]["resourceVersion"]) >= int(events[1]["object"]["metadata"]["resourceVersion"])
    status_of(api("GET", f"{base}?watch=1&sendInitialEvents=true"), 422)
    # an object that stops matching the selector is DELETED for this watch
    now_rv = api("GET", base).json()["metadata"]["resourceVersion"]
    patch = {"metadata": {"labels": {"team": "c"}}}
    api("PATCH", base + "/w-1", patch, ctype="application/merge-patch+json")
    events = _watch_lines(api, f"{base}?watch=1&resourceVersion={now_rv}&labelSelector=team%3Da&timeoutSeconds=2")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("DELETED", "w-1")]
    one = _watch_lines(api, f"{base}?watch=1&fieldSelector=metadata.name%3Dw-2&timeoutSeconds=1")
    assert [e["object"]["metadata"]["name"] for e in one] == ["w-2"]


def test_watch_expired_resource_version(api, kube):
    from lab_helpers.sandbox.store import Store

    base = f"/api/v1/namespaces/{NS}/configmaps"
    api("POST", base, cm("before-compaction"))
    rv = int(api("GET", base).json()["metadata"]["resourceVersion"])
    store = Store(kube.state / "sandbox")
    with store.tx():  # as if the journal had been compacted past it
        store.execute("DELETE FROM k8s_journal WHERE rv <= ?", (rv,))
    store.close()
    api("POST", base, cm("after-compaction"))
    events = _watch_lines(api, f"{base}?watch=1&resourceVersion=2&timeoutSeconds=2")
    assert len(events) == 1 and events[0]["type"] == "ERROR", events
    body = events[0]["object"]
    assert body["kind"] == "Status" and body["code"] == 410 and body["reason"] == "Expired"
    assert body["message"].startswith("too old resource version: 2")


def test_watch_streams_in_chunks(api):
    """The headers go out at once and each event as its own chunk, while the stream stays open."""
    url = urlsplit(api.base)
    context = ssl.create_default_context(cafile=api.ca)
    raw = socket.create_connection((url.hostname, url.port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname=url.hostname)
    path = f"/api/v1/namespaces/{NS}/configmaps?watch=1&timeoutSeconds=3&fieldSelector=metadata.name%3Dnone"
    request = f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {api.token}\r\n\r\n"
    t0 = time.monotonic()
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    first = time.monotonic() - t0
    assert first < 1.5, f"headers after {first:.2f} s: buffered"
    assert b"transfer-encoding: chunked" in head.lower()
    api("POST", f"/api/v1/namespaces/{NS}/configmaps", cm("none"))
    data = head.split(b"\r\n\r\n", 1)[1]
    while b"ADDED" not in data:
        data += sock.recv(4096)
    got_event = time.monotonic() - t0
    assert got_event < 2.5, f"event after {got_event:.2f} s"
    while not data.endswith(b"0\r\n\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    ended = time.monotonic() - t0
    sock.close()
    assert 2.5 < ended < 6, f"the watch ended after {ended:.2f} s, asked for 3"


def test_namespace_existence_and_termination(api, admin):
    body = status_of(admin("POST", "/api/v1/namespaces/nowhere/configmaps", cm("x")), 404)
    assert body["message"] == 'namespaces "nowhere" not found'
    api("POST", "/api/v1/namespaces", {"metadata": {"name": "tx-ending"}})
    hold = {**cm("hold"), "metadata": {"name": "hold", "finalizers": ["example.com/hold"]}}
    api("POST", "/api/v1/namespaces/tx-ending/configmaps", hold)
    gone = api("DELETE", "/api/v1/namespaces/tx-ending").json()
    assert gone["status"]["phase"] == "Terminating" and gone["metadata"]["deletionTimestamp"]
    # (the learner's RoleBindings there went with the namespace's content: the admin tries)
    body = status_of(admin("POST", "/api/v1/namespaces/tx-ending/configmaps", cm("late")), 403)
    assert body["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace tx-ending because it is being '
        "terminated"
    )
    admin(
        "PATCH",
        "/api/v1/namespaces/tx-ending/configmaps/hold",
        {"metadata": {"finalizers": None}},
        ctype="application/merge-patch+json",
    )


def test_every_object_validates_and_deserialises(kube, admin):
    """Every object the API holds passes the bundled schemas (with required fields) and the Python
    client's models (which raise ValueError on a missing required field)."""
    from kubernetes import client

    from lab_helpers.sandbox.kubernetes.resources import RESOURCES
    from lab_helpers.sandbox.kubernetes.wire import schemas

    checked = 0
    for res in RESOURCES:
        listed = admin("GET", res.base_path()).json()
        assert listed["kind"] == f"{res.kind}List" and listed["apiVersion"] == res.api_version
        for obj in listed["items"]:
            causes, _ = schemas.validate(obj, unknown="Strict")
            assert causes == [], (res.kind, obj["metadata"]["name"], causes)
            checked += 1
    assert checked > 20
    api_client = kube.api_client("sandbox-admin")
    core, apps, batch = client.CoreV1Api(api_client), client.AppsV1Api(api_client), client.BatchV1Api(api_client)
    for call in (
        core.list_namespace,
        core.list_node,
        core.list_pod_for_all_namespaces,
        core.list_service_for_all_namespaces,
        core.list_config_map_for_all_namespaces,
        core.list_secret_for_all_namespaces,
        core.list_service_account_for_all_namespaces,
        core.list_event_for_all_namespaces,
        core.list_endpoints_for_all_namespaces,
        apps.list_deployment_for_all_namespaces,
        apps.list_replica_set_for_all_namespaces,
        batch.list_job_for_all_namespaces,
    ):
        call()
    client.VersionApi(api_client).get_code()
    client.CoreApi(api_client).get_api_versions()
    client.ApisApi(api_client).get_api_versions()
    client.AppsV1Api(api_client).get_api_resources()
