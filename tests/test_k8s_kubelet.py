"""The sandbox kubelet with the real kubectl: pods whose containers are real processes (logs, exit
codes, restarts and back-off, probes, grace periods), the registry's images (busybox, the nginx
stand-in, a missing one), env and volumes from ConfigMaps and Secrets, and Services that really
listen on their cluster IP and resolve by name inside pods.

Every pod is bound to the module's own node (``spec.nodeName``), so no scheduler is needed.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request

import pytest
from k8s_fixtures import kube  # noqa: F401

from lab_helpers.sandbox.kubernetes.kubelet import probes

pytestmark = pytest.mark.timeout(180)

NS = "kl"
NODE = "kl-node"


def wait_for(what, check, timeout: float = 20.0, every: float = 0.1):
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


@pytest.fixture(scope="module")
def kl(kube):
    """The module's node (registered by the admin, no VM behind it) and namespace."""
    from kubernetes import client
    from kubernetes.client import V1NodeStatus as NodeStatus  # a new Node has no status until its kubelet writes one

    admin = client.CoreV1Api(kube.api_client("sandbox-admin"))
    admin.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}})
    wait_for(
        "the node Ready",
        lambda: any(
            c.type == "Ready" and c.status == "True"
            for c in (admin.read_node(NODE).status or NodeStatus()).conditions or []
        ),
    )
    kube.kubectl("create", "namespace", NS)
    return kube


def apply(kube, manifest: str) -> None:
    kube.kubectl("apply", "-n", NS, "-f", "-", input=manifest)


def pod_json(kube, name: str) -> dict:
    return json.loads(kube.kubectl("get", "pod", "-n", NS, name, "-o", "json").stdout)


def container_status(kube, name: str) -> dict:
    statuses = pod_json(kube, name).get("status", {}).get("containerStatuses") or [{}]
    return statuses[0]


def phase(kube, name: str) -> str:
    return pod_json(kube, name).get("status", {}).get("phase", "")


def events_of(kube, name: str) -> list[str]:
    out = kube.kubectl(
        "get", "events", "-n", NS, "--field-selector", f"involvedObject.name={name}", "-o", "json"
    ).stdout
    return [f"{e['reason']}: {e['message']}" for e in json.loads(out)["items"]]


