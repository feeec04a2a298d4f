"""`lab bench cluster`: how fast the sandbox's Kubernetes API answers its real clients (client code:
it drives a temporary sandbox from outside, with kubectl, helm and the ``kubernetes`` client, as a
learner does).

Runs against a sandbox of its own temporary state directory (its cluster made by ``lab cluster
create`` there), so the learner's cloud and cluster are never touched. Every figure is measured
with 100 and with 1,000 objects in the namespace (ConfigMaps: cheap filler that every list of the
namespace's store passes over):

- ``kubectl get pods`` and ``kubectl get configmaps``: the whole command, its start-up included
  (the goal: p50 under 150 ms);
- the Python client's list, and a watch's event latency (create -> ADDED seen by a watch open
  since before the create);
- apply-to-Ready of a 3-replica Deployment (``kubectl apply``, then until ``readyReplicas`` is 3;
  the goal: within the configured pod start delay plus 1 s);
- ``helm install --wait`` of the chart ``helm create`` writes.

The largest count is measured a second time with the controllers at work: the namespace holds that
many objects of the kinds they act on (Deployments with running pods, Services with their
endpoints, Secrets, ConfigMaps), and a Deployment is scaled between 0 and 5 replicas every second
throughout.

Then part 2's kinds once: a claim's create to ``Bound`` (a sandbox Cinder volume made for it), and
GETs through the cluster's ingress port beside the same GETs straight to the Service.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import LabError, MissingPiece, ServiceError
from ..kube.client import LEARNER_CONTEXT
from ..sandbox.service import SUBDIR

KUBECTL_GET_GOAL_MS = 150.0
READY_MARGIN_S = 1.0
DEFAULT_OBJECTS = (100, 1000)


@dataclass(frozen=True)
class BenchRow:
    name: str
    n: int
    p50_ms: float
    p95_ms: float
    note: str = ""
    objects: int = 0  # objects in the namespace while it was measured (0: not a per-namespace figure)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row(name: str, samples_s: list[float], note: str = "") -> BenchRow:
    ms = sorted(s * 1000 for s in samples_s)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return BenchRow(name, len(ms), round(statistics.median(ms), 2), round(p95, 2), note)


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def _timed(n: int, call: Callable[[], Any]) -> list[float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    return samples


def _tool_dir() -> Path | None:
    """The folder of the kubectl and helm to use: the course's own, else the ones on PATH (None: neither)."""
    from ..tools import installed, tools_dir

    if {"kubectl", "helm"} <= set(installed()):
        return tools_dir()
    kubectl, helm = shutil.which("kubectl"), shutil.which("helm")
    if kubectl and helm and Path(kubectl).parent == Path(helm).parent:
        return Path(kubectl).parent
    return None


class _Clients:
    """kubectl, helm and the Python client pointed at the temporary sandbox."""

    def __init__(self, tmp: Path, tools: Path) -> None:
        self.tmp = tmp
        self.kubeconfig = tmp / SUBDIR / "kubeconfig"  # the sandbox folder of that state directory
        self.env = dict(os.environ)
        self.env.update(
            {
                "LAB_STATE_DIR": str(tmp),
                "PATH": f"{tools}{os.pathsep}{self.env.get('PATH', '')}",
                "KUBECONFIG": str(self.kubeconfig),
                "KUBECACHEDIR": str(tmp / "kube-cache"),
                "HELM_CACHE_HOME": str(tmp / "helm" / "cache"),
                "HELM_CONFIG_HOME": str(tmp / "helm" / "config"),
                "HELM_DATA_HOME": str(tmp / "helm" / "data"),
            }
        )
        for var in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "LAB_BACKEND"):
            self.env.pop(var, None)
        self.tools = tools

    def run(self, *cmd: str, timeout: float = 180, stdin: str | None = None) -> str:
        done = subprocess.run(
            list(cmd), env=self.env, cwd=self.tmp, capture_output=True, text=True, timeout=timeout, input=stdin
        )
        if done.returncode != 0:
            raise ServiceError(
                f"`{' '.join(cmd[:4])}` exited {done.returncode} in the benchmark's sandbox: "
                f"{(done.stderr or done.stdout).strip()[-400:]}",
                hint="Run the tests of the sandbox cluster (pytest tests/test_k8s_transcripts.py) to see what fails.",
            )
        return done.stdout

    def kubectl(self, *args: str, **kw: Any) -> str:
        return self.run(str(self.tools / "kubectl"), *args, **kw)

    def helm(self, *args: str, **kw: Any) -> str:
        return self.run(str(self.tools / "helm"), *args, **kw)

    def api(self) -> Any:
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig), context=LEARNER_CONTEXT)


