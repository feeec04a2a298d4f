"""The sandbox kubelet where containers get no namespaces (forced by the file ``kubelet/isolation``,
as on a machine that allows none): plain processes in the host's files, as the pod's unprivileged user
when the service is root, with mount paths mapped to the volumes' folders; the nginx stand-in
serves a ConfigMap mounted over its document root, through its Service."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest
from k8s_fixtures import kube  # noqa: F401

pytestmark = pytest.mark.timeout(120)

NS = "plain"
NODE = "plain-node"


def wait_for(what, check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


@pytest.fixture(scope="module")
def pk(kube):
    from kubernetes import client

    from lab_helpers import sandbox as sb

    (kube.state / "sandbox" / "kubelet" / "isolation").write_text("none\n")
    sb.stop()  # the kubelet decides its isolation when it starts
    sb.start()

    client.CoreV1Api(kube.api_client("sandbox-admin")).create_node(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}}
    )
    kube.kubectl("create", "namespace", NS)
    return kube


def get(kube, kind: str, name: str) -> dict:
    return json.loads(kube.kubectl("get", kind, "-n", NS, name, "-o", "json").stdout)


MANIFEST = f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: site}}
data: {{index.html: "<h1>from a ConfigMap</h1>\\n", note.txt: "mapped\\n"}}
---
apiVersion: v1
kind: Pod
metadata: {{name: site, labels: {{app: site}}}}
spec:
  nodeName: {NODE}
  containers:
  - name: nginx
    image: nginx
    volumeMounts: [{{name: site, mountPath: /usr/share/nginx/html}}]
    readinessProbe:
      exec: {{command: [cat, /usr/share/nginx/html/note.txt]}}
      periodSeconds: 1
  volumes: [{{name: site, configMap: {{name: site}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: site}}
spec:
  selector: {{app: site}}
  ports: [{{port: 8081, targetPort: 80}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: reader}}
spec:
  nodeName: {NODE}
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "id -u; cat /config/note.txt; echo $SITE_SERVICE_HOST"]
    volumeMounts: [{{name: site, mountPath: /config}}]
  volumes: [{{name: site, configMap: {{name: site}}}}]
"""


def test_plain_processes_with_mapped_paths(pk):
    pk.kubectl("apply", "-n", NS, "-f", "-", input=MANIFEST)
    wait_for("reader done", lambda: get(pk, "pod", "reader")["status"].get("phase") in ("Succeeded", "Failed"))
    out = pk.kubectl("logs", "-n", NS, "reader").stdout.splitlines()
    ip = get(pk, "svc", "site")["spec"]["clusterIP"]
    assert out == ["65534" if os.geteuid() == 0 else str(os.geteuid()), "mapped", ip]
    note = get(pk, "pod", "reader")["metadata"]["annotations"]["sandbox.visualizing-compute/simulated"]
    assert note.startswith("plain processes")
    wait_for(
        "site Ready (its exec probe reads a mapped path)",
        lambda: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in get(pk, "pod", "site")["status"].get("conditions", [])
        ),
    )

    def fetch() -> str:
        try:
            with urllib.request.urlopen(f"http://{ip}:8081/", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return ""

    assert wait_for("the ConfigMap's page through the Service", fetch) == "<h1>from a ConfigMap</h1>\n"
