"""The sandbox's Kubernetes API driven by the real kubectl, as a learner types it: a transcript of
commands against one sandbox, each checked on its exit code and its stable output lines (names,
columns, the API server's error wording). A command that differs fails with the transcript so far.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from k8s_fixtures import kube  # noqa: F401

pytestmark = pytest.mark.timeout(300)

NS = "tx-kubectl"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: {replicas}
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
        - containerPort: 8080
          name: http
"""


def deployment(replicas: int) -> str:
    return DEPLOYMENT.replace("{replicas}", str(replicas))


class Transcript:
    """kubectl commands run in order, each logged with its exit code and output."""

    def __init__(self, kube) -> None:
        self.kube = kube
        self.log: list[str] = []

    def __call__(self, *args: str, rc: int = 0, input: str | None = None, timeout: float = 60) -> str:
        done = self.kube.kubectl(*args, check=False, input=input, timeout=timeout)
        out = (done.stdout + done.stderr).strip()
        self.log.append(f"$ kubectl {' '.join(args)}  -> {done.returncode}\n{out}")
        if done.returncode != rc:
            raise AssertionError(f"exit {done.returncode}, expected {rc}:\n" + "\n\n".join(self.log))
        return out

    def lines(self, *args: str, **kw) -> list[list[str]]:
        """The output as rows of whitespace-separated cells (the header first)."""
        return [line.split() for line in self(*args, **kw).splitlines()]


@pytest.fixture(scope="module")
def k(kube) -> Transcript:
    return Transcript(kube)


