"""The objects one graded submission becomes on a cluster: a ConfigMap (what it runs), a Job (how),
and, once per namespace, a NetworkPolicy denying all traffic to and from the graders' pods.

Everything the pod is allowed is declared here, so a real cluster enforces it (the sandbox's
process pods do not, which is why the pod's grader also isolates the kernel itself, see
:mod:`.pod`):

- non-root (uid 65534), no privilege escalation, every capability dropped, a read-only root file
  system (the only writable place is an ``emptyDir`` at ``/tmp``), the runtime's default seccomp
  profile, no service account token, no Service links in the environment;
- CPU and memory requests and limits from :class:`~lab_helpers.grading.isolation.Limits`;
- ``activeDeadlineSeconds`` from the notebook limit plus the pod's start-up margin;
- ``backoffLimit: 0``: a failed pod is retried once by the grader, which knows the reason;
- for a lab whose kernel runs kubectl and helm (lab 05), ``LAB_TOOLS_DIR`` names the image's pinned
  copies (:data:`TOOLS_DIR`, installed by the Dockerfile's ``grader`` target and verified by digest),
  read-only under the read-only root; the pod's grader binds them read-only into each kernel's root.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from ..isolation import NOBODY_UID, Limits

APP = "lab-grade"
NAME_LABEL = "app.kubernetes.io/name"
RUN_LABEL = "visualizing-compute/grading-run"
LAB_LABEL = "visualizing-compute/lab"
SUBMISSION_ANNOTATION = "visualizing-compute/submission"
POLICY_NAME = "lab-grade-deny-all"
PAYLOAD_DIR = "/payload"
PAYLOAD_FILE = "job.json"
SCRATCH_DIR = "/tmp"
START_MARGIN_S = 120.0  # pulling the image, booting a sandbox cloud, starting the kernel: outside notebook_s
GRADER_OVERHEAD_MB = 512  # the grader's own Python and the submission's sandbox cloud, besides the kernel
TOOLS_DIR = "/opt/visualizing-compute/tools"  # the image's pinned kubectl and helm (Dockerfile, registry.yaml)
TOOLS_ENV = "LAB_TOOLS_DIR"


def job_name(lab: str, submission: str, attempt: int = 0) -> str:
    """A DNS-1123 name, stable for a submission (so a re-run finds its own Job), one per attempt."""
    digest = hashlib.sha256(submission.encode()).hexdigest()[:10]
    return f"{APP}-{lab}-{digest}" + (f"-r{attempt}" if attempt else "")


def pod_resources(limits: Limits) -> dict[str, dict[str, str]]:
    """Requests and limits of the grader's container.

    The kernel's address-space limit (``memory_mb``) is an upper bound its resident memory rarely
    reaches, so the request is half of it plus the grader's own share, and the limit all of it plus
    that share. One CPU each way: a kernel runs one cell at a time with one BLAS thread.
    """
    request_mb = limits.memory_mb // 2 + GRADER_OVERHEAD_MB
    limit_mb = limits.memory_mb + GRADER_OVERHEAD_MB
    scratch_mb = 2 * limits.file_mb + 256
    return {
        "requests": {"cpu": "1", "memory": f"{request_mb}Mi", "ephemeral-storage": f"{scratch_mb}Mi"},
        "limits": {"cpu": "1", "memory": f"{limit_mb}Mi", "ephemeral-storage": f"{scratch_mb}Mi"},
    }


def deadline_seconds(limits: Limits) -> int:
    return int(math.ceil(limits.notebook_s + START_MARGIN_S))


def labels(lab: str, run: str) -> dict[str, str]:
    return {NAME_LABEL: APP, "app.kubernetes.io/component": "grader", RUN_LABEL: run, LAB_LABEL: lab}


def payload_config_map(name: str, lab: str, run: str, payload_json: str) -> dict[str, Any]:
    """The sanitised submission and how to run it (never the key: no hidden check, no judge)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels(lab, run)},
        "data": {PAYLOAD_FILE: payload_json},
    }


def grading_job(
    name: str,
    *,
    lab: str,
    run: str,
    submission: str,
    image: str,
    limits: Limits,
    env: dict[str, str],
    tools: bool = False,
) -> dict[str, Any]:
    """The Job that executes one sanitised submission; its pod prints the answer log and exits.

    ``tools``: the kernel runs kubectl and helm, so ``LAB_TOOLS_DIR`` names the image's read-only copies.
    """
    if tools:
        env = {**env, TOOLS_ENV: TOOLS_DIR}
    security = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": NOBODY_UID,
        "runAsGroup": NOBODY_UID,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    scratch_mb = 2 * limits.file_mb + 256
    container = {
        "name": "grade",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "lab_helpers.grading.kubernetes.pod", f"{PAYLOAD_DIR}/{PAYLOAD_FILE}"],
        "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
        "resources": pod_resources(limits),
        "securityContext": security,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "payload", "mountPath": PAYLOAD_DIR, "readOnly": True},
            {"name": "scratch", "mountPath": SCRATCH_DIR},
        ],
    }
    pod_labels = labels(lab, run)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": pod_labels, "annotations": {SUBMISSION_ANNOTATION: submission[-250:]}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds(limits),
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": NOBODY_UID,
                        "runAsGroup": NOBODY_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "payload", "configMap": {"name": name}},
                        {"name": "scratch", "emptyDir": {"sizeLimit": f"{scratch_mb}Mi"}},
                    ],
                },
            },
        },
    }


def deny_all_policy() -> dict[str, Any]:
    """No traffic in or out of any grader pod: not to the cluster, not to the internet, not to DNS."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": POLICY_NAME, "labels": {NAME_LABEL: APP}},
        "spec": {
            "podSelector": {"matchLabels": {NAME_LABEL: APP}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [],
        },
    }