def _fill(core: Any, namespace: str, count: int) -> None:
    """``count`` ConfigMaps in ``namespace`` (a few requests at a time)."""

    def make(i: int) -> None:
        body = {"metadata": {"name": f"filler-{i:05d}", "labels": {"bench": "filler"}}, "data": {"i": str(i)}}
        core.create_namespaced_config_map(namespace, body)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(make, range(count)))


def _watch_latency(core: Any, namespace: str, n: int) -> list[float]:
    """Seconds from just before each create until a watch open since before it reports the ADDED event."""
    from kubernetes import watch

    rv = core.list_namespaced_config_map(namespace, limit=1).metadata.resource_version
    seen: dict[str, float] = {}
    changed = threading.Condition()
    stream = watch.Watch()

    def follow() -> None:
        for event in stream.stream(
            core.list_namespaced_config_map,
            namespace,
            label_selector="bench-watch",
            resource_version=rv,
            timeout_seconds=300,
        ):
            if event["type"] == "ADDED":
                with changed:
                    seen[event["object"].metadata.name] = time.perf_counter()
                    changed.notify_all()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    samples = []
    for i in range(n + 1):  # the first one opens the stream: not counted
        name = f"watched-{i}"
        t = time.perf_counter()
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": {"bench-watch": "1"}}})
        with changed:
            if not changed.wait_for(lambda: name in seen, timeout=30):  # noqa: B023 (waited for within the loop)
                raise ServiceError(
                    f"a watch did not report {name} within 30 s.", hint="Run the sandbox cluster's watch tests."
                )
        if i:
            samples.append(seen[name] - t)
    stream.stop()
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "watched-end", "labels": {"bench-watch": "1"}}})
    thread.join(5)
    return samples


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - {{name: main, image: busybox, command: [sleep, "3600"]}}
"""


def _apply_to_ready(clients: _Clients, apps: Any, namespace: str, n: int) -> list[float]:
    """``kubectl apply`` of a 3-replica Deployment until its ``readyReplicas`` is 3, each then deleted."""
    samples = []
    for i in range(n):
        name = f"ready-{i}"
        t = time.perf_counter()
        clients.kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT.format(name=name))
        deadline = t + 120
        while (apps.read_namespaced_deployment_status(name, namespace).status.ready_replicas or 0) < 3:
            if time.perf_counter() > deadline:
                raise ServiceError(
                    f"deployment {name} was not Ready within 120 s.", hint="Run the sandbox cluster's tests."
                )
            time.sleep(0.01)
        samples.append(time.perf_counter() - t)
        apps.delete_namespaced_deployment(name, namespace, propagation_policy="Background")
    return samples


def _helm_installs(clients: _Clients, chart: Path, namespace: str, n: int) -> list[float]:
    samples = []
    for i in range(n):
        release = f"{namespace}-{i}"
        t = time.perf_counter()
        clients.helm("install", release, str(chart), "-n", namespace, "--wait", "--timeout", "120s", timeout=180)
        samples.append(time.perf_counter() - t)
        clients.helm("uninstall", release, "-n", namespace)
    return samples


def _fill_busy(core: Any, apps: Any, namespace: str, count: int) -> None:
    """``count`` objects of the kinds controllers act on: one Deployment per 50 (each with its ReplicaSet
    and a pod that runs), one Service per 20 (each with its Endpoints and EndpointSlice), and Secrets and
    ConfigMaps for the rest."""
    deployments, services = max(1, count // 50), max(1, count // 20)
    plan = ["deployment"] * deployments + ["service"] * services
    plan += ["secret" if k % 2 else "configmap" for k in range(max(0, count - 3 * len(plan)))]

    def make(item: tuple[int, str]) -> None:
        i, kind = item
        name = f"busy-{i:04d}"
        if kind == "deployment":
            body = yaml_doc(DEPLOYMENT.format(name=name))
            body["spec"]["replicas"] = 1
            apps.create_namespaced_deployment(namespace, body)
        elif kind == "service":
            spec = {"selector": {"app": f"busy-{i - deployments:04d}"}, "ports": [{"port": 80}]}
            core.create_namespaced_service(namespace, {"metadata": {"name": name}, "spec": spec})
        elif kind == "secret":
            core.create_namespaced_secret(namespace, {"metadata": {"name": name}, "stringData": {"i": str(i)}})
        else:
            core.create_namespaced_config_map(namespace, {"metadata": {"name": name}, "data": {"i": str(i)}})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(make, enumerate(plan)))


def yaml_doc(text: str) -> dict[str, Any]:
    import yaml

    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


class _Churn:
    """A Deployment scaled between 0 and 5 replicas every second while the figures are measured, so the
    scheduler, the ReplicaSet, endpoints and garbage-collection controllers are at work throughout."""

    def __init__(self, apps: Any, namespace: str) -> None:
        self.apps, self.namespace = apps, namespace
        self.stopping = threading.Event()
        self.scales = 0
        body = yaml_doc(DEPLOYMENT.format(name="churn"))
        body["spec"]["replicas"] = 0
        apps.create_namespaced_deployment(namespace, body)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        replicas = 5
        while not self.stopping.wait(1.0):
            self.apps.patch_namespaced_deployment_scale("churn", self.namespace, {"spec": {"replicas": replicas}})
            self.scales += 1
            replicas = 0 if replicas else 5

    def __enter__(self) -> _Churn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(10)


def _namespace_rows(
    clients: _Clients, chart: Path, count: int, n: int, pod_start: float, busy: bool = False
) -> list[BenchRow]:
    from kubernetes import client

    api = clients.api()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    ns = f"bench-busy-{count}" if busy else f"bench-{count}"
    clients.kubectl("create", "namespace", ns)
    if busy:
        _fill_busy(core, apps, ns, count)
        with _Churn(apps, ns):
            rows = _figures(
                clients, chart, core, apps, ns, count, n, pod_start, f" ({count} objects, controllers busy)"
            )
    else:
        _fill(core, ns, count)
        rows = _figures(clients, chart, core, apps, ns, count, n, pod_start, f" ({count} objects)")
    api.close()
    return rows


def _figures(
    clients: _Clients, chart: Path, core: Any, apps: Any, ns: str, count: int, n: int, pod_start: float, where: str
) -> list[BenchRow]:
    get_pods = _row("kubectl get pods" + where, _timed(n, lambda: clients.kubectl("get", "pods", "-n", ns)))
    rows = [
        replace(
            get_pods,
            note=f"goal p50 < {KUBECTL_GET_GOAL_MS:g} ms ({_verdict(get_pods.p50_ms <= KUBECTL_GET_GOAL_MS)}); "
            "kubectl's start-up included",
        ),
        _row(
            "kubectl get configmaps" + where,
            _timed(n, lambda: clients.kubectl("get", "configmaps", "-n", ns)),
            "every ConfigMap of the namespace; kubectl's start-up included",
        ),
        _row("Python client: list pods" + where, _timed(n, lambda: core.list_namespaced_pod(ns))),
        _row(
            "Python client: list configmaps" + where,
            _timed(n, lambda: core.list_namespaced_config_map(ns)),
            "every ConfigMap of the namespace, as typed models",
        ),
        _row(
            "watch: create -> ADDED seen" + where,
            _watch_latency(core, ns, n),
            "Python client; the create's own request included",
        ),
    ]
    ready = _row(
        "apply-to-Ready, 3-replica Deployment" + where, _apply_to_ready(clients, apps, ns, max(1, min(5, n // 2)))
    )
    ready_ms = (pod_start + READY_MARGIN_S) * 1000
    rows.append(
        replace(
            ready,
            note=f"goal: within the pod start delay + {READY_MARGIN_S:g} s = {ready_ms:.0f} ms "
            f"({_verdict(ready.p50_ms <= ready_ms)} at p50)",
        )
    )
    rows.append(
        _row(
            "helm install --wait (helm create's chart)" + where,
            _helm_installs(clients, chart, ns, max(1, min(3, n // 5))),
            "nginx behind a readiness probe",
        )
    )
    return [replace(r, objects=count) for r in rows]


def _claims_bound(core: Any, namespace: str, n: int) -> list[BenchRow]:
    """Seconds from a claim's create (1 GiB, the default StorageClass) to its ``Bound`` phase, the sandbox
    Cinder volume made on the way; each claim deleted after (its volume with it: reclaim Delete)."""
    samples = []
    for i in range(n):
        name = f"bench-claim-{i}"
        body = {
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
        t = time.perf_counter()
        core.create_namespaced_persistent_volume_claim(namespace, body)
        deadline = t + 60
        while core.read_namespaced_persistent_volume_claim(name, namespace).status.phase != "Bound":
            if time.perf_counter() > deadline:
                raise ServiceError(f"claim {name} was not Bound within 60 s.", hint="Run the sandbox storage tests.")
            time.sleep(0.01)
        samples.append(time.perf_counter() - t)
        core.delete_namespaced_persistent_volume_claim(name, namespace)
    return [_row("PVC create -> Bound (1 GiB, default class)", samples, "a sandbox Cinder volume made for each")]


INGRESS_APP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: nginx, readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.localhost
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""


def _ingress_rows(clients: _Clients, core: Any, namespace: str, n: int) -> list[BenchRow]:
    """GETs of nginx's page through the cluster's ingress port (Host routed) and straight to the Service's
    address, each on a new connection as a browser's first request is."""
    import requests
    from kubernetes import client

    clients.kubectl("apply", "-n", namespace, "-f", "-", stdin=INGRESS_APP)
    clients.kubectl("rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")
    net = client.NetworkingV1Api(core.api_client)
    deadline = time.perf_counter() + 60
    while True:
        lb = (net.read_namespaced_ingress("web", namespace).status.load_balancer.ingress or [None])[0]
        if lb is not None and lb.ports:
            break
        if time.perf_counter() > deadline:
            raise ServiceError("the ingress got no address within 60 s.", hint="Run the sandbox ingress tests.")
        time.sleep(0.05)
    via = f"http://{lb.ip}:{lb.ports[0].port}/"
    svc = core.read_namespaced_service("web", namespace)
    direct = f"http://{svc.spec.cluster_ip}:80/"
    while requests.get(via, headers={"Host": "web.localhost"}, timeout=10).status_code != 200:
        if time.perf_counter() > deadline:
            raise ServiceError("the ingress did not answer 200 within 60 s.", hint="Run the sandbox ingress tests.")
        time.sleep(0.1)

    def get(url: str, host: str | None = None) -> None:
        answer = requests.get(url, headers={"Host": host} if host else {}, timeout=10)
        if answer.status_code != 200:
            raise ServiceError(f"GET {url} answered {answer.status_code}.", hint="Run the sandbox ingress tests.")

    count = max(20, n * 10)
    return [
        _row(
            "ingress: GET / through the ingress port",
            _timed(count, lambda: get(via, "web.localhost")),
            "nginx in a pod; Host header routed; a new connection each",
        ),  # fmt: skip
        _row("ingress: GET / straight to the Service", _timed(count, lambda: get(direct)), "for comparison"),
    ]