def test_version_and_discovery(k):
    version = json.loads(k("version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == "v1.35.2"
    assert version["serverVersion"]["major"] == "1" and version["serverVersion"]["minor"] == "35"
    rows = k.lines("api-resources")
    assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ["deployments", "deploy", "apps/v1", "true", "Deployment"] in rows
    assert ["namespaces", "ns", "v1", "false", "Namespace"] in rows
    assert ["jobs", "batch/v1", "true", "Job"] in rows
    verbs = k("api-resources", "--api-group=apps", "-o", "wide")
    assert "create,delete,deletecollection,get,list,patch,update,watch" in verbs
    assert "apps/v1" in k("api-versions").split()


def test_namespaces_and_typed_creates(k):
    rows = k.lines("get", "ns")
    assert rows[0] == ["NAME", "STATUS", "AGE"]
    assert {r[0] for r in rows[1:]} >= {"default", "kube-system", "kube-public", "kube-node-lease"}
    assert k("create", "namespace", NS) == f"namespace/{NS} created"  # a protobuf body
    owner = k("get", "ns", NS, "-o", "jsonpath={.metadata.annotations}")
    assert '"learner"' in owner
    assert k("get", "sa", "-n", NS, "-o", "name") == "serviceaccount/default"
    assert k("get", "ns", NS, "-o", "jsonpath={.status.phase} {.spec.finalizers}") == 'Active ["kubernetes"]'
    assert k("create", "configmap", "settings", "-n", NS, "--from-literal=mode=fast", "--from-literal=n=3") == (
        "configmap/settings created"
    )
    assert k("create", "secret", "generic", "creds", "-n", NS, "--from-literal=password=s3cret") == (
        "secret/creds created"
    )
    rows = k.lines("get", "cm", "-n", NS)
    assert rows[0] == ["NAME", "DATA", "AGE"]
    assert ["settings", "2"] == rows[[r[0] for r in rows].index("settings")][:2]
    rows = k.lines("get", "secret", "creds", "-n", NS)
    assert rows[0] == ["NAME", "TYPE", "DATA", "AGE"] and rows[1][:3] == ["creds", "Opaque", "1"]
    assert k("get", "secret", "creds", "-n", NS, "-o", "jsonpath={.data.password}") == "czNjcmV0"


def test_apply_client_side_then_changed(k):
    assert k("apply", "-n", NS, "-f", "-", input=deployment(1)) == "deployment.apps/web created"
    assert k("apply", "-n", NS, "-f", "-", input=deployment(1)) == "deployment.apps/web unchanged"
    assert k("apply", "-n", NS, "-f", "-", input=deployment(2)) == "deployment.apps/web configured"
    got = json.loads(k("get", "deploy", "web", "-n", NS, "-o", "json", "--show-managed-fields"))
    assert got["spec"]["replicas"] == 2
    assert got["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert got["spec"]["revisionHistoryLimit"] == 10 and got["spec"]["progressDeadlineSeconds"] == 600
    container = got["spec"]["template"]["spec"]["containers"][0]
    assert (
        container["imagePullPolicy"] == "IfNotPresent" and container["terminationMessagePath"] == "/dev/termination-log"
    )
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]
    managers = {m["manager"] for m in got["metadata"]["managedFields"]}
    assert "kubectl-client-side-apply" in managers


def test_apply_server_side_and_conflicts(k):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  owner: first\n"
    assert k("apply", "--server-side", "-n", NS, "-f", "-", input=cm) == "configmap/ssa serverside-applied"
    other = cm.replace("first", "second")
    out = k("apply", "--server-side", "--field-manager=other", "-n", NS, "-f", "-", input=other, rc=1)
    assert "Apply failed with 1 conflict" in out and ".data.owner" in out
    forced = k("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-n", NS, "-f", "-", input=other)
    assert forced == "configmap/ssa serverside-applied"
    assert k("get", "cm", "ssa", "-n", NS, "-o", "jsonpath={.data.owner}") == "second"


def test_diff(k):
    assert k("diff", "-n", NS, "-f", "-", input=deployment(2)) == ""
    out = k("diff", "-n", NS, "-f", "-", input=deployment(4), rc=1)
    assert "-  replicas: 2" in out and "+  replicas: 4" in out
    assert k("get", "deploy", "web", "-n", NS, "-o", "jsonpath={.spec.replicas}") == "2"  # diff is a dry run


def test_explain(k):
    out = k("explain", "deployment.spec")
    assert "KIND:       Deployment" in out and "replicas\t<integer>" in out
    assert "template\t<PodTemplateSpec> -required-" in out


def test_get_outputs(k):
    rows = k.lines("get", "deploy", "-n", NS, "-o", "wide")
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert rows[1][0] == "web" and rows[1][-3:] == ["main", "busybox:1.36", "app=web"]
    doc = k("get", "deploy", "web", "-n", NS, "-o", "yaml")
    assert "kind: Deployment" in doc and "  replicas: 2" in doc
    k("create", "service", "clusterip", "web", "-n", NS, "--tcp=80:8080")
    rows = k.lines("get", "svc", "web", "-n", NS, "-o", "wide")
    assert rows[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert rows[1][1] == "ClusterIP" and rows[1][2].startswith("127.") and rows[1][3:5] == ["<none>", "80/TCP"]
    listed = json.loads(k("get", "cm", "-n", NS, "-o", "json"))
    assert listed["kind"] == "List" and {i["metadata"]["name"] for i in listed["items"]} >= {"settings", "ssa"}


def test_get_watch(k, kube):
    proc = subprocess.Popen(
        ["kubectl", "get", "cm", "-n", NS, "-w", "--output-watch-events"],
        env=kube.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(1.0)
        k("create", "configmap", "watched", "-n", NS, "--from-literal=a=1")
        deadline = time.monotonic() + 20
        seen: list[str] = []
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if "watched" in line:
                break
        assert any(line.split()[:2] == ["ADDED", "watched"] for line in seen), seen
        assert seen[0].split() == ["EVENT", "NAME", "DATA", "AGE"], seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    out = k("get", "cm", "-n", NS, "-w", "--request-timeout=2s", rc=0, timeout=30)
    assert "settings" in out


def test_label_annotate_patch(k):
    assert k("label", "cm", "settings", "-n", NS, "tier=web") == "configmap/settings labeled"
    out = k("label", "cm", "settings", "-n", NS, "tier=db", rc=1)
    assert "'tier' already has a value (web), and --overwrite is false" in out
    assert k("label", "cm", "settings", "-n", NS, "tier=db", "--overwrite") == "configmap/settings labeled"
    assert k("annotate", "cm", "settings", "-n", NS, "note=hello") == "configmap/settings annotated"
    assert k("patch", "deploy", "web", "-n", NS, "-p", '{"spec":{"replicas":3}}') == "deployment.apps/web patched"
    assert k("patch", "cm", "settings", "-n", NS, "--type=merge", "-p", '{"data":{"mode":"slow"}}') == (
        "configmap/settings patched"
    )
    json_patch = '[{"op":"replace","path":"/data/n","value":"4"},{"op":"add","path":"/data/extra","value":"x"}]'
    assert k("patch", "cm", "settings", "-n", NS, "--type=json", "-p", json_patch) == "configmap/settings patched"
    data = json.loads(k("get", "cm", "settings", "-n", NS, "-o", "jsonpath={.data}"))
    assert data == {"mode": "slow", "n": "4", "extra": "x"}
    # a strategic merge by the containers' merge key keeps the container's ports
    k(
        "patch",
        "deploy",
        "web",
        "-n",
        NS,
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"busybox:1.37"}]}}}}',
    )
    container = json.loads(k("get", "deploy", "web", "-n", NS, "-o", "jsonpath={.spec.template.spec.containers[0]}"))
    assert container["image"] == "busybox:1.37" and container["ports"][0]["containerPort"] == 8080
    assert (
        k("patch", "deploy", "web", "-n", NS, "-p", '{"spec":{"replicas":3}}')
        == "deployment.apps/web patched (no change)"
    )


def test_selectors(k):
    k("create", "configmap", "other", "-n", NS, "--from-literal=a=1")
    k("label", "cm", "other", "-n", NS, "tier=web")
    assert k("get", "cm", "-n", NS, "-l", "tier", "-o", "name").split() == ["configmap/other", "configmap/settings"]
    assert k("get", "cm", "-n", NS, "-l", "tier in (db)", "-o", "name") == "configmap/settings"
    assert k("get", "cm", "-n", NS, "-l", "tier notin (db),tier", "-o", "name") == "configmap/other"
    assert "configmap/settings" not in k("get", "cm", "-n", NS, "-l", "!tier", "-o", "name")
    assert k("get", "cm", "-n", NS, "--field-selector", "metadata.name=other", "-o", "name") == "configmap/other"
    out = k("get", "cm", "-n", NS, "--field-selector", "data.a=1", rc=1)
    assert "field label not supported: data.a" in out