def pod(name: str, containers: str, extra: str = "", restart: str = "Always") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  nodeName: {NODE}
  restartPolicy: {restart}
{extra}
  containers:
{containers}
"""


def test_node_is_ready_with_loopback_address_and_node_info(kl):
    from kubernetes import client

    node = client.CoreV1Api(kl.api_client("sandbox-admin")).read_node(NODE)  # every required field present
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("True", "KubeletReady")
    assert {c.type for c in node.status.conditions} == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    internal = [a.address for a in node.status.addresses if a.type == "InternalIP"]
    assert internal and internal[0].startswith("127.243.")
    assert node.status.node_info.kubelet_version == "v1.35.2"
    assert node.status.node_info.container_runtime_version.startswith("sandbox://")
    assert node.spec.pod_cidr.startswith("127.244.")
    rows = kl.kubectl("get", "nodes", "-o", "wide").stdout.splitlines()
    assert rows[1].split()[:2] == [NODE, "Ready"]


def test_kubectl_run_prints_hello_in_logs(kl):
    kl.kubectl(
        "run", "hello", "-n", NS, "--image=busybox", "--restart=Never",
        f'--overrides={{"spec": {{"nodeName": "{NODE}"}}}}',
        "--", "sh", "-c", "echo hello; sleep 1",
    )  # fmt: skip
    first = phase(kl, "hello")
    wait_for("hello Succeeded", lambda: phase(kl, "hello") == "Succeeded")
    assert first in ("Pending", "Running")
    assert kl.kubectl("logs", "-n", NS, "hello").stdout == "hello\n"
    got = pod_json(kl, "hello")
    assert got["status"]["podIP"].startswith("127.244.")
    assert "processes" in got["metadata"]["annotations"]["sandbox.visualizing-compute/simulated"]
    term = got["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    reasons = [e.split(":")[0] for e in events_of(kl, "hello")]
    for reason in ("Pulling", "Pulled", "Created", "Started"):
        assert reason in reasons
    stamped = kl.kubectl("logs", "-n", NS, "hello", "--timestamps").stdout
    assert stamped.endswith(" hello\n") and stamped.startswith("20")


def test_the_image_user_owns_its_root_and_working_directory(kl):
    manifest = pod(
        "writer",
        """  - name: c
    image: busybox
    command: ["sh", "-c", "echo saved > in-cwd && cat in-cwd && pwd && echo x > /at-root && cat /at-root"]
  - name: d
    image: busybox
    workingDir: /app
    command: ["sh", "-c", "echo here > f && cat f && pwd"]
  - name: e
    image: busybox
    securityContext: {runAsUser: 1000}
    command: ["sh", "-c", "id -u; touch /x 2>&1 || true"]""",
        restart="Never",
    )
    apply(kl, manifest)
    wait_for("writer done", lambda: phase(kl, "writer") in ("Succeeded", "Failed"))
    assert kl.kubectl("logs", "-n", NS, "writer", "-c", "c").stdout.splitlines() == ["saved", "/", "x"]
    assert kl.kubectl("logs", "-n", NS, "writer", "-c", "d").stdout.splitlines() == ["here", "/app"]
    asked = kl.kubectl("logs", "-n", NS, "writer", "-c", "e").stdout.splitlines()
    assert asked[0] == "1000" and "Permission denied" in asked[1]  # a user asked for is not root's stand-in
    assert phase(kl, "writer") == "Succeeded"


def test_exit_code_of_a_failing_container(kl):
    apply(
        kl,
        pod(
            "fails",
            '  - {name: c, image: "busybox:1.36", command: ["sh", "-c", "echo oops >&2; echo full > /dev/termination-log; exit 3"]}',
            restart="Never",
        ),
    )
    wait_for("fails Failed", lambda: phase(kl, "fails") == "Failed")
    term = container_status(kl, "fails")["state"]["terminated"]
    assert (term["exitCode"], term["reason"], term.get("message")) == (3, "Error", "full\n")
    assert kl.kubectl("logs", "-n", NS, "fails").stdout == "oops\n"


def test_crash_loop_back_off_and_previous_logs(kl):
    apply(kl, pod("crash", '  - {name: c, image: busybox, command: ["sh", "-c", "echo run $(date +%s%N); exit 1"]}'))
    status = wait_for(
        "crash in CrashLoopBackOff",
        lambda: (
            lambda cs: cs if (cs.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff" else None
        )(container_status(kl, "crash")),
    )
    assert status["restartCount"] == 1  # the first restart is immediate, the next one waits 10 s
    assert status["state"]["waiting"]["message"].startswith("back-off 10s restarting failed container=c pod=crash_kl(")
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert phase(kl, "crash") == "Running"
    rows = kl.kubectl("get", "pod", "-n", NS, "crash").stdout.splitlines()
    assert rows[1].split()[2] == "CrashLoopBackOff"
    current = kl.kubectl("logs", "-n", NS, "crash").stdout
    previous = kl.kubectl("logs", "-n", NS, "crash", "--previous").stdout
    assert current.startswith("run ")
    assert previous == current  # while it waits, both name the instance that ended last, as the kubelet does
    assert any(
        e.startswith("BackOff: Back-off restarting failed container c in pod crash_kl(") for e in events_of(kl, "crash")
    )
    kl.kubectl("delete", "pod", "-n", NS, "crash", "--wait=false")


def test_previous_logs_of_a_container_that_never_restarted(kl):
    done = kl.kubectl("logs", "-n", NS, "fails", "--previous", check=False)
    assert done.returncode != 0
    assert 'previous terminated container "c" in pod "fails" not found' in done.stderr


def test_image_pull_back_off_says_what_the_registry_holds(kl):
    apply(kl, pod("nosuch", "  - {name: c, image: ghcr.io/example/nosuch:v1}"))
    reason = wait_for(
        "ImagePullBackOff",
        lambda: (
            (container_status(kl, "nosuch").get("state", {}).get("waiting") or {}).get("reason") == "ImagePullBackOff"
            and container_status(kl, "nosuch")["state"]["waiting"]
        ),
    )
    assert "busybox, nginx" in reason["message"]
    assert any(
        e.startswith('Failed: Failed to pull image "ghcr.io/example/nosuch:v1"') and "busybox" in e
        for e in events_of(kl, "nosuch")
    )
    done = kl.kubectl("logs", "-n", NS, "nosuch", check=False)
    assert "is waiting to start: trying and failing to pull image" in done.stderr
    kl.kubectl("delete", "pod", "-n", NS, "nosuch", "--wait=false")


def test_env_from_configmap_and_secret_and_a_configmap_volume(kl):
    apply(
        kl,
        """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: hello-from-a-configmap, app.conf: "mode=fast\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: not-a-real-password}