def _cloud_rows(clients: _Clients, n: int) -> list[BenchRow]:
    """The figures of part 2's kinds: claims bound to cloud volumes, requests through the ingress."""
    from kubernetes import client

    api = clients.api()
    core = client.CoreV1Api(api)
    ns = "bench-part2"
    clients.kubectl("create", "namespace", ns)
    try:
        return _claims_bound(core, ns, max(3, min(10, n))) + _ingress_rows(clients, core, ns, n)
    finally:
        api.close()


def run(n: int = 20, objects: Iterable[int] = DEFAULT_OBJECTS) -> list[BenchRow]:
    """Measure a temporary sandbox and cluster of their own folder; the learner's are untouched.

    kubectl and helm are the course's own (``lab tools install``) or, without them, the ones on PATH."""
    from ..config import pod_start_seconds
    from ..sandbox import start, stop

    tools = _tool_dir()
    if tools is None:
        raise MissingPiece(
            "the cluster benchmark runs the real kubectl and helm: neither the course's nor a pair on PATH was found.",
            hint="Run `lab tools install`, then `lab bench cluster` again.",
        )
    pod_start = pod_start_seconds()
    tmp = Path(tempfile.mkdtemp(prefix="lab-bench-cluster-"))
    root = tmp / SUBDIR
    clients = _Clients(tmp, tools)
    rows: list[BenchRow] = []
    try:
        t = time.perf_counter()
        start(root=root)
        rows.append(_row("start the service", [time.perf_counter() - t]))
        t = time.perf_counter()
        clients.run(sys.executable, "-m", "lab_helpers", "cluster", "create", timeout=300)
        rows.append(_row("lab cluster create (3 nodes Ready)", [time.perf_counter() - t], "VMs boot, Nodes register"))
        t = time.perf_counter()
        clients.kubectl("get", "nodes")
        rows.append(_row("first kubectl get nodes", [time.perf_counter() - t], "discovery cache cold"))
        clients.helm("create", "demo")
        counts = list(objects)
        for count in counts:
            rows.extend(_namespace_rows(clients, tmp / "demo", count, n, pod_start))
        if counts:
            rows.extend(_namespace_rows(clients, tmp / "demo", max(counts), n, pod_start, busy=True))
        rows.extend(_cloud_rows(clients, n))
    except LabError as err:
        kept = _keep_evidence(clients, root)
        raise type(err)(err.message, hint=f"{err.hint} What the cluster held then is in {kept}.".strip()) from None
    finally:
        stop(root=root)
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _keep_evidence(clients: _Clients, root: Path) -> Path:
    """A failed run's temporary sandbox is removed: keep its service log and what the cluster held (the
    admin's view of workloads and events) in the learner's state directory, for a bug report."""
    from ..config import state_dir

    dest = state_dir() / "bench-cluster-failure"
    dest.mkdir(parents=True, exist_ok=True)
    if (root / "sandbox.log").exists():
        shutil.copyfile(root / "sandbox.log", dest / "sandbox.log")
    for name, args in (
        ("workloads.txt", ("get", "nodes,deployments,replicasets,pods", "-A", "-o", "wide")),
        ("events.txt", ("get", "events", "-A", "--sort-by=.lastTimestamp")),
    ):
        try:
            text = clients.kubectl("--context", "sandbox-admin", *args, timeout=60)
        except (LabError, OSError, subprocess.SubprocessError) as exc:
            text = f"kubectl {' '.join(args)} failed: {exc}\n"
        (dest / name).write_text(text, encoding="utf-8")
    return dest


def table(rows: list[BenchRow]) -> str:
    width = max(len(r.name) for r in rows)
    lines = [f"{'call (real client -> sandbox cluster)':<{width}}  {'n':>4}  {'p50 ms':>9}  {'p95 ms':>9}  note"]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.n:>4}  {r.p50_ms:>9.2f}  {r.p95_ms:>9.2f}  {r.note}")
    return "\n".join(lines)
