"""The course's sample application on a Kubernetes cluster: its manifests, a deploy and a wait.

The manifests are the namespace-free YAML of ``data/sample-app/k8s/`` (a learner can
``kubectl apply -n NS -f`` the same files); :func:`manifests` reads them with the images at one
tag (and, for a live cluster, a registry prefix); :func:`deploy` adds the two Secrets (the
learner's clouds.yaml, a database password made once) and applies everything with server-side
apply through the real ``kubernetes`` client, so a cell that runs it twice changes nothing;
:func:`wait_ready` waits for the training Job and every Deployment, saying what is still not
ready when time runs out.
"""

from __future__ import annotations

import base64
import secrets as _secrets
import time
from collections.abc import Callable, Collection
from typing import Any

import yaml

from ..errors import ResourceStateError, UsageError
from ..paths import data_dir

__all__ = ["IMAGE_PREFIX", "PARTS", "TAGS", "deploy", "manifests", "secrets", "wait_ready"]

IMAGE_PREFIX = "visualizing-compute/sample-"
PARTS = ("api", "web", "worker", "model")
TAGS = ("1.0.0", "1.1.0")  # what the sandbox registry holds (data/registry.yaml)
# in the order a deploy applies them: storage and servers first, the ingress last
FILES = ("db.yaml", "queue.yaml", "model.yaml", "api.yaml", "worker.yaml", "web.yaml", "ingress.yaml")
SECRETS_TEMPLATE = "secrets.example.yaml"
FIELD_MANAGER = "lab-sample-app"
Show = Callable[[str], None]


def _load(name: str) -> list[dict[str, Any]]:
    path = data_dir() / "sample-app" / "k8s" / name
    with open(path, encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d]


def _image(image: str, tag: str, registry: str | None) -> str:
    if not image.startswith(IMAGE_PREFIX):
        return image
    name = image.rsplit(":", 1)[0]
    full = f"{name}:{tag}"
    return f"{registry.rstrip('/')}/{full}" if registry else full