---"""
        + pod(
            "envs",
            """  - name: c
    image: busybox
    command: ["sh", "-c", "echo G=$GREETING; echo P=$PASSWORD; echo N=$(MY_NAME); echo IP=$MY_IP; $(SHOW)"]
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: MY_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: SHOW, value: "cat /etc/settings/app.conf; echo S=$SETTINGS_greeting"}
    envFrom: [{configMapRef: {name: settings}, prefix: SETTINGS_}]
    volumeMounts: [{name: settings, mountPath: /etc/settings}]""",
            "  volumes: [{name: settings, configMap: {name: settings}}]",
            restart="Never",
        ),
    )
    wait_for("envs Succeeded", lambda: phase(kl, "envs") == "Succeeded")
    ip = pod_json(kl, "envs")["status"]["podIP"]
    assert kl.kubectl("logs", "-n", NS, "envs").stdout.splitlines() == [
        "G=hello-from-a-configmap",
        "P=not-a-real-password",
        "N=envs",
        f"IP={ip}",
        "mode=fast",
        "S=hello-from-a-configmap",
    ]


def test_missing_configmap_waits_with_the_kubelets_words(kl):
    apply(
        kl,
        pod(
            "noconfig",
            """  - name: c
    image: busybox
    command: ["sh", "-c", "echo $X"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: absent, key: k}}}]""",
            restart="Never",
        ),
    )
    waiting = wait_for(
        "CreateContainerConfigError",
        lambda: (
            (container_status(kl, "noconfig").get("state", {}).get("waiting") or {}).get("reason")
            == "CreateContainerConfigError"
            and container_status(kl, "noconfig")["state"]["waiting"]
        ),
    )
    assert waiting["message"] == 'configmap "absent" not found'
    kl.kubectl("create", "configmap", "-n", NS, "absent", "--from-literal=k=now-here")
    wait_for("noconfig Succeeded once the ConfigMap exists", lambda: phase(kl, "noconfig") == "Succeeded")
    assert kl.kubectl("logs", "-n", NS, "noconfig").stdout == "now-here\n"


NGINX = """  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80, name: http}]
    readinessProbe:
      httpGet: {path: /, port: http}
      periodSeconds: 1"""
SERVICE = """
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
"""


def test_nginx_behind_a_service_by_address_and_by_name(kl):
    apply(kl, pod("web", NGINX) + SERVICE)
    wait_for(
        "web Ready",
        lambda: any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod_json(kl, "web")["status"].get("conditions", [])
        ),
    )
    ip = json.loads(kl.kubectl("get", "svc", "-n", NS, "web", "-o", "json").stdout)["spec"]["clusterIP"]
    assert ip.startswith("127.")

    def fetch() -> str:
        try:
            with urllib.request.urlopen(f"http://{ip}/", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return ""

    page = wait_for("the default page through the Service", fetch)
    assert "<title>Welcome to nginx!</title>" in page
    apply(
        kl,
        pod(
            "client",
            """  - name: c
    image: busybox
    command: ["sh", "-c", "wget -qO- http://web/ | grep title; wget -qO- http://web.kl.svc.cluster.local/ | grep -c nginx"]""",
            restart="Never",
        ),
    )
    wait_for("client done", lambda: phase(kl, "client") in ("Succeeded", "Failed"))
    out = kl.kubectl("logs", "-n", NS, "client").stdout.splitlines()
    assert out[0].strip() == "<title>Welcome to nginx!</title>" and int(out[1]) >= 1
    proxied = kl.kubectl("get", "--raw", f"/api/v1/namespaces/{NS}/services/web:80/proxy/").stdout
    assert "Welcome to nginx!" in proxied
    access = kl.kubectl("logs", "-n", NS, "web").stdout
    assert '"GET / HTTP/1.1" 200' in access and "kube-probe/1.35" in access


def test_node_port_and_names_that_follow_services(kl):
    apply(kl, pod("web", NGINX) + SERVICE)  # as the test before left them
    wait_for("web Running", lambda: phase(kl, "web") == "Running")
    kl.kubectl("expose", "pod", "web", "-n", NS, "--name=web-np", "--type=NodePort", "--port=8088", "--target-port=80")
    svc = json.loads(kl.kubectl("get", "svc", "-n", NS, "web-np", "-o", "json").stdout)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    node = json.loads(kl.kubectl("get", "node", NODE, "-o", "json").stdout)
    node_ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    for host in ("127.0.0.1", node_ip, svc["spec"]["clusterIP"]):
        port = 8088 if host == svc["spec"]["clusterIP"] else node_port
        page = wait_for(f"the page on {host}:{port}", lambda host=host, port=port: _get(f"http://{host}:{port}/"))
        assert "Welcome to nginx!" in page
    hosts = wait_for(
        "the running pod's /etc/hosts naming the new Service",
        lambda: "web-np" in (text := _read_inside(kl, "web", "nginx", "/etc/hosts")) and text,
    )
    assert f"{svc['spec']['clusterIP']}\tweb-np web-np.kl web-np.kl.svc web-np.kl.svc.cluster.local" in hosts
    kl.kubectl("delete", "svc", "-n", NS, "web-np")
    wait_for("the NodePort closed", lambda: not _get(f"http://127.0.0.1:{node_port}/"))


def _read_inside(kube, name: str, container: str, path: str) -> str:
    """A file as the container's own root shows it."""
    uid = pod_json(kube, name)["metadata"]["uid"]
    folder = kube.state / "sandbox" / "kubelet" / "pods" / uid / "containers" / container
    state = json.loads(max(folder.glob("[0-9]*.json"), key=lambda p: p.stat().st_mtime).read_text())
    with open(f"/proc/{state['pid']}/root{path}") as fh:
        return fh.read()


