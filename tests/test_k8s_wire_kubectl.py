"""The wire formats end to end with the real kubectl: strategic merge patches from ``set image``,
``rollout restart`` and ``kubectl patch``, field ownership moving between managers, server-side
validation of what kubectl sends with ``fieldValidation=Strict``, and typed creates sent as protobuf
whose zeros survive."""

from __future__ import annotations

import json

import pytest
from k8s_fixtures import kube  # noqa: F401

pytestmark = pytest.mark.timeout(300)

NS = "tx-wire"

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "sleep 3600"]
        ports:
        - {containerPort: 8080, name: http}
        env:
        - {name: A, value: "1"}
"""


@pytest.fixture(scope="module")
def kc(kube):
    def run(*args: str, rc: int = 0, input: str | None = None) -> str:
        done = kube.kubectl(*args, check=False, input=input)
        out = (done.stdout + done.stderr).strip()
        assert done.returncode == rc, f"kubectl {' '.join(args)} exited {done.returncode}:\n{out}"
        return out

    run("create", "namespace", NS)
    run("apply", "-n", NS, "-f", "-", input=MANIFEST)
    return run


def deployment(kc) -> dict:
    return json.loads(kc("get", "deploy", "web", "-n", NS, "-o", "json", "--show-managed-fields"))


def managers(obj: dict) -> dict[str, dict]:
    return {f"{m['manager']}/{m['operation']}": m["fieldsV1"] for m in obj["metadata"]["managedFields"]}


def test_set_image_and_rollout_restart_keep_the_container(kc):
    assert kc("set", "image", "deploy/web", "main=busybox:1.37", "-n", NS) == "deployment.apps/web image updated"
    assert kc("rollout", "restart", "deploy/web", "-n", NS) == "deployment.apps/web restarted"
    got = deployment(kc)
    container = got["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "busybox:1.37"
    assert container["ports"] == [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert "kubectl.kubernetes.io/restartedAt" in got["spec"]["template"]["metadata"]["annotations"]
    owners = managers(got)
    image = owners["kubectl-set/Update"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"main"}']
    assert "f:image" in image


def test_kubectl_patch_in_its_three_types(kc):
    env = '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"B","value":"2"}]}]}}}}'
    kc("patch", "deploy", "web", "-n", NS, "-p", env)
    kc("patch", "deploy", "web", "-n", NS, "--type=merge", "-p", '{"metadata":{"labels":{"tier":"front"}}}')
    kc("patch", "deploy", "web", "-n", NS, "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":2}]')
    got = deployment(kc)
    assert [e["name"] for e in got["spec"]["template"]["spec"]["containers"][0]["env"]] == ["B", "A"]
    assert got["metadata"]["labels"] == {"app": "web", "tier": "front"} and got["spec"]["replicas"] == 2
    out = kc(
        "patch",
        "deploy",
        "web",
        "-n",
        NS,
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":9}]',
        rc=1,
    )
    assert "The request is invalid: the server rejected our request" in out and "testing value /spec/replicas" in out


def test_server_side_apply_conflicts_then_takes_over(kc):
    changed = MANIFEST.replace("replicas: 1", "replicas: 3")
    out = kc("apply", "--server-side", "--field-manager=ops", "-n", NS, "-f", "-", input=changed, rc=1)
    assert "Apply failed with" in out and '"kubectl-patch"' in out and ".spec.replicas" in out
    kc("apply", "--server-side", "--field-manager=ops", "--force-conflicts", "-n", NS, "-f", "-", input=changed)
    got = deployment(kc)
    assert got["spec"]["replicas"] == 3
    owners = managers(got)
    assert "f:replicas" in owners["ops/Apply"]["f:spec"]
    assert "kubectl-patch/Update" not in owners or "f:replicas" not in owners["kubectl-patch/Update"].get("f:spec", {})


def test_strict_validation_of_what_kubectl_sends(kc):
    bad = MANIFEST.replace("replicas: 1", "replicas: 1\n  surplus: true").replace("name: web\n", "name: web-bad\n")
    out = kc("apply", "-n", NS, "-f", "-", input=bad, rc=1)
    assert 'strict decoding error: unknown field "spec.surplus"' in out
    noimage = MANIFEST.replace("        image: busybox:1.36\n", "").replace("name: web\n", "name: web-noimage\n")
    out = kc("apply", "-n", NS, "-f", "-", input=noimage, rc=1)
    assert "spec.template.spec.containers[0].image: Required value" in out
    assert kc("get", "deploy", "-n", NS, "-o", "name") == "deployment.apps/web"


def test_protobuf_creates_keep_their_zeros_and_bytes(kc):
    kc("create", "deployment", "idle", "--image=busybox:1.36", "--replicas=0", "-n", NS)
    assert kc("get", "deploy", "idle", "-n", NS, "-o", "jsonpath={.spec.replicas}") == "0"
    kc("create", "secret", "generic", "pw", "--from-literal=password=s3cr3t", "-n", NS)
    assert kc("get", "secret", "pw", "-n", NS, "-o", "jsonpath={.data.password}") == "czNjcjN0"
    kc("create", "job", "once", "--image=busybox:1.36", "-n", NS, "--", "sh", "-c", "echo hi")
    job = json.loads(kc("get", "job", "once", "-n", NS, "-o", "json"))
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "-c", "echo hi"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
