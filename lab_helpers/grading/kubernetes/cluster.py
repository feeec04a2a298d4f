"""The grader's side of the cluster: create, watch, read and delete grading Jobs, and say why one failed.

Talks to the API with the real ``kubernetes`` client through a kubeconfig (``$KUBECONFIG``, or the
sandbox's), as ``kubectl`` would with the same context. Reads take raw JSON, so the few fields the
grader needs are read the same way from the sandbox and from a real cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ...config import SANDBOX
from ...errors import ServiceError, UsageError
from .manifests import NAME_LABEL, RUN_LABEL, deny_all_policy

# reasons a pod stuck before it ran is given up on, as the kubelet words them
PULL_FAILURES = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
CONFIG_FAILURES = ("CreateContainerConfigError", "CreateContainerError", "RunContainerError")


@dataclass
class Target:
    """Where Jobs go: a kubeconfig context and its namespace; ``sandbox`` when it is the sandbox's cluster."""

    kubeconfig: Path
    context: str
    namespace: str
    server: str
    sandbox: bool

    def describe(self) -> str:
        where = "the sandbox's cluster" if self.sandbox else self.server
        return f"context {self.context} ({where}), namespace {self.namespace}"


def resolve_target(context: str | None = None, kubeconfig: Path | str | None = None) -> Target:
    """The context to grade on: ``context`` or the kubeconfig's current one (``$KUBECONFIG``, else the sandbox's)."""
    import yaml

    if kubeconfig is None:
        from ...config import kubeconfig_from_environment

        env = kubeconfig_from_environment()
        if env is not None:
            kubeconfig = env
        else:
            from ...kube.client import kubeconfig as sandbox_kubeconfig

            kubeconfig = sandbox_kubeconfig()
    path = Path(kubeconfig)
    if not path.exists():
        raise UsageError(
            f"no kubeconfig at {path}.", hint='Set KUBECONFIG to your cluster\'s, or run `eval "$(lab sandbox env)"`.'
        )
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = context or str(doc.get("current-context") or "")
    contexts = {c.get("name"): c.get("context") or {} for c in doc.get("contexts") or []}
    if name not in contexts:
        raise UsageError(
            f"the kubeconfig {path} has no context {name!r}.",
            hint=f"Pass --context with one of: {', '.join(map(str, contexts)) or 'none'}.",
        )
    ctx = contexts[name]
    clusters = {c.get("name"): c.get("cluster") or {} for c in doc.get("clusters") or []}
    server = str(clusters.get(ctx.get("cluster"), {}).get("server", ""))
    host = urlparse(server).hostname or ""
    sandbox = ctx.get("cluster") == SANDBOX and host in ("127.0.0.1", "localhost")  # the sandbox kubeconfig's cluster
    return Target(path, name, str(ctx.get("namespace") or "default"), server, sandbox)