def manifests(
    tag: str = "1.0.0", registry: str | None = None, parts: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Every object of the app but its Secrets, with the app's images at ``tag``; ``registry``
    (e.g. ``ghcr.io/your-org``) prefixes them for a live cluster that pulls from there. ``parts``
    keeps only those files' objects (``("db", "queue")``: the services a chart's api needs beside it)."""
    unknown = sorted(set(parts or ()) - {f.removesuffix(".yaml") for f in FILES})
    if unknown:
        raise UsageError(
            f"no part {unknown[0]!r} in the sample app.",
            hint=f"Use some of: {', '.join(f.removesuffix('.yaml') for f in FILES)}.",
        )
    if not tag or any(c in tag for c in ":/@ "):
        raise UsageError(f"image tag {tag!r} is not a tag.", hint=f"Use one of {', '.join(TAGS)} in the sandbox.")
    out = []
    for name in FILES:
        if parts is not None and name.removesuffix(".yaml") not in parts:
            continue
        for obj in _load(name):
            spec = obj.get("spec", {})
            pod = (spec.get("template") or {}).get("spec")
            for container in (pod or {}).get("containers", []) + (pod or {}).get("initContainers", []):
                container["image"] = _image(container["image"], tag, registry)
            out.append(obj)
    return out


def secrets(clouds_yaml: str, *, cloud: str | None = None, db_password: str | None = None) -> list[dict[str, Any]]:
    """The Secrets the app reads: ``app-cloud`` (``clouds.yaml`` and the cloud's name in it, by default
    its first) and ``db-credentials`` (a fresh random password unless ``db_password`` is given)."""
    try:
        clouds = (yaml.safe_load(clouds_yaml) or {}).get("clouds") or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"clouds_yaml is not YAML: {exc}", hint="Pass the text of your clouds.yaml.") from exc
    if not clouds:
        raise UsageError("clouds_yaml names no cloud.", hint="Pass the text of a clouds.yaml with a `clouds:` entry.")
    name = cloud or next(iter(clouds))
    if name not in clouds:
        raise UsageError(f"clouds.yaml has no cloud {name!r}.", hint=f"Use one of: {', '.join(clouds)}.")
    template = {d["metadata"]["name"]: d for d in _load(SECRETS_TEMPLATE)}
    cloud_secret = template["app-cloud"]
    cloud_secret["stringData"] = {"OS_CLOUD": name, "clouds.yaml": clouds_yaml}
    db = template["db-credentials"]
    password = db_password or _secrets.token_urlsafe(18)
    user, database = db["stringData"]["POSTGRES_USER"], db["stringData"]["POSTGRES_DB"]
    db["stringData"] = {
        "POSTGRES_USER": user,
        "POSTGRES_DB": database,
        "POSTGRES_PASSWORD": password,
        "DATABASE_URL": f"postgresql://{user}:{password}@db:5432/{database}",
    }
    return [cloud_secret, db]


def _existing_password(core: Any, namespace: str) -> str | None:
    """The database password already in the namespace: the database was made with it, so it stays."""
    from kubernetes.client.exceptions import ApiException

    try:
        found = core.read_namespaced_secret("db-credentials", namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    value = (found.data or {}).get("POSTGRES_PASSWORD")
    return base64.b64decode(value).decode() if value else None


def deploy(
    api_client: Any,
    namespace: str,
    *,
    tag: str = "1.0.0",
    clouds_yaml: str,
    cloud: str | None = None,
    registry: str | None = None,
    parts: Collection[str] | None = None,
    show: Show | None = None,
) -> list[str]:
    """Apply the app into ``namespace`` (which must exist) with server-side apply; returns what was
    applied as ``Kind/name``. Safe to run again: the same objects, the database password kept.
    ``parts`` deploys only those parts (and the Secrets), as :func:`manifests` selects them."""
    from kubernetes import client, dynamic

    core = client.CoreV1Api(api_client)
    objects = secrets(clouds_yaml, cloud=cloud, db_password=_existing_password(core, namespace))
    objects += manifests(tag, registry, parts)
    resources = dynamic.DynamicClient(api_client).resources
    applied = []
    for obj in objects:
        obj.setdefault("metadata", {})["namespace"] = namespace
        api = resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        api.server_side_apply(
            body=obj,
            name=obj["metadata"]["name"],
            namespace=namespace,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )
        applied.append(f"{obj['kind']}/{obj['metadata']['name']}")
        if show:
            show(f"{obj['kind'].lower()}/{obj['metadata']['name']} applied")
    return applied


def _deployment_ready(d: Any) -> bool:
    st, spec = d.status, d.spec
    want = spec.replicas if spec.replicas is not None else 1
    return (
        (st.observed_generation or 0) >= (d.metadata.generation or 0)
        and (st.updated_replicas or 0) == want
        and (st.ready_replicas or 0) == want
        and (st.replicas or 0) == want
    )


def _waiting_reasons(core: Any, namespace: str) -> list[str]:
    out = []
    for pod in core.list_namespaced_pod(namespace).items:
        for cs in (pod.status.container_statuses or []) + (pod.status.init_container_statuses or []):
            waiting = cs.state.waiting if cs.state else None
            if waiting and waiting.reason:
                out.append(f"{pod.metadata.name}/{cs.name}: {waiting.reason}")
        if pod.status.phase == "Pending" and not pod.spec.node_name:
            out.append(f"{pod.metadata.name}: Pending (not scheduled)")
    return out


def wait_ready(
    api_client: Any, namespace: str, *, timeout_s: float = 180.0, show: Show | None = None
) -> dict[str, float]:
    """Wait until the ``train-model`` Job has succeeded and every Deployment of the app is available
    at its new spec; returns the seconds each took from this call. Usually 15-40 s in the sandbox."""
    from kubernetes import client

    apps, batch, core = client.AppsV1Api(api_client), client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    start = time.monotonic()
    done: dict[str, float] = {}
    while True:
        pending = []
        for job in batch.list_namespaced_job(namespace, label_selector="app.kubernetes.io/part-of=sample-app").items:
            name = f"job/{job.metadata.name}"
            if (job.status.succeeded or 0) >= 1:
                done.setdefault(name, time.monotonic() - start)
            elif (job.status.failed or 0) > (job.spec.backoff_limit or 6):
                raise ResourceStateError(
                    f"job {job.metadata.name} failed.", hint=f"kubectl logs -n {namespace} job/{job.metadata.name}"
                )
            else:
                pending.append(name)
        for d in apps.list_namespaced_deployment(
            namespace, label_selector="app.kubernetes.io/part-of=sample-app"
        ).items:
            name = f"deployment/{d.metadata.name}"
            if _deployment_ready(d):
                if name not in done:
                    done[name] = time.monotonic() - start
                    if show:
                        show(f"{name} ready after {done[name]:.1f} s")
            else:
                done.pop(name, None)
                pending.append(name)
        if not pending and done:
            return done
        if time.monotonic() - start > timeout_s:
            reasons = _waiting_reasons(core, namespace)
            raise ResourceStateError(
                f"not ready after {timeout_s:.0f} s: {', '.join(pending)}"
                + (f" (waiting: {'; '.join(reasons)})" if reasons else ""),
                hint=f"kubectl get pods -n {namespace}; kubectl describe pod -n {namespace} NAME shows the events",
            )
        time.sleep(0.5)