def test_errors_worded_as_the_api_server(k, kube):
    out = k("create", "configmap", "settings", "-n", NS, rc=1)
    assert out == 'error: failed to create configmap: configmaps "settings" already exists'
    assert k("get", "cm", "nope", "-n", NS, rc=1) == 'Error from server (NotFound): configmaps "nope" not found'
    stale = json.loads(k("get", "cm", "other", "-n", NS, "-o", "json"))
    k("label", "cm", "other", "-n", NS, "bump=1")
    out = k("replace", "-f", "-", input=json.dumps(stale), rc=1)
    assert (
        'Operation cannot be fulfilled on configmaps "other": the object has been modified; '
        "please apply your changes to the latest version and try again" in out
    )
    bad = (
        deployment(1)
        .replace("labels: {app: web}\n    spec:", "labels: {app: other}\n    spec:")
        .replace("name: web", "name: bad", 1)
    )
    out = k("apply", "-n", NS, "-f", "-", input=bad, rc=1)
    assert 'The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value:' in out
    assert "`selector` does not match template `labels`" in out
    unknown = (
        deployment(1).replace("  replicas: 1", "  replicas: 1\n  replicaz: 2").replace("name: web", "name: strict", 1)
    )
    out = k("apply", "-n", NS, "-f", "-", input=unknown, rc=1)
    assert 'strict decoding error: unknown field "spec.replicaz"' in out
    node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: tx-api-node\n"
    assert k("--context", "sandbox-admin", "apply", "-f", "-", input=node) == "node/tx-api-node created"
    rows = k.lines("get", "nodes")
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] and "tx-api-node" in [r[0] for r in rows]
    out = k("label", "node", "tx-api-node", "a=b", rc=1)
    assert out == (
        'Error from server (Forbidden): nodes "tx-api-node" is forbidden: User "learner" cannot patch resource '
        '"nodes" in API group "" at the cluster scope'
    )
    out = k("get", "pods", "--token=not-a-token", rc=1)
    assert out == "error: You must be logged in to the server (Unauthorized)"
    out = k("create", "configmap", "x", "-n", "kube-system", rc=1)
    assert 'User "learner" cannot create resource "configmaps" in API group "" in the namespace "kube-system"' in out
    out = k("--context", "sandbox-admin", "create", "configmap", "x", "-n", "no-such-ns", rc=1)
    assert 'namespaces "no-such-ns" not found' in out


def test_delete_and_namespace_deletion(k):
    assert k("delete", "cm", "other", "-n", NS) == f'configmap "other" deleted from {NS} namespace'
    assert k("delete", "cm", "other", "-n", NS, rc=1) == 'Error from server (NotFound): configmaps "other" not found'
    out = k("delete", "deploy", "web", "-n", NS, "--cascade=orphan")
    assert out == f'deployment.apps "web" deleted from {NS} namespace'
    k("create", "namespace", "tx-doomed")
    k("create", "configmap", "inside", "-n", "tx-doomed", "--from-literal=a=1")
    assert k("delete", "ns", "tx-doomed", timeout=90) == 'namespace "tx-doomed" deleted'
    assert k("get", "ns", "tx-doomed", rc=1) == 'Error from server (NotFound): namespaces "tx-doomed" not found'
    assert k("--context", "sandbox-admin", "get", "cm", "-n", "tx-doomed", "-o", "name") == ""


def test_auth_can_i_and_whoami(k):
    assert k("auth", "can-i", "create", "pods", "-n", "default") == "yes"
    assert k("auth", "can-i", "create", "pods", "-n", "kube-system", rc=1) == "no"
    assert k("auth", "can-i", "list", "secrets", "-n", "kube-system", rc=1) == "no"
    # (kubectl warns that nodes are not namespaced: the context names a namespace)
    assert k("auth", "can-i", "list", "nodes").splitlines()[0] == "yes"
    assert k("auth", "can-i", "delete", "nodes", rc=1).splitlines()[0] == "no"
    assert k("--context", "sandbox-admin", "auth", "can-i", "delete", "nodes").splitlines()[0] == "yes"
    rows = k.lines("auth", "whoami")
    assert rows[:2] == [["ATTRIBUTE", "VALUE"], ["Username", "learner"]]
    listed = k.lines("auth", "can-i", "--list", "-n", "kube-system")
    namespaces = next(r for r in listed if r[0] == "namespaces")
    assert "create]" in namespaces[-1] and "secrets" not in [r[0] for r in listed]
    pods = next(r for r in k.lines("auth", "can-i", "--list", "-n", "default") if r[0] == "pods")  # admin there
    assert "create" in " ".join(pods[3:]) and "delete" in " ".join(pods[3:])
