"""Lab 05's grading corpus: the scores each submission must get, with lab 05's state checks read from the
submission's own sandbox cluster.

Auto-graded maximum: 21 points. Public: 05.workers-needed 2, 05.api-service 3, 05.model-on-gpu 3,
05.gpu-pending 2, 05.crash-loop 2, 05.cleanup-order 1. Hidden: 05.workers-needed:hidden 1 (re-derived
from the flavor table). In the cluster: 05.api-service:available 1 and :endpoints 1, 05.model-on-gpu:node
1 and :claim 1 (the claim Bound to a Cinder volume of its size, in use by the model on a GPU node), 05.gpu-pending:state 1, and
05.cleanup-order:cleanup 2 (no namespace, VM, volume or floating IP left). State points count only when
their exercise was answered.

Lab 05's own hostile cases (beside the shared set): one deletes the api Deployment the grader is about to
probe, one runs a pod that tries the host's network and another namespace, one a pod that never exits.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, before_check, builder, cell, fill

SETUP, WORKERS, SERVICE, MODEL, DRILL, CRASH, ORDER = (  # the answer cells' ids
    "5a0e0003",
    "5a0e000d",
    "5a0e0019",
    "5a0e0025",
    "5a0e002a",
    "5a0e0036",
    "5a0e003b",
)
FULL = 21
SERVICE_RIGHT = (
    'api_service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},\n'
    '               "spec": {"selector": {"app": "api"}, "ports": [{"port": 8080, "targetPort": 8080}]}}'
)
MODEL_RIGHT = (
    "model_pod_spec = {\n"
    '    "containers": [{**model_container, "resources": {"limits": {"nvidia.com/gpu": 1}}}],\n'
    '    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}],\n'
    '    "volumes": weights,\n'
    "}"
)
DRILL_RIGHT = (
    'pending_reason = next(e.message for e in core.list_namespaced_event(NS, field_selector="involvedObject.name=gpu-drill").items\n'
    '                      if e.reason == "FailedScheduling")'
)
CRASH_RIGHT = (
    'crash = {"waiting_reason": status.state.waiting.reason, "exit_code": status.last_state.terminated.exit_code,\n'
    '         "log_line": next(line for line in log.splitlines() if "weights" in line)}'
)


def fill_service(nb, code: str) -> None:
    """The Service's stub spans two lines (its ... values): both give way to ``code``."""
    fill(nb, SERVICE, 'api_service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},', code)
    fill(nb, SERVICE, '               "spec": {"selector": ..., "ports": [{"port": 8080, "targetPort": ...}]}}', "")


def right(nb) -> None:
    fill(nb, WORKERS, "workers = None", "workers = 3")
    fill_service(nb, SERVICE_RIGHT)
    fill(nb, MODEL, "model_pod_spec = {", MODEL_RIGHT)
    fill(nb, DRILL, "pending_reason = None", DRILL_RIGHT)
    fill(nb, CRASH, "crash = {", CRASH_RIGHT)
    fill(nb, ORDER, "order = None", 'order = ["namespace", "nodes", "node VMs"]')


def partly_wrong(nb) -> None:
    """The sum of the requests (2: 0, hidden 0), the Service right (3 + 2), the model without its toleration
    (it lands on a CPU worker: 1.5 of 3, not on a GPU node: 0, so its claim's volume serves no GPU model: 0),
    the drill and the crash right (2 + 1, 2), the order wrong (0; the cleanup cell still leaves nothing: 2): 13.5."""
    fill(nb, WORKERS, "workers = None", "workers = 2")
    fill_service(nb, SERVICE_RIGHT)
    fill(
        nb,
        MODEL,
        "model_pod_spec = {",
        'model_pod_spec = {"containers": [{**model_container, "resources": {"limits": {"nvidia.com/gpu": 1}}}],\n'
        '                  "volumes": weights}',
    )
    fill(nb, DRILL, "pending_reason = None", DRILL_RIGHT)
    fill(nb, CRASH, "crash = {", CRASH_RIGHT)
    fill(nb, ORDER, "order = None", 'order = ["node VMs", "nodes", "namespace"]')


def wrong(nb) -> None:
    """Wrong answers, the later exercises left undone: 0."""
    fill(nb, WORKERS, "workers = None", "workers = 1")
    fill_service(nb, SERVICE_RIGHT.replace('{"app": "api"}', '{"app": "nothing"}'))


# --- lab 05's own hostile cells ----------------------------------------------------------------------

# Deletes what the grader's probe reads right after the cell: the api Deployment (and so its endpoints).
DELETE_PROBED = '_ = apps.delete_namespaced_deployment("api", NS, grace_period_seconds=0)'

