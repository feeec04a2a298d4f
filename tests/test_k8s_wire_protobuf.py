"""Protobuf request bodies: the ones kubectl and helm really sent (tests/data/k8s-protobuf) decode
into the JSON the same commands send, zeros that matter survive, and malformed bodies are 400s."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from lab_helpers.sandbox.errors import ApiError
from lab_helpers.sandbox.kubernetes.wire import protobuf

DATA = Path(__file__).parent / "data" / "k8s-protobuf"
TWINS = sorted(p.stem for p in DATA.glob("*.pb") if (DATA / f"{p.stem}.json").exists())


def without_nulls(value):
    """JSON bodies carry ``creationTimestamp: null``; the decoder leaves an unset time out."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def decoded(name: str) -> dict:
    return protobuf.decode((DATA / f"{name}.pb").read_bytes())


def test_the_captured_bodies_are_there():
    assert len(TWINS) >= 10
    assert {"namespace", "secret", "configmap", "deployment", "job", "service", "serviceaccount"} <= set(TWINS)


@pytest.mark.parametrize("name", TWINS)
def test_a_kubectl_body_decodes_to_its_json_twin(name):
    want = json.loads((DATA / f"{name}.json").read_text())
    got = decoded(name)
    assert list(got)[:2] == ["apiVersion", "kind"]
    assert without_nulls(got) == without_nulls(want)


def test_details_that_matter():
    dep = decoded("deployment")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container == {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}], "resources": {}}
    assert dep["spec"]["replicas"] == 3
    assert decoded("deployment-zero")["spec"]["replicas"] == 0, "a pointer's zero is a value, not unset"
    secret = decoded("secret")
    assert base64.b64decode(secret["data"]["password"]) == b"s3cr3t"
    svc = decoded("service-nodeport")
    assert svc["spec"]["ports"][0]["nodePort"] == 30080 and svc["spec"]["ports"][0]["targetPort"] == 80
    job = decoded("job")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "-c", "echo hello; sleep 1"]


def test_helms_release_secret():
    created = decoded("helm-0-post")
    assert created["kind"] == "Secret" and created["type"] == "helm.sh/release.v1"
    assert created["metadata"]["name"] == "sh.helm.release.v1.tiny.v1"
    assert created["metadata"]["labels"]["owner"] == "helm"
    assert created["metadata"]["labels"]["status"] == "pending-install"
    # The release: base64 of the gzip of JSON, stored as the Secret's bytes (base64 again in JSON).
    release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(created["data"]["release"]))))
    assert release["name"] == "tiny" and release["namespace"] == "demo"
    assert decoded("helm-1-put")["metadata"]["labels"]["status"] == "deployed"
    assert decoded("helm-3-delete") == {"apiVersion": "v1", "kind": "DeleteOptions"}


def test_encode_and_decode_round_trip():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "demo",
            "labels": {"app": "p"},
            "creationTimestamp": "2026-01-02T03:04:05Z",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u", "controller": True}
            ],
            "managedFields": [{"manager": "m", "operation": "Update", "fieldsV1": {"f:spec": {"f:x": {}}}}],
        },
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
                    "resources": {"requests": {"cpu": "250m", "nvidia.com/gpu": "1"}},
                    "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                }
            ],
            "volumes": [{"name": "cfg", "configMap": {"name": "cm"}}, {"name": "tmp", "emptyDir": {}}],
            "terminationGracePeriodSeconds": 0,
            "nodeSelector": {"gpu": "true"},
        },
        "status": {},
    }
    assert protobuf.decode(protobuf.encode(pod)) == pod


def test_unknown_fields_are_skipped():
    raw = protobuf.encode_message({"name": "x"}, "ObjectMeta") + protobuf._delimited(999, b"future")
    meta = protobuf._delimited(1, raw)
    body = protobuf.MAGIC + protobuf._delimited(1, protobuf._delimited(1, b"v1") + protobuf._delimited(2, b"ConfigMap"))
    body += protobuf._delimited(2, meta)
    assert protobuf.decode(body) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}


NAMESPACE_META = protobuf._delimited(1, protobuf._delimited(1, b"v1") + protobuf._delimited(2, b"Namespace"))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b"k8s\x00\x0a\xff",  # a length running past the end
        b"k8s\x00\x0a\x05\x0a\x02v1",
        b"k8s\x00\x0f",  # wire type 7
        b"k8s\x00\x12\x03\x0a\x80\x80",  # no kind
        b"k8s\x00" + NAMESPACE_META + b"\x12\x03\x0a\x80\x80",  # the object's own message truncated
        b"k8s\x00" + NAMESPACE_META + b"\x12\x04\x0a\x02\x08\xff",  # metadata's varint truncated
    ],
)
def test_malformed_bodies_are_400(body):
    with pytest.raises(ApiError) as excinfo:
        protobuf.decode(body)
    assert excinfo.value.response.status_code == 400


def test_a_kind_the_table_lacks_is_415():
    body = protobuf.MAGIC + protobuf._delimited(
        1, protobuf._delimited(1, b"scheduling.k8s.io/v1") + protobuf._delimited(2, b"PriorityClass")
    )
    with pytest.raises(ApiError) as excinfo:
        protobuf.decode(body)
    response = excinfo.value.response
    assert response.status_code == 415 and "PriorityClass as JSON" in json.loads(response.get_data())["message"]


def test_mutated_bodies_answer_a_status_or_an_object():
    """Never a crash (a 500): flipped, dropped and inserted bytes in real bodies decode or are refused."""
    import random

    rng = random.Random(7)
    bodies = [p.read_bytes() for p in sorted(DATA.glob("*.pb"))]
    outcomes = set()
    for _ in range(1500):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(4, len(body))
            action = rng.randrange(3)
            if action == 0:
                body[at] = rng.randrange(256)
            elif action == 1:
                del body[at]
            else:
                body.insert(at, rng.randrange(256))
        try:
            out = protobuf.decode(bytes(body))
        except ApiError as exc:
            assert exc.response.status_code in (400, 415)
            outcomes.add(exc.response.status_code)
        else:
            assert isinstance(out, dict) and "kind" in out
            json.dumps(out)
            outcomes.add(200)
    assert outcomes >= {200, 400}
