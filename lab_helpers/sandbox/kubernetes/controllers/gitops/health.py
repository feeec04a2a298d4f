"""Resource health as Argo CD assesses it (gitops-engine's health checks, described in Argo CD's "Resource
Health" page): each kind its own rule, a kind without one has no health, and an Application's health is
the worst of its resources'."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN = (
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
)
ORDER = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)  # best to worst
BAD_WAITING = ("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "InvalidImageName", "CreateContainerConfigError")


def worst(statuses: list[str]) -> str:
    """The worst of several health statuses (Healthy when there are none)."""
    return max(statuses, key=ORDER.index, default=HEALTHY)


def _cond(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def _generation_seen(obj: Obj) -> bool:
    gen = (obj.get("metadata") or {}).get("generation")
    seen = (obj.get("status") or {}).get("observedGeneration")
    return gen is None or (seen is not None and int(seen) >= int(gen))


def deployment(obj: Obj) -> tuple[str, str]:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    if spec.get("paused"):
        return SUSPENDED, "Deployment is paused"
    if not _generation_seen(obj):
        return PROGRESSING, "Waiting for rollout to finish: observed deployment generation less than desired generation"
    progressing = _cond(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        name = obj["metadata"]["name"]
        return DEGRADED, f'Deployment "{name}" exceeded its progress deadline'
    want = int(spec.get("replicas", 1))
    updated, total = int(st.get("updatedReplicas", 0)), int(st.get("replicas", 0))
    available = int(st.get("availableReplicas", 0))
    if updated < want:
        return PROGRESSING, f"Waiting for rollout to finish: {updated} out of {want} new replicas have been updated..."
    if total > updated:
        return PROGRESSING, f"Waiting for rollout to finish: {total - updated} old replicas are pending termination..."
    if available < updated:
        return PROGRESSING, f"Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
    return HEALTHY, ""


def replicaset(obj: Obj) -> tuple[str, str]:
    if not _generation_seen(obj):
        return (
            PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        )
    failure = _cond(obj, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        return DEGRADED, str(failure.get("message", ""))
    want, available = (
        int((obj.get("spec") or {}).get("replicas", 1)),
        int((obj.get("status") or {}).get("availableReplicas", 0)),
    )
    if available < want:
        return PROGRESSING, f"Waiting for rollout to finish: {available} out of {want} new replicas are available..."
    return HEALTHY, ""


def statefulset(obj: Obj) -> tuple[str, str]:
    if not _generation_seen(obj):
        return PROGRESSING, "Waiting for statefulset spec update to be observed..."
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    want, ready = int(spec.get("replicas", 1)), int(st.get("readyReplicas", 0))
    if ready < want:
        return PROGRESSING, f"Waiting for {want - ready} pods to be ready..."
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
        if st.get("updateRevision") and st.get("currentRevision") != st.get("updateRevision"):
            return PROGRESSING, "waiting for statefulset rolling update to complete"
    return HEALTHY, ""


def daemonset(obj: Obj) -> tuple[str, str]:
    if not _generation_seen(obj):
        return PROGRESSING, "Waiting for rollout to finish: observed daemon set generation less than desired generation"
    st = obj.get("status") or {}
    want = int(st.get("desiredNumberScheduled", 0))
    if int(st.get("updatedNumberScheduled", 0)) < want or int(st.get("numberAvailable", 0)) < want:
        return (
            PROGRESSING,
            f"Waiting for daemon set rollout: {st.get('numberAvailable', 0)} of {want} pods are available...",
        )
    return HEALTHY, ""


def pod(obj: Obj) -> tuple[str, str]:
    st = obj.get("status") or {}
    phase = st.get("phase", "Pending")
    for cs in [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in BAD_WAITING:
            return DEGRADED, str(waiting.get("message") or waiting.get("reason"))
    if phase == "Succeeded":
        return HEALTHY, str(st.get("message", ""))
    if phase == "Failed":
        return DEGRADED, str(st.get("message", "") or st.get("reason", ""))
    if phase == "Running":
        restart = (obj.get("spec") or {}).get("restartPolicy", "Always")
        ready = _cond(obj, "Ready")
        if restart != "Always" or (ready and ready.get("status") == "True"):
            return HEALTHY, ""
    return PROGRESSING, str(st.get("message", ""))


def service(obj: Obj) -> tuple[str, str]:
    if (obj.get("spec") or {}).get("type") == "LoadBalancer":
        if ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            return HEALTHY, ""
        return PROGRESSING, "Waiting for the load balancer's address"
    return HEALTHY, ""


def ingress(obj: Obj) -> tuple[str, str]:
    if ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
        return HEALTHY, ""
    return PROGRESSING, "Waiting for the ingress controller to publish an address"


def pvc(obj: Obj) -> tuple[str, str]:
    phase = (obj.get("status") or {}).get("phase", "Pending")
    if phase == "Bound":
        return HEALTHY, ""
    if phase == "Lost":
        return DEGRADED, "the claim's volume is lost"
    return PROGRESSING, "Waiting for the claim to be bound"


def job(obj: Obj) -> tuple[str, str]:
    for kind, health in (("Failed", DEGRADED), ("Complete", HEALTHY), ("SuccessCriteriaMet", HEALTHY)):
        cond = _cond(obj, kind)
        if cond and cond.get("status") == "True":
            return health, str(cond.get("message", ""))
    if (obj.get("spec") or {}).get("suspend"):
        return SUSPENDED, "Job is suspended"
    return PROGRESSING, "Job is running"


def application(obj: Obj) -> tuple[str, str]:
    health = (obj.get("status") or {}).get("health") or {}
    return str(health.get("status") or PROGRESSING), str(health.get("message", ""))


RULES = {
    ("apps", "Deployment"): deployment,
    ("apps", "ReplicaSet"): replicaset,
    ("apps", "StatefulSet"): statefulset,
    ("apps", "DaemonSet"): daemonset,
    ("", "Pod"): pod,
    ("", "Service"): service,
    ("", "PersistentVolumeClaim"): pvc,
    ("networking.k8s.io", "Ingress"): ingress,
    ("batch", "Job"): job,
    ("argoproj.io", "Application"): application,
}


def assess(obj: Obj | None, group: str, kind: str) -> tuple[str, str] | None:
    """(status, message) of one resource; Missing when absent; None for a kind without a health rule."""
    if obj is None:
        return MISSING, ""
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return PROGRESSING, "Pending deletion"
    rule = RULES.get((group, kind))
    return rule(obj) if rule else None