def test_readiness_gates_the_service(kl):
    apply(
        kl,
        pod(
            "gated",
            """  - name: c
    image: nginx
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
    lifecycle: {}""",
        )
        + """
---
apiVersion: v1
kind: Service
metadata: {name: gated}
spec:
  selector: {app: gated}
  ports: [{port: 8080, targetPort: 80}]
""",
    )
    wait_for("gated Running", lambda: phase(kl, "gated") == "Running")
    ip = json.loads(kl.kubectl("get", "svc", "-n", NS, "gated", "-o", "json").stdout)["spec"]["clusterIP"]
    time.sleep(probes.WARMUP_S + 1.5)  # a few probes fail once the start-up grace is over
    cs = container_status(kl, "gated")
    assert cs["ready"] is False and cs["started"] is True
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{ip}:8080/", timeout=2)
    assert any(e.startswith("Unhealthy: Readiness probe failed") for e in events_of(kl, "gated"))
    kl.kubectl("exec", "-n", NS, "gated", "--", "touch", "/tmp/ready", check=False)  # kubectl exec, where served
    if not container_status(kl, "gated")["ready"]:
        _touch_inside(kl, "gated", "/tmp/ready")
    wait_for("gated Ready", lambda: container_status(kl, "gated")["ready"])
    page = wait_for("the page once ready", lambda: _get(f"http://{ip}:8080/"))
    assert "Welcome to nginx!" in page


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode()
    except OSError:
        return ""


def _touch_inside(kube, name: str, path: str) -> None:
    """Make a file inside a running container's own root (through its first process's view of it)."""
    uid = pod_json(kube, name)["metadata"]["uid"]
    folder = kube.state / "sandbox" / "kubelet" / "pods" / uid / "containers" / "c"
    state = json.loads(max(folder.glob("[0-9]*.json"), key=lambda p: p.stat().st_mtime).read_text())
    root = f"/proc/{state['pid']}/root"
    with open(root + path, "w"):
        pass