class Cluster:
    """The calls the grader makes, in one namespace."""

    def __init__(self, target: Target) -> None:
        from kubernetes import client, config

        self.target = target
        self.namespace = target.namespace
        api = config.new_client_from_config(
            config_file=str(target.kubeconfig), context=target.context, persist_config=False
        )
        self.core = client.CoreV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.network = client.NetworkingV1Api(api)

    def _call(self, what: str, fn, *args, **kw) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return fn(*args, **kw)
        except ApiException as exc:
            reason = _status_message(exc)
            if exc.status == 403:
                raise UsageError(
                    f"the cluster refused to {what}: {reason}",
                    hint=f"Grade with a context that may create Jobs, ConfigMaps and NetworkPolicies in "
                    f"namespace {self.namespace} (kubectl auth can-i create jobs -n {self.namespace}).",
                ) from None
            raise ServiceError(
                f"the cluster's API failed to {what}: {reason}", hint="Check `kubectl get --raw /readyz`."
            ) from None

    def ensure_policy(self) -> None:
        """The deny-all NetworkPolicy for grader pods (created, or replaced by the current one)."""
        from kubernetes.client.exceptions import ApiException

        body = deny_all_policy()
        try:
            self.network.create_namespaced_network_policy(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                self._call("create the NetworkPolicy", _raise, exc)
            self._call(
                "replace the NetworkPolicy",
                self.network.replace_namespaced_network_policy,
                body["metadata"]["name"],
                self.namespace,
                body,
            )

    def policy(self) -> dict:
        name = deny_all_policy()["metadata"]["name"]
        return _json(
            self._call(
                "read the NetworkPolicy",
                self.network.read_namespaced_network_policy,
                name,
                self.namespace,
                _preload_content=False,
            )
        )

    def submit(self, config_map: dict, job: dict) -> None:
        """Create the payload, then the Job that mounts it (a leftover of an earlier run is replaced)."""
        self.delete(job["metadata"]["name"])
        self._call("create a ConfigMap", self.core.create_namespaced_config_map, self.namespace, config_map)
        self._call("create a Job", self.batch.create_namespaced_job, self.namespace, job)

    def _run_items(self, what: str, call: Any, run: str) -> list[dict]:
        """The objects of one grading run (by its labels), as JSON."""
        selector = f"{NAME_LABEL}=lab-grade,{RUN_LABEL}={run}"
        data = _json(self._call(what, call, self.namespace, label_selector=selector, _preload_content=False))
        return data.get("items") or []

    def jobs(self, run: str) -> dict[str, dict]:
        return {j["metadata"]["name"]: j for j in self._run_items("list Jobs", self.batch.list_namespaced_job, run)}

    def pods(self, run: str) -> dict[str, list[dict]]:
        """The run's pods by the Job that owns them."""
        out: dict[str, list[dict]] = {}
        for pod in self._run_items("list pods", self.core.list_namespaced_pod, run):
            job = (pod["metadata"].get("labels") or {}).get("job-name") or next(
                (o["name"] for o in pod["metadata"].get("ownerReferences") or [] if o.get("kind") == "Job"), ""
            )
            out.setdefault(job, []).append(pod)
        return out

    def log(self, pod: str) -> str:
        response = self._call(
            "read a grading pod's log",
            self.core.read_namespaced_pod_log,
            pod,
            self.namespace,
            container="grade",
            _preload_content=False,
        )
        return (response.data or b"").decode("utf-8", errors="replace")

    def delete(self, name: str) -> None:
        """The Job (and its pods) and its payload; nothing when they are gone already."""
        from kubernetes.client.exceptions import ApiException

        for fn in (self.batch.delete_namespaced_job, self.core.delete_namespaced_config_map):
            try:
                fn(name, self.namespace, propagation_policy="Background", grace_period_seconds=0)
            except ApiException as exc:
                if exc.status != 404:
                    self._call(f"delete {name}", _raise, exc)


def _raise(exc: Exception) -> None:
    raise exc


def _json(response: Any) -> dict:
    try:
        return json.loads(response.data or b"{}")
    except ValueError:
        return {}


def _status_message(exc: Any) -> str:
    try:
        return str(json.loads(exc.body).get("message") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


# -- why a Job did not give a result -------------------------------------------------------------


def condition(job: dict, kind: str) -> dict | None:
    return next(
        (
            c
            for c in (job.get("status") or {}).get("conditions") or []
            if c.get("type") == kind and c.get("status") == "True"
        ),
        None,
    )


def finished(job: dict) -> str:
    """``Complete``, ``Failed`` or "" (still running)."""
    for kind in ("Complete", "Failed"):
        if condition(job, kind):
            return kind
    return ""


def failure_reason(job: dict, pods: list[dict]) -> str:
    """Why a Job failed, in the words ``kubectl`` shows: OOMKilled, DeadlineExceeded, Evicted, ImagePullBackOff, ..."""
    failed = condition(job, "Failed") or {}
    if failed.get("reason") == "DeadlineExceeded":
        return f"DeadlineExceeded: {failed.get('message') or 'the Job ran past activeDeadlineSeconds'}"
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("reason") == "Evicted":
            return f"Evicted: {status.get('message', '')}".rstrip(": ")
        for cs in status.get("containerStatuses") or []:
            done = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
            if done and done.get("reason") == "OOMKilled":
                return "OOMKilled: the grader's container passed its memory limit"
            if done and done.get("exitCode", 0) != 0:
                message = (done.get("message") or "").strip().splitlines()
                return f"{done.get('reason') or 'Error'} (exit {done.get('exitCode')})" + (
                    f": {message[-1][:300]}" if message else ""
                )
    return str(failed.get("reason") or "Failed") + (f": {failed['message']}" if failed.get("message") else "")


def stuck_reason(pods: list[dict]) -> str:
    """A reason the pod will not start by itself (an image that cannot be pulled, a bad config), or ""."""
    for pod in pods:
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason", "")
            if reason in PULL_FAILURES or reason in CONFIG_FAILURES:
                return f"{reason}: {waiting.get('message', '')}".rstrip(": ")[:400]
    return ""


def unschedulable(pods: list[dict]) -> str:
    """The scheduler's message for a pod no node can take (no nodes, too small, tainted), or ""."""
    for pod in pods:
        for c in (pod.get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable":
                return str(c.get("message") or "Unschedulable")
    return ""


def exit_code(pods: list[dict]) -> int | None:
    for pod in pods:
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            done = (cs.get("state") or {}).get("terminated")
            if done is not None:
                return int(done.get("exitCode", 0))
    return None


def pod_name(pods: list[dict]) -> str:
    ran = [p for p in pods if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed")]
    chosen = (ran or pods or [{}])[-1]
    return str((chosen.get("metadata") or {}).get("name", ""))
