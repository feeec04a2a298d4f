"""The bundled schemas as the sandbox's Kubernetes API uses them: /openapi/v3 documents that kubectl
reads, field validation with the API server's causes and paths, merge keys for strategic merge."""

from __future__ import annotations

import copy
import json
import time

import pytest

from lab_helpers.sandbox.kubernetes.resources import RESOURCES
from lab_helpers.sandbox.kubernetes.wire import openapi, schemas
from lab_helpers.sandbox.kubernetes.wire.validation import is_unknown_field


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": None},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi", "nvidia.com/gpu": 1}},
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                        }
                    ]
                },
            },
        },
        "status": {},
    }


def fields(causes: list[dict]) -> dict[str, str]:
    return {c["field"]: c["message"] for c in causes}


# --- /openapi/v3 -----------------------------------------------------------------------------


def test_index_lists_every_served_group_version_with_a_hash():
    index = schemas.openapi_v3_index()
    expected = {f"apis/{r.group}/{r.version}" if r.group else f"api/{r.version}" for r in RESOURCES}
    assert set(index["paths"]) == expected
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    body, digest = openapi.document_bytes("apis/apps/v1")
    assert url.endswith(digest) and len(digest) == 128
    assert json.loads(body) == schemas.openapi_v3_document("apis/apps/v1")


def test_documents_are_built_once():
    start = time.perf_counter()
    for _ in range(200):
        schemas.openapi_v3_index()
        assert schemas.openapi_v3_document("api/v1") is schemas.openapi_v3_document("api/v1")
    assert time.perf_counter() - start < 0.5
    assert schemas.openapi_v3_document("apis/nothing/v1") is None


def test_patch_operations_advertise_server_side_field_validation():
    """kubectl sends fieldValidation=Strict (and skips its own checks) when the PATCH of the kind lists it."""
    doc = schemas.openapi_v3_document("apis/apps/v1")
    item = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    patch = item["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= {p["name"] for p in patch["parameters"]}
    assert "application/apply-patch+yaml" in patch["requestBody"]["content"]
    scale = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["get"]
    assert scale["x-kubernetes-group-version-kind"]["kind"] == "Scale"
    core = schemas.openapi_v3_document("api/v1")["paths"]
    assert "post" in core["/api/v1/namespaces"] and "/api/v1/namespaces/{namespace}/pods/{name}/status" in core


def test_components_are_openapi_3_with_kinds_and_merge_keys():
    doc = schemas.openapi_v3_document("apis/apps/v1")
    comps = doc["components"]["schemas"]
    dep = comps["io.k8s.api.apps.v1.Deployment"]
    assert dep["type"] == "object"
    assert dep["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert dep["properties"]["spec"]["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]
    containers = comps["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}
    text = json.dumps(doc)
    assert "#/$defs/" not in text and '"null"' not in text
    refs = {r.split("/")[-1] for r in json.dumps(doc).split('"$ref": "')[1:] for r in [r.split('"')[0]]}
    assert refs <= set(comps), "every reference resolves inside the document"
    assert comps["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"


# --- validation -------------------------------------------------------------------------------


def test_a_good_deployment_has_no_causes_and_validates_fast():
    obj = deployment()
    assert schemas.validate(obj, unknown="Strict") == ([], [])
    start = time.perf_counter()
    for _ in range(500):
        schemas.validate(obj, unknown="Strict")
    per_call = (time.perf_counter() - start) / 500
    assert per_call < 0.002, f"{per_call * 1000:.2f} ms per validation"


@pytest.mark.parametrize(
    ("mode", "causes", "warnings"),
    [("Strict", 2, 0), ("Warn", 0, 2), ("Ignore", 0, 0)],
)
def test_unknown_fields_follow_field_validation(mode, causes, warnings):
    obj = deployment()
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    got, warned = schemas.validate(obj, unknown=mode)
    assert len(got) == causes and len(warned) == warnings
    paths = ['unknown field "spec.foo"', 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"']
    if causes:
        assert sorted(c["message"] for c in got) == paths
        assert all(is_unknown_field(c) for c in got)
    if warnings:
        assert sorted(warned) == paths


def test_wrong_types_name_the_field():
    obj = deployment()
    obj["spec"]["replicas"] = "three"
    obj["spec"]["template"]["spec"]["containers"] = {"name": "web"}
    obj["metadata"]["labels"] = ["app"]
    causes, _ = schemas.validate(obj, unknown="Strict")
    got = fields(causes)
    assert got["spec.replicas"] == 'Invalid value: "string": spec.replicas in body must be of type integer: "string"'
    assert "must be of type array" in got["spec.template.spec.containers"]
    assert "must be of type object" in got["metadata.labels"]
    assert all(c["reason"] == "FieldValueTypeInvalid" for c in causes if c["field"] != "spec.template.spec.containers")
    assert not any(is_unknown_field(c) for c in causes)


def test_quantities_and_int_or_string_take_both_spellings():
    obj = deployment()
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"] = {"cpu": 1, "memory": "1Gi", "nvidia.com/gpu": "1"}
    container["livenessProbe"] = {"tcpSocket": {"port": 80}}
    assert schemas.validate(obj, unknown="Strict") == ([], [])
    container["resources"]["limits"]["memory"] = "lots"
    container["livenessProbe"]["tcpSocket"]["port"] = True
    got = fields(schemas.validate(obj, unknown="Strict")[0])
    assert (
        "quantities must match the regular expression"
        in got["spec.template.spec.containers[0].resources.limits[memory]"]
    )
    assert "integer or string" in got["spec.template.spec.containers[0].livenessProbe.tcpSocket.port"]


def test_required_fields_and_the_api_servers_own_rules():
    obj = deployment()
    container = obj["spec"]["template"]["spec"]["containers"][0]
    del container["image"]
    obj["spec"]["template"]["spec"]["containers"].append({"image": "busybox"})
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    obj["spec"]["replicas"] = -1
    got = fields(schemas.validate(obj, unknown="Strict")[0])
    assert got["spec.template.spec.containers[0].image"] == "Required value"
    assert got["spec.template.spec.containers[1].name"] == "Required value"
    assert got["spec.replicas"] == "Invalid value: -1: must be greater than or equal to 0"
    assert got["spec.template.metadata.labels"].endswith("`selector` does not match template `labels`")
    assert got["spec.template.spec.restartPolicy"] == 'Unsupported value: "Never": supported values: "Always"'


def test_names_labels_ports_and_duplicates():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "Web_1", "labels": {"app": "not ok!"}},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 70000}]},
                {"name": "web", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/d"}]},
            ],
            "restartPolicy": "Sometimes",
        },
    }
    got = fields(schemas.validate(pod, unknown="Strict")[0])
    assert got["metadata.name"].startswith('Invalid value: "Web_1": a lowercase RFC 1123 subdomain')
    assert 'Invalid value: "not ok!": a valid label must be an empty string' in got["metadata.labels"]
    assert (
        got["spec.containers[0].ports[0].containerPort"]
        == "Invalid value: 70000: must be between 1 and 65535, inclusive"
    )
    assert got["spec.containers[1].name"] == 'Duplicate value: "web"'
    assert got["spec.containers[1].volumeMounts[0].name"] == 'Not found: "data"'
    assert got["spec.restartPolicy"].startswith('Unsupported value: "Sometimes"')
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": {"bad key": "x"}}
    got = fields(schemas.validate(nameless, unknown="Strict")[0])
    assert got["metadata.name"] == "Required value: name or generateName is required"
    assert "a valid config key" in got["data[bad key]"]