def test_grace_period_on_delete(kl):
    loop = '["sh", "-c", "while true; do sleep 0.2; done"]'
    trap = '["sh", "-c", "trap \'echo got TERM; exit 0\' TERM; while true; do sleep 0.2; done"]'
    apply(
        kl, pod("stubborn", f"  - {{name: c, image: busybox, command: {loop}}}", "  terminationGracePeriodSeconds: 2")
    )
    apply(kl, pod("polite", f"  - {{name: c, image: busybox, command: {trap}}}", "  terminationGracePeriodSeconds: 20"))
    wait_for("both Running", lambda: phase(kl, "stubborn") == "Running" and phase(kl, "polite") == "Running")
    started = time.monotonic()
    kl.kubectl("delete", "pod", "-n", NS, "polite")
    polite_s = time.monotonic() - started
    started = time.monotonic()
    kl.kubectl("delete", "pod", "-n", NS, "stubborn")  # pid 1 ignores SIGTERM: killed after the grace period
    stubborn_s = time.monotonic() - started
    assert polite_s < 5, polite_s
    assert 1.8 < stubborn_s < 10, stubborn_s


def test_logs_follow_ends_with_the_container(kl):
    apply(
        kl,
        pod(
            "counter",
            '  - {name: c, image: busybox, command: ["sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.3; done"]}',
            restart="Never",
        ),
    )
    wait_for("counter started", lambda: phase(kl, "counter") in ("Running", "Succeeded"))
    done = kl.kubectl("logs", "-f", "-n", NS, "counter", timeout=20)
    assert done.stdout.splitlines() == ["line 1", "line 2", "line 3"]
    tail = kl.kubectl("logs", "-n", NS, "counter", "--tail=1").stdout
    assert tail == "line 3\n"
    folder = kl.state / "sandbox" / "kubelet" / "pods" / pod_json(kl, "counter")["metadata"]["uid"]
    assert folder.is_dir()
    kl.kubectl("delete", "pod", "-n", NS, "counter")
    wait_for("a finished pod's folder removed with it", lambda: not folder.exists())


def test_liveness_failure_restarts_the_container(kl):
    apply(
        kl,
        pod(
            "sick",
            """  - name: c
    image: busybox
    command: ["sh", "-c", "touch /tmp/healthy; sleep 1; rm /tmp/healthy; sleep 600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1""",
            "  terminationGracePeriodSeconds: 1",
        ),
    )
    wait_for("sick restarted", lambda: container_status(kl, "sick").get("restartCount", 0) >= 1, timeout=30)
    evs = events_of(kl, "sick")
    assert any(e.startswith("Unhealthy: Liveness probe failed: cat: ") for e in evs), evs
    assert "Killing: Container c failed liveness probe, will be restarted" in evs
    kl.kubectl("delete", "pod", "-n", NS, "sick", "--wait=false")


def test_init_container_runs_first(kl):
    apply(
        kl,
        pod(
            "inits",
            "  - {name: c, image: busybox, command: [cat, /shared/from-init], volumeMounts: [{name: w, mountPath: /shared}]}",
            """  volumes: [{name: w, emptyDir: {}}]
  initContainers:
  - name: prepare
    image: busybox
    command: ["sh", "-c", "echo prepared > /shared/from-init"]
    volumeMounts: [{name: w, mountPath: /shared}]""",
            restart="Never",
        ),
    )
    wait_for("inits Succeeded", lambda: phase(kl, "inits") == "Succeeded")
    assert kl.kubectl("logs", "-n", NS, "inits", "-c", "c").stdout == "prepared\n"
    init = pod_json(kl, "inits")["status"]["initContainerStatuses"][0]
    assert init["state"]["terminated"]["reason"] == "Completed"


