"""Custom resources: CustomResourceDefinitions served as the API server serves them.

The real kubectl runs ``k8s_transcripts/crds.txt`` (define, explain, columns, patch, scale, 422s,
removal); Helm 4 installs a chart with a ``crds/`` folder and a custom resource; the Python client's
CustomObjectsApi creates, lists, patches the status of and watches custom resources; ownerReferences
and namespace deletion reach custom resources; the registry is right after a restart. Unit tests
cover the schema walk (validation, pruning, defaults), the CRD rules and printer columns' JSONPath.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from k8s_fixtures import Transcript, kube, load_transcript  # noqa: F401

from lab_helpers.sandbox.kubernetes.apiserver.jsonpath import evaluate
from lab_helpers.sandbox.kubernetes.wire import crdschema

pytestmark = pytest.mark.timeout(300)

FIXTURES = Path(__file__).parent / "k8s_crds"
SECTIONS = load_transcript("crds.txt")


def _schema() -> dict:
    import yaml

    crd = yaml.safe_load((FIXTURES / "widget-crd.yaml").read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _crd(**changes) -> dict:
    import yaml

    crd = yaml.safe_load((FIXTURES / "application-crd.yaml").read_text())
    for path, value in changes.items():
        cur = crd
        *steps, last = path.split("__")
        for step in steps:
            cur = cur[int(step)] if isinstance(cur, list) else cur[step]
        cur[last] = value
    return crd


# -- the schema walk -------------------------------------------------------------------------------


def test_valid_widget_is_defaulted_and_kept():
    obj = {"apiVersion": "example.course.dev/v1", "kind": "Widget", "metadata": {"name": "w"},
           "spec": {"size": "small", "port": 8080, "labels": {"a": "b"}, "extra": {"any": {"thing": [1]}}}}  # fmt: skip
    out, unknown, causes = crdschema.check_custom(obj, _schema(), "Strict")
    assert causes == [] and unknown == []
    assert out["spec"]["replicas"] == 1  # the default
    assert out["spec"]["extra"] == {"any": {"thing": [1]}}  # x-kubernetes-preserve-unknown-fields
    assert out["metadata"] == {"name": "w"}


def test_unknown_fields_are_pruned_and_named():
    obj = {"apiVersion": "v", "kind": "Widget", "metadata": {"name": "w"}, "top": 1,
           "spec": {"size": "large", "foo": {"bar": 1}}, "status": {"conditions": [{"type": "A", "why": "x"}]}}  # fmt: skip
    out, unknown, causes = crdschema.check_custom(obj, _schema(), "Warn")
    assert causes == []
    assert sorted(unknown) == ["spec.foo", "status.conditions[0].why", "top"]
    assert "top" not in out and "foo" not in out["spec"] and out["status"]["conditions"] == [{"type": "A"}]


def test_each_rule_is_a_cause_with_its_path_and_wording():
    obj = {"apiVersion": "v", "kind": "Widget", "metadata": {"name": "w"},
           "spec": {"replicas": -1, "size": "huge", "color": "red", "port": 1.5, "labels": {"k": "123456789"}}}  # fmt: skip
    _, _, causes = crdschema.check_custom(obj, _schema(), "Strict")
    messages = {c["field"]: c["message"] for c in causes}
    assert messages == {
        "spec.replicas": "Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
        "spec.size": 'Unsupported value: "huge": supported values: "small", "medium", "large"',
        "spec.color": "Invalid value: \"red\": spec.color in body should match '^#[0-9a-f]{6}$'",
        "spec.port": 'Invalid value: "number": spec.port in body must be of type integer,string: "number"',
        "spec.labels[k]": "Too long: may not be more than 8 bytes",
    }
    reasons = {c["field"]: c["reason"] for c in causes}
    assert reasons["spec.size"] == "FieldValueNotSupported" and reasons["spec.replicas"] == "FieldValueInvalid"


def test_required_types_and_nullable():
    schema = {"type": "object", "properties": {"spec": {"type": "object", "required": ["a"], "properties": {
        "a": {"type": "integer"}, "n": {"type": "string", "nullable": True}, "s": {"type": "string"},
        "items": {"type": "array", "minItems": 2, "items": {"type": "string"}}}}}}  # fmt: skip
    obj = {"spec": {"n": None, "s": None, "items": ["x", 3]}}
    out, _, causes = crdschema.check_custom(obj, schema, "Strict")
    assert out["spec"] == {"n": None, "items": ["x", 3]}  # a null where none is allowed is dropped
    assert {c["field"]: c["message"] for c in causes} == {
        "spec.a": "Required value",
        "spec.items[1]": 'Invalid value: "integer": spec.items[1] in body must be of type string: "integer"',
    }
    assert causes[0]["reason"] == "FieldValueRequired" and causes[1]["reason"] == "FieldValueTypeInvalid"


def test_min_items_counts_the_items():
    schema = {"type": "object", "properties": {"l": {"type": "array", "minItems": 2, "items": {"type": "string"}}}}
    _, _, causes = crdschema.check_custom({"l": ["only"]}, schema, "Strict")
    assert causes == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 1: l in body should have at least 2 items",
            "field": "l",
        }
    ]


def test_definition_rules():
    assert crdschema.check_definition(_crd()) == []
    bad = _crd(spec__group="nodot", metadata__name="applications.nodot")
    assert [c["message"] for c in crdschema.check_definition(bad)] == [
        'Invalid value: "nodot": should be a domain with at least one dot'
    ]
    wrong = crdschema.check_definition(_crd(metadata__name="apps.argoproj.io"))
    assert wrong[0]["field"] == "metadata.name" and "must be spec.names.plural" in wrong[0]["message"]
    two = _crd()
    two["spec"]["versions"].append({**two["spec"]["versions"][0], "name": "v1beta1"})
    assert "exactly one version marked as storage" in crdschema.check_definition(two)[0]["message"]
    loose = _crd()
    loose["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].pop("type")
    assert [c["field"] for c in crdschema.check_definition(loose)] == [
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"
    ]
    names = crdschema.check_definition(_crd(spec__names__listKind="Application", spec__names__shortNames=["Bad_1"]))
    assert {c["field"] for c in names} == {"spec.names.listKind", "spec.names.shortNames[0]"}


def test_printer_column_jsonpath():
    obj = {"status": {"conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]},
           "metadata": {"labels": {"app.kubernetes.io/name": "web"}}, "spec": {"l": [1, 2]}}  # fmt: skip
    assert evaluate(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert evaluate(obj, ".metadata.labels['app\\.kubernetes\\.io/name']") == ["web"]
    assert evaluate(obj, ".spec.l[*]") == [1, 2] and evaluate(obj, ".spec.l[1]") == [2]
    assert evaluate(obj, ".spec.missing.deeper") == []


def test_registry_follows_the_stored_crds(tmp_path):
    """The registry serves a CRD once it is Established, forgets it when it goes, and a fresh one (a
    restarted sandbox) finds it again in the store; built-in lookups never read the CRDs."""
    import yaml

    from lab_helpers.sandbox.kubernetes import crds
    from lab_helpers.sandbox.kubernetes.objects import Objects
    from lab_helpers.sandbox.kubernetes.resources import resource_for, resource_of_kind
    from lab_helpers.sandbox.store import Store

    objects = Objects(Store(tmp_path))
    crd = yaml.safe_load((FIXTURES / "application-crd.yaml").read_text())
    stored = objects.create(crds.CRDS, crd)
    assert resource_for("argoproj.io", "v1alpha1", "applications", objects) is None  # not Established yet
    stored["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
    objects.update(crds.CRDS, stored)
    res = resource_for("argoproj.io", "v1alpha1", "applications", objects)
    assert res is not None and res.kind == "Application" and res.short_names == ("app", "apps")
    assert res.subresources == ("status",) and res.singular == "application" and res.categories == ("argoproj",)
    assert resource_of_kind("argoproj.io/v1alpha1", "Application", objects) == res
    again = crds.Registry(objects)  # what a restarted service builds from the store
    assert [r.key for r in again.resources()] == ["k8s:argoproj.io/applications"]
    generation = again.fingerprint()
    objects.delete(crds.CRDS, "", "applications.argoproj.io")
    assert again.resources() == () and again.fingerprint() != generation
    assert resource_for("argoproj.io", "v1alpha1", "applications", objects) is None
    assert resource_for("", "v1", "pods", objects) is not None


def test_generation_of_custom_resources(tmp_path):
    """A custom resource starts at generation 1 even without a spec; with a status subresource only
    the rest of the object bumps it, without one a status change does too (as the API server counts)."""
    import yaml

    from lab_helpers.sandbox.kubernetes import crds
    from lab_helpers.sandbox.kubernetes.objects import Objects
    from lab_helpers.sandbox.kubernetes.resources import resource_for
    from lab_helpers.sandbox.store import Store

    objects = Objects(Store(tmp_path))
    for with_status in (True, False):
        crd = yaml.safe_load((FIXTURES / "application-crd.yaml").read_text())
        group = "argoproj.io" if with_status else "plain.example.dev"
        crd["metadata"]["name"] = f"applications.{group}"
        crd["spec"]["group"] = group
        if not with_status:
            for version in crd["spec"]["versions"]:
                version.pop("subresources", None)
        stored = objects.create(crds.CRDS, crd)
        stored["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
        objects.update(crds.CRDS, stored)
        res = resource_for(group, "v1alpha1", "applications", objects)
        assert res is not None and ("status" in res.subresources) == with_status
        app = objects.create(res, {"apiVersion": f"{group}/v1alpha1", "kind": "Application",
                                   "metadata": {"name": "a", "namespace": "default"}})  # fmt: skip
        assert app["metadata"]["generation"] == 1
        app["status"] = {"sync": {"status": "Synced"}}
        app = objects.update(res, app)
        assert app["metadata"]["generation"] == (1 if with_status else 2)
        app["spec"] = {"project": "default"}
        assert objects.update(res, app)["metadata"]["generation"] == (2 if with_status else 3)


def test_the_controllers_cache_follows_custom_resources(tmp_path):
    """The controllers' shared cache lists and reports custom resources (what a GitOps controller would
    watch), from the moment their CRD is Established, through a relist, to their deletion."""
    import yaml

    from lab_helpers.sandbox.kubernetes import crds
    from lab_helpers.sandbox.kubernetes.controllers.loop import Cache
    from lab_helpers.sandbox.kubernetes.objects import Objects
    from lab_helpers.sandbox.kubernetes.resources import resource_for
    from lab_helpers.sandbox.store import Store

    objects = Objects(Store(tmp_path))
    cache = Cache(objects)
    heard: list[tuple[str, str, str]] = []
    cache.listen(lambda change: heard.append((change.type, change.res.kind, change.obj["metadata"]["name"])))
    cache.sync()
    crd = yaml.safe_load((FIXTURES / "application-crd.yaml").read_text())
    crd["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
    objects.create(crds.CRDS, crd)
    apps = resource_for("argoproj.io", "v1alpha1", "applications", objects)
    assert apps is not None
    app = yaml.safe_load((FIXTURES / "application.yaml").read_text())
    app["metadata"]["namespace"] = "default"
    made = objects.create(apps, app)
    cache.sync()
    assert [o["metadata"]["name"] for o in cache.list(apps)] == ["guestbook"]
    assert ("ADDED", "Application", "guestbook") in heard
    assert cache.by_uid(made["metadata"]["uid"])[0].key == apps.key
    cache.load()  # a relist (after a 410) keeps following the kind
    assert [o["metadata"]["name"] for o in cache.list(apps, "default")] == ["guestbook"]
    objects.delete(apps, "default", "guestbook")
    objects.delete(crds.CRDS, "", "applications.argoproj.io")
    cache.sync()
    assert cache.list(apps) == [] and heard[-1] == ("DELETED", "CustomResourceDefinition", "applications.argoproj.io")
    assert ("DELETED", "Application", "guestbook") in heard


# -- the real clients --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def transcript(kube, tmp_path_factory) -> Transcript:
    env = {**kube.env, "CRDS": str(FIXTURES)}
    return Transcript(env, tmp_path_factory.mktemp("crds-transcript"))


@pytest.mark.parametrize("section", list(SECTIONS))
def test_kubectl(transcript, section):
    transcript.run(section, SECTIONS[section])


def _wait(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_helm_chart_with_crds_folder(kube, tmp_path):
    chart = tmp_path / "chart"
    (chart / "crds").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: gitops-app\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("repoURL: http://127.0.0.1:3000/learner/guestbook.git\n")
    (chart / "crds" / "application.yaml").write_text((FIXTURES / "application-crd.yaml").read_text())
    (chart / "templates" / "app.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  source:\n    repoURL: {{ .Values.repoURL }}\n    path: k8s\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: {{ .Release.Namespace }}\n"
    )
    kube.kubectl("--context", "sandbox-admin", "create", "namespace", "helm-apps")
    kube.helm(
        "--kube-context", "sandbox-admin", "install", "gb", str(chart), "-n", "helm-apps", "--wait", "--timeout", "60s"
    )
    shown = "jsonpath={.spec.source.repoURL} {.spec.project}"
    got = kube.kubectl("--context", "sandbox-admin", "get", "app", "gb", "-n", "helm-apps", "-o", shown)
    assert got.stdout == "http://127.0.0.1:3000/learner/guestbook.git default"
    kube.helm("--kube-context", "sandbox-admin", "upgrade", "gb", str(chart), "-n", "helm-apps",
              "--set", "repoURL=http://127.0.0.1:3000/learner/other.git", "--wait")  # fmt: skip
    got = kube.kubectl(
        "--context", "sandbox-admin", "get", "app", "gb", "-n", "helm-apps", "-o", "jsonpath={.spec.source.repoURL}"
    )
    assert got.stdout == "http://127.0.0.1:3000/learner/other.git"
    kube.helm("--kube-context", "sandbox-admin", "uninstall", "gb", "-n", "helm-apps", "--wait")
    left = kube.kubectl("--context", "sandbox-admin", "get", "app", "-n", "helm-apps", "-o", "name")
    assert left.stdout.strip() == ""
    # helm leaves the CRD (crds/ is install-only), as it does on a real cluster
    assert kube.kubectl("get", "crd", "applications.argoproj.io", "-o", "name").stdout.strip()


@pytest.fixture(scope="module")
def applications(kube):
    """The Application CRD, and the aggregated role that lets namespace admins (the learner) use it."""
    for name in ("application-crd.yaml", "application-rbac.yaml"):
        kube.kubectl("--context", "sandbox-admin", "apply", "-f", str(FIXTURES / name))
    kube.kubectl("wait", "--for=condition=Established", "crd/applications.argoproj.io", "--timeout=20s")


def test_python_custom_objects_api(kube, applications):
    from kubernetes import client, watch

    api = client.CustomObjectsApi(kube.api_client("sandbox"))
    args = ("argoproj.io", "v1alpha1", "default", "applications")
    seen: list[tuple[str, str]] = []
    ready = threading.Event()

    def follow():
        w = watch.Watch()
        ready.set()
        for event in w.stream(api.list_namespaced_custom_object, *args, timeout_seconds=10):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                break

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.3)
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "py-app"},
            "spec": {"source": {"repoURL": "http://127.0.0.1:3000/learner/py.git"}, "destination": {"namespace": "py"}}}  # fmt: skip
    made = api.create_namespaced_custom_object(*args, body)
    assert made["spec"]["source"]["targetRevision"] == "HEAD" and made["metadata"]["generation"] == 1
    listed = api.list_namespaced_custom_object(*args, label_selector="")
    assert listed["kind"] == "ApplicationList" and [i["metadata"]["name"] for i in listed["items"]] == ["py-app"]
    status = {"status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Progressing"}}}
    patched = api.patch_namespaced_custom_object_status(*args, "py-app", status)
    assert patched["status"]["sync"]["status"] == "OutOfSync" and patched["metadata"]["generation"] == 1
    moved = api.patch_namespaced_custom_object(*args, "py-app", {"spec": {"source": {"path": "k8s"}}})
    assert moved["metadata"]["generation"] == 2 and moved["status"]["health"]["status"] == "Progressing"
    with pytest.raises(client.ApiException) as bad:
        api.patch_namespaced_custom_object_status(*args, "py-app", {"status": {"sync": {"status": "Bogus"}}})
    cause = json.loads(bad.value.body)["details"]["causes"][0]
    assert bad.value.status == 422 and cause["field"] == "status.sync.status"
    assert cause["message"].startswith('Unsupported value: "Bogus"')
    from kubernetes import dynamic

    apps = dynamic.DynamicClient(kube.api_client("sandbox")).resources.get(
        api_version="argoproj.io/v1alpha1", kind="Application"
    )  # the dynamic client finds the kind by discovery
    assert apps.short_names == ["app", "apps"] and [i.metadata.name for i in apps.get(namespace="default").items] == [
        "py-app"
    ]
    api.delete_namespaced_custom_object(*args, "py-app")
    thread.join(12)
    assert seen[0] == ("ADDED", "py-app") and ("DELETED", "py-app") in seen
    assert ("MODIFIED", "py-app") in seen


def test_owner_references_and_namespace_deletion(kube, applications):
    from kubernetes import client

    api_client = kube.api_client("sandbox")
    custom, core = client.CustomObjectsApi(api_client), client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": "gc-apps"}})
    args = ("argoproj.io", "v1alpha1", "gc-apps", "applications")
    spec = {"source": {"repoURL": "http://127.0.0.1:3000/a.git"}, "destination": {"namespace": "a"}}
    owner = custom.create_namespaced_custom_object(*args, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                                          "metadata": {"name": "owner"}, "spec": spec})  # fmt: skip
    ref = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "name": "owner",
           "uid": owner["metadata"]["uid"], "controller": True}  # fmt: skip
    core.create_namespaced_config_map("gc-apps", {"metadata": {"name": "owned", "ownerReferences": [ref]}})
    custom.create_namespaced_custom_object(*args, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                                   "metadata": {"name": "child", "ownerReferences": [ref]}, "spec": spec})  # fmt: skip
    custom.create_namespaced_custom_object(*args, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                                   "metadata": {"name": "stays"}, "spec": spec})  # fmt: skip
    custom.delete_namespaced_custom_object(*args, "owner")

    def collected():
        names = [i["metadata"]["name"] for i in custom.list_namespaced_custom_object(*args)["items"]]
        maps = [c.metadata.name for c in core.list_namespaced_config_map("gc-apps").items]
        return names == ["stays"] and "owned" not in maps

    assert _wait(collected), "the garbage collector left a custom resource's dependents"
    core.delete_namespace("gc-apps")

    def gone():
        try:
            core.read_namespace("gc-apps")
        except client.ApiException as exc:
            return exc.status == 404
        return False

    assert _wait(gone), "the namespace with a custom resource in it did not go"
    assert _wait(lambda: _recreated(core, "gc-apps")), "the namespace could not be made again"
    assert custom.list_namespaced_custom_object(*args)["items"] == []  # nothing of the old one is left


def _recreated(core, name: str) -> bool:
    from kubernetes import client

    try:
        core.create_namespace({"metadata": {"name": name}})
    except client.ApiException:
        return False
    return True


def test_discovery_and_openapi_follow_the_crds(kube):
    from kubernetes import client

    admin = kube.api_client("sandbox-admin")
    kube.kubectl("--context", "sandbox-admin", "apply", "-f", str(FIXTURES / "widget-crd.yaml"))
    kube.kubectl("wait", "--for=condition=Established", "crd/widgets.example.course.dev", "--timeout=20s")

    def raw(path: str):
        done = kube.kubectl("--context", "sandbox-admin", "get", "--raw", path, check=False)
        return json.loads(done.stdout) if done.returncode == 0 else done.stderr

    groups = [g["name"] for g in raw("/apis")["groups"]]
    assert "example.course.dev" in groups
    listed = raw("/apis/example.course.dev/v1")["resources"]
    assert {r["name"] for r in listed} == {"widgets", "widgets/status", "widgets/scale"}
    widget = next(r for r in listed if r["name"] == "widgets")
    assert widget["shortNames"] == ["wd"] and widget["namespaced"] is False and "watch" in widget["verbs"]
    index = raw("/openapi/v3")["paths"]
    before = index["apis/example.course.dev/v1"]["serverRelativeURL"]
    doc = raw("/openapi/v3/apis/example.course.dev/v1")
    schema = doc["components"]["schemas"]["dev.course.example.v1.Widget"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "example.course.dev", "kind": "Widget", "version": "v1"}
    ]
    assert "/apis/example.course.dev/v1/widgets/{name}/scale" in doc["paths"]
    kube.kubectl("--context", "sandbox-admin", "patch", "crd", "widgets.example.course.dev", "--type=json", "-p",
                 '[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/note",'
                 '"value":{"type":"string"}}]')  # fmt: skip
    after = raw("/openapi/v3")["paths"]["apis/example.course.dev/v1"]["serverRelativeURL"]
    assert after != before
    client.ApiextensionsV1Api(admin).delete_custom_resource_definition("widgets.example.course.dev")
    assert _wait(lambda: "example.course.dev" not in [g["name"] for g in raw("/apis")["groups"]])
    assert "could not find the requested resource" in raw("/apis/example.course.dev/v1")
    assert "apis/example.course.dev/v1" not in raw("/openapi/v3")["paths"]


def test_watches_end_with_their_crd(kube):
    """Deleting a CRD deletes its custom resources (each watch sees them go) and ends their watches."""
    from kubernetes import client, watch

    admin = kube.api_client("sandbox-admin")
    kube.kubectl("--context", "sandbox-admin", "apply", "-f", str(FIXTURES / "widget-crd.yaml"))
    kube.kubectl("wait", "--for=condition=Established", "crd/widgets.example.course.dev", "--timeout=20s")
    custom = client.CustomObjectsApi(admin)
    args = ("example.course.dev", "v1", "widgets")
    custom.create_cluster_custom_object(*args, {"apiVersion": "example.course.dev/v1", "kind": "Widget",
                                                "metadata": {"name": "doomed"}, "spec": {"size": "large"}})  # fmt: skip
    seen: list[str] = []
    ended = threading.Event()

    def follow():
        for event in watch.Watch().stream(custom.list_cluster_custom_object, *args, timeout_seconds=60):
            seen.append(f"{event['type']} {event['object']['metadata']['name']}")
        ended.set()

    threading.Thread(target=follow, daemon=True).start()
    assert _wait(lambda: seen == ["ADDED doomed"], 10)
    client.ApiextensionsV1Api(admin).delete_custom_resource_definition("widgets.example.course.dev")
    assert ended.wait(15), "the watch went on after its CRD was deleted"
    assert seen == ["ADDED doomed", "DELETED doomed"]


def test_registry_after_a_restart(kube, applications):
    """The served kinds come from the stored CRDs: after the sandbox restarts they are served again."""
    from lab_helpers import sandbox as sb

    kube.kubectl("apply", "-n", "default", "-f", str(FIXTURES / "application.yaml"))
    sb.stop()
    sb.start()
    got = kube.kubectl("get", "app", "guestbook", "-n", "default", "-o", "jsonpath={.spec.source.path}")
    assert got.stdout == "k8s"
    kube.kubectl("delete", "app", "guestbook", "-n", "default")