def test_jobs_services_and_namespaces():
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
    }
    got = fields(schemas.validate(job, unknown="Strict")[0])
    assert got == {"spec.template.spec.restartPolicy": 'Required value: valid values: "OnFailure", "Never"'}
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert schemas.validate(job, unknown="Strict") == ([], [])
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "1web"},
        "spec": {"type": "Cluster", "ports": [{"port": 80}, {"port": 81, "nodePort": 80}]},
    }
    got = fields(schemas.validate(svc, unknown="Strict")[0])
    assert "DNS-1035 label" in got["metadata.name"]
    assert got["spec.type"].startswith('Unsupported value: "Cluster"')
    assert got["spec.ports[0].name"] == "Required value"
    assert "valid range" in got["spec.ports[1].nodePort"]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}}
    assert "RFC 1123 label" in fields(schemas.validate(ns, unknown="Strict")[0])["metadata.name"]


def test_status_required_fields_are_checked_too():
    """What the Python client refuses to deserialise (a container status without imageID) is a cause."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"containerStatuses": [{"name": "c", "ready": True, "restartCount": 0, "image": "busybox"}]},
    }
    got = fields(schemas.validate(pod, unknown="Strict")[0])
    assert got == {"status.containerStatuses[0].imageID": "Required value"}


def test_kinds_without_schemas_and_non_objects():
    assert schemas.validate({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}}, unknown="Strict") == (
        [],
        [],
    )
    causes, _ = schemas.validate([], unknown="Strict")  # type: ignore[arg-type]
    assert causes and causes[0]["reason"] == "FieldValueTypeInvalid"


def test_validation_does_not_change_the_object():
    obj = deployment()
    before = copy.deepcopy(obj)
    schemas.validate(obj, unknown="Strict")
    assert obj == before


# --- merge keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "kind", "path", "expected"),
    [
        ("apps/v1", "Deployment", ("spec", "template", "spec", "containers"), ("name", "merge")),
        ("v1", "Pod", ("spec", "containers", "ports"), ("containerPort", "merge")),
        ("v1", "Pod", ("spec", "containers", "env"), ("name", "merge")),
        ("v1", "Pod", ("spec", "volumes"), ("name", "merge,retainKeys")),
        ("v1", "Pod", ("spec", "tolerations"), (None, "replace")),
        ("v1", "Pod", ("spec", "containers", "args"), (None, "replace")),
        ("v1", "Service", ("spec", "ports"), ("port", "merge")),
        ("apps/v1", "Deployment", ("metadata", "finalizers"), (None, "merge")),
        ("apps/v1", "Deployment", ("spec", "strategy"), (None, "retainKeys")),
        ("apps/v1", "Deployment", ("spec", "nothing"), (None, "replace")),
    ],
)
def test_merge_keys_come_from_the_schemas(api_version, kind, path, expected):
    assert schemas.merge_key(api_version, kind, path) == expected


def test_unknown_fields_are_dropped_as_the_api_server_stores_them():
    obj = deployment()
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["bar"] = {"x": 1}
    clean = schemas.drop_unknown(obj)
    assert "foo" not in clean["spec"] and "bar" not in clean["spec"]["template"]["spec"]["containers"][0]
    assert (
        clean["spec"]["template"]["spec"]["containers"][0]["resources"]
        == obj["spec"]["template"]["spec"]["containers"][0]["resources"]
    )
    assert schemas.validate(clean, unknown="Strict") == ([], [])
    assert "foo" in obj["spec"], "the argument is not changed"
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}}
    assert schemas.drop_unknown(widget) == widget