def test_a_node_whose_vm_stops_goes_unknown_and_its_processes_stop(kl):
    from kubernetes import client

    from lab_helpers.sandbox.store import Store

    store = Store(kl.state / "sandbox")  # the VM, as Nova keeps it (its status read from timed events)
    flavor = {"vcpus": 2, "ram": 4096, "disk": 20}
    store.put("server", "vm-kl", {"id": "vm-kl", "events": [[time.time() - 5, "ACTIVE"]], "flavor": flavor})
    admin = client.CoreV1Api(kl.api_client("sandbox-admin"))
    admin.create_node(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "kl-vm"},
            "spec": {"providerID": "openstack:///vm-kl"},
        }
    )

    def ready() -> str:
        conditions = admin.read_node("kl-vm").status.conditions or []
        return next((c.status for c in conditions if c.type == "Ready"), "")

    wait_for("the VM's node Ready", lambda: ready() == "True")
    apply(kl, pod("onvm", '  - {name: c, image: busybox, command: ["sleep", "600"]}').replace(NODE, "kl-vm"))
    wait_for("onvm Running", lambda: phase(kl, "onvm") == "Running")
    uid = pod_json(kl, "onvm")["metadata"]["uid"]
    state = json.loads((kl.state / "sandbox" / "kubelet" / "pods" / uid / "containers" / "c" / "0.json").read_text())
    assert _alive(state["pid"])
    server = store.get("server", "vm-kl")
    server["events"].append([time.time(), "SHUTOFF"])
    store.put("server", "vm-kl", server)
    wait_for("the node Unknown", lambda: ready() == "Unknown", timeout=10)
    wait_for("its container stopped with the machine", lambda: not _alive(state["pid"]), timeout=10)
    kl.kubectl("delete", "pod", "-n", NS, "onvm", "--force", "--grace-period=0", check=False)


def test_a_sidecar_runs_beside_the_container_and_stops_with_it(kl):
    apply(
        kl,
        pod(
            "withsidecar",
            '  - {name: c, image: busybox, command: ["sh", "-c", "sleep 1; cat /shared/beat"], '
            "volumeMounts: [{name: s, mountPath: /shared}]}",
            """  volumes: [{name: s, emptyDir: {}}]
  initContainers:
  - name: beat
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do echo alive > /shared/beat; sleep 0.2; done"]
    volumeMounts: [{name: s, mountPath: /shared}]""",
            restart="Never",
        ),
    )
    wait_for("withsidecar Succeeded", lambda: phase(kl, "withsidecar") == "Succeeded")
    assert kl.kubectl("logs", "-n", NS, "withsidecar", "-c", "c").stdout == "alive\n"
    sidecar = pod_json(kl, "withsidecar")["status"]["initContainerStatuses"][0]
    assert sidecar["name"] == "beat" and sidecar["state"]["terminated"]["exitCode"] == 0


def test_processes_stop_with_the_service_and_restart_after_kill_9(kl):
    from lab_helpers import sandbox as sb

    apply(kl, pod("survivor", '  - {name: c, image: busybox, command: ["sh", "-c", "echo up; sleep 600"]}'))
    wait_for("survivor Running", lambda: phase(kl, "survivor") == "Running")
    uid = pod_json(kl, "survivor")["metadata"]["uid"]
    folder = kl.state / "sandbox" / "kubelet" / "pods" / uid / "containers" / "c"
    first = json.loads((folder / "0.json").read_text())
    service = json.loads((kl.state / "sandbox" / "service.json").read_text())
    os.kill(service["pid"], signal.SIGKILL)
    wait_for("the service gone", lambda: not _alive(service["pid"]), timeout=10)
    assert _alive(first["pid"])  # a killed service leaves its containers running ...
    sb.start()
    wait_for("the old container killed", lambda: not _alive(first["pid"]), timeout=20)  # ... until it is back
    status = wait_for(
        "survivor restarted",
        lambda: (lambda cs: cs if cs.get("restartCount") == 1 and "running" in cs.get("state", {}) else None)(
            container_status(kl, "survivor")
        ),
        timeout=30,
    )
    assert status["lastState"]["terminated"]["exitCode"] == 137
    second = json.loads((folder / "1.json").read_text())
    sb.stop()
    assert not _alive(second["pid"])  # a stopped service stops its containers
    sb.start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