# A pod that tries the host's network (addresses outside the submission's network namespace) and, with the
# pod's service account, another namespace's secrets through the cluster's API; then the kernel lists
# another namespace with the learner's own credentials. The answer stays right only if nothing was reached.
# (Python from the sample-api image, whose interpreter is the course's own, run from a file: busybox's wget
# does not run in the sandbox's containers, and a probe that cannot run proves nothing, so no output is a leak.)
REACH_OUT = """import time

probe = '''
import os, socket, ssl, urllib.request
seen = []
for host in ("10.255.255.1", "203.0.113.1"):
    try:
        socket.create_connection((host, 80), timeout=3).close()
        seen.append("HOST-REACHED " + host)
    except OSError as exc:
        seen.append(host + ": " + (exc.strerror or type(exc).__name__))
token = "/var/run/secrets/kubernetes.io/serviceaccount/token"
api = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
url = "https://" + api + ":" + os.environ.get("KUBERNETES_SERVICE_PORT", "443") + "/api/v1/namespaces/kube-system/secrets"
headers = {"Authorization": "Bearer " + open(token).read().strip()} if os.path.exists(token) else {}
try:
    urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=3,
                           context=ssl._create_unverified_context())
    seen.append("OTHER-NAMESPACE-READ")
except Exception as exc:
    seen.append("kube-system secrets: " + str(exc)[:80])
print("; ".join(seen))
'''
reach = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reach-out"}, "spec": {"restartPolicy": "Never",
         "containers": [{"name": "c", "image": f"{IMAGES}/sample-api:1.0.0", "env": [{"name": "PROBE", "value": probe}],
         "command": ["sh", "-c", 'printf "%s" "$PROBE" > /tmp/probe.py && exec python /tmp/probe.py']}]}}
core.create_namespaced_pod(NS, reach)
for _ in range(100):
    if core.read_namespaced_pod("reach-out", NS).status.phase in ("Succeeded", "Failed"):
        break
    time.sleep(0.2)
seen = core.read_namespaced_pod_log("reach-out", NS, _preload_content=False).data.decode()
try:
    core.list_namespaced_pod("kube-system")
    seen += " OTHER-NAMESPACE-LISTED"
except client.ApiException as exc:
    seen += f" kube-system pods: {exc.status} {exc.reason}"
print("the reaching pod saw:", " ".join(seen.split())[:400])
if "REACHED" in seen or "OTHER-NAMESPACE" in seen or "10.255.255.1" not in seen:
    workers = "LEAKED " + seen[:200]"""

# A pod that ignores SIGTERM and never exits: the cleanup must still remove the namespace and the cluster.
NEVER_EXITS = """stubborn = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "never-exits"}, "spec": {
    "terminationGracePeriodSeconds": 5, "containers": [{"name": "c", "image": "busybox",
    "command": ["sh", "-c", "trap '' TERM INT; while true; do sleep 1; done"]}]}}
core.create_namespaced_pod(NS, stubborn)"""


def delete_probed(nb) -> None:
    right(nb)
    target = cell(nb, SERVICE)
    target.source = target.source + "\n" + DELETE_PROBED


def reach_out(nb) -> None:
    right(nb)
    before_check(nb, WORKERS, REACH_OUT)


def never_exits(nb) -> None:
    right(nb)
    before_check(nb, ORDER, NEVER_EXITS)


SPEC = LabCorpus(
    lab="05",
    checks=[
        "05.workers-needed",
        "05.api-service",
        "05.model-on-gpu",
        "05.gpu-pending",
        "05.crash-loop",
        "05.cleanup-order",
    ],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=WORKERS,
    late=ORDER,  # a cell that needs nothing before it: the reordered case moves it above the first exercise
    slot=(WORKERS, "workers", "3"),
    deleted=(SETUP, ORDER),
    scores={
        "correct": FULL,
        "partly-wrong": 13.5,
        "untouched": 0,  # the stub's model runs on a CPU worker: its claim serves no GPU model
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 3,  # the workers (2 + hidden 1), captured before the loop
        "memory-bomb": FULL,
        "sys-exit": FULL,
        "os-exit": 3,
        "kill-kernel": FULL - 2,  # killed after the order: the cleanup cell never ran, so its state check is not done
        "deleted-cells": FULL - 3,  # the order's cell deleted: restored as released, not done (1, and its cleanup 2)
        "duplicated-reordered": FULL,
        "redefined-check": 0,
        "monkeypatch": 0,
        "fake-pass-lines": 0,
        "read-hidden": FULL,
        "huge-output": FULL,
        "network-call": FULL,
    },
)

# lab 05's own cases: name -> (how to build it, the score it must get)
OWN = {
    "delete-probed": (delete_probed, FULL - 2),  # the api Deployment gone before the probe: 0 of its 2 state points
    "reach-out": (reach_out, FULL),
    "never-exits": (never_exits, FULL),
}


build = builder(SPEC, OWN)
