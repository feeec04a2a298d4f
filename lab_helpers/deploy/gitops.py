"""The sandbox's GitOps controller from a notebook, as the ``argocd`` CLI drives Argo CD: install its
kinds (admin, once), read an Application, wait until it is synced and healthy at a revision, ask for a
sync or a refresh. The controller itself runs in the sandbox (``sandbox/kubernetes/controllers/gitops``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import ResourceStateError, ServiceError
from ..paths import data_dir

if TYPE_CHECKING:  # pragma: no cover
    from kubernetes.client import ApiClient

__all__ = [
    "ARGOCD_NAMESPACE",
    "application",
    "application_for",
    "application_names",
    "applicationset_for",
    "apply",
    "delete",
    "delete_all",
    "field_managers",
    "helm_parameter",
    "ingress_url",
    "install",
    "promotion_for",
    "refresh",
    "rolled_out",
    "summary",
    "sync",
    "synced_with",
    "wait_for",
]

ARGOCD_NAMESPACE = "argocd"
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
MANAGER = "lab-gitops-install"
OWNER_ANNOTATION = "sandbox.visualizing-compute/namespace-owner"
CRD_FILES = ("application-crd.yaml", "applicationset-crd.yaml", "promotion-crd.yaml")


def _api(api: ApiClient | None, *, admin: bool = False) -> ApiClient:
    if api is not None:
        return api
    from ..kube import api_client

    return api_client(admin=admin)


def _documents() -> list[dict[str, Any]]:
    folder = data_dir() / "gitops"
    docs: list[dict[str, Any]] = []
    for name in (*CRD_FILES, "install.yaml"):
        docs += [d for d in yaml.safe_load_all((folder / name).read_text(encoding="utf-8")) if d]
    return docs


def install(*, learner: str = "learner", api: ApiClient | None = None, timeout: float = 30) -> None:
    """Install the GitOps kinds as the cluster's admin (idempotent): the CRDs, the ``argocd`` namespace, the
    aggregated roles, and ``learner`` made admin of ``argocd`` (where Applications live) and owner of it, so
    the namespaces its Applications create (``CreateNamespace=true``) are the learner's too."""
    from kubernetes import dynamic

    client = dynamic.DynamicClient(_api(api, admin=True))
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{learner}-admin", "namespace": ARGOCD_NAMESPACE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": learner}],
    }
    docs = _documents()
    for doc in docs:  # the namespaces Applications make belong to the owner of theirs (the sandbox's annotation)
        if doc["kind"] == "Namespace":
            doc["metadata"].setdefault("annotations", {})[OWNER_ANNOTATION] = learner
    for doc in [*docs, binding]:
        kind = client.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        namespace = doc["metadata"].get("namespace")
        kind.server_side_apply(body=doc, namespace=namespace, field_manager=MANAGER, force_conflicts=True)
    crds = client.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    deadline = time.monotonic() + timeout
    for doc in _documents():
        if doc["kind"] != "CustomResourceDefinition":
            continue
        while True:
            conditions = crds.get(name=doc["metadata"]["name"]).to_dict().get("status", {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"the CRD {doc['metadata']['name']} was not Established within {timeout:.0f} s",
                    hint="Run `kubectl describe crd` on it; `lab sandbox status` says whether the sandbox runs.",
                )
            time.sleep(0.2)


def _custom(api: ApiClient | None) -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(_api(api))


def application(name: str, namespace: str = ARGOCD_NAMESPACE, *, api: ApiClient | None = None) -> dict:
    """The Application as the cluster holds it (spec and the controller's status)."""
    from kubernetes.client.exceptions import ApiException

    try:
        return dict(_custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name))
    except ApiException as err:
        if err.status == 404:
            raise ResourceStateError(
                f"there is no Application {name!r} in namespace {namespace}",
                hint="Apply it first (`kubectl apply -f deploy/application.yaml`); `kubectl get applications -A` lists them.",
            ) from None
        raise


def _why(app: dict) -> str:
    status = app.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("message"):
            return f"{cond.get('type')}: {cond['message']}"
    op = status.get("operationState") or {}
    if op.get("phase") in ("Failed", "Error"):
        return f"last sync {op['phase']}: {op.get('message', '')}"
    message = (status.get("health") or {}).get("message")
    return str(message or op.get("message") or "no message from the controller yet")


def wait_for(
    name: str,
    *,
    sync: str | None = "Synced",
    health: str | None = "Healthy",
    revision: str | None = None,
    namespace: str = ARGOCD_NAMESPACE,
    timeout: float = 120,
    api: ApiClient | None = None,
) -> dict:
    """Wait until the Application is ``sync`` and ``health`` (None: any) at ``revision`` (a sha or its start);
    raises ResourceStateError with the controller's own message when it is not by ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            app = application(name, namespace, api=api)
        except ResourceStateError:  # not made yet (an ApplicationSet or an app of apps makes it)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
            continue
        status = app.get("status") or {}
        now_sync = (status.get("sync") or {}).get("status")
        now_health = (status.get("health") or {}).get("status")
        now_rev = str((status.get("sync") or {}).get("revision") or "")
        if (
            (sync is None or now_sync == sync)
            and (health is None or now_health == health)
            and (revision is None or (now_rev and now_rev.startswith(revision)))
        ):
            return app
        if time.monotonic() > deadline:
            raise ResourceStateError(
                f"Application {name} is {now_sync}/{now_health} at {now_rev[:7] or 'no revision'}, not "
                f"{sync or 'any'}/{health or 'any'}{' at ' + revision[:7] if revision else ''} after {timeout:.0f} s: "
                f"{_why(app)}",
                hint=f"`kubectl describe application {name} -n {namespace}` shows its status and resources.",
            )
        time.sleep(0.3)


def sync(
    name: str,
    *,
    revision: str | None = None,
    prune: bool = False,
    namespace: str = ARGOCD_NAMESPACE,
    api: ApiClient | None = None,
) -> None:
    """Ask for one sync now (``argocd app sync``): the Application's ``operation``, run and cleared by the controller."""
    op: dict[str, Any] = {"initiatedBy": {"username": "learner"}, "sync": {"prune": prune}}
    if revision:
        op["sync"]["revision"] = revision
    application(name, namespace, api=api)
    _custom(api).patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, {"operation": op})


def refresh(name: str, *, namespace: str = ARGOCD_NAMESPACE, api: ApiClient | None = None) -> None:
    """Fetch git again now (``argocd app get --refresh``: the ``argocd.argoproj.io/refresh`` annotation)."""
    application(name, namespace, api=api)
    body = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}}
    _custom(api).patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)


def application_names(namespace: str = ARGOCD_NAMESPACE, *, api: ApiClient | None = None) -> list[str]:
    """The names of the Applications in ``namespace`` (none when the GitOps kinds are not installed)."""
    from kubernetes.client.exceptions import ApiException

    try:
        listed = _custom(api).list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    except ApiException as err:
        if err.status in (403, 404):
            return []
        raise
    return sorted(str(item["metadata"]["name"]) for item in listed.get("items") or [])


def helm_parameter(
    name: str, parameter: str, *, namespace: str = ARGOCD_NAMESPACE, api: ApiClient | None = None
) -> str | None:
    """The value of one Helm parameter of the Application's source (``image.tag``, which a promotion sets), else
    the value its inline ``helm.valuesObject``/``helm.values`` give that dotted key; None when neither sets it."""
    helm = ((application(name, namespace, api=api).get("spec") or {}).get("source") or {}).get("helm") or {}
    for param in helm.get("parameters") or []:
        if param.get("name") == parameter:
            return str(param.get("value"))
    for values in (helm.get("valuesObject"), yaml.safe_load(helm["values"]) if helm.get("values") else None):
        node: Any = values
        for part in parameter.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return str(node)
    return None


def ingress_url(namespace: str, name: str, *, api: ApiClient | None = None) -> str:
    """``http://<address>:<port>`` where the cluster's ingress proxy serves the Ingress (its ``status.loadBalancer``)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        ing = client.NetworkingV1Api(_api(api)).read_namespaced_ingress(name, namespace)
    except ApiException as err:
        if err.status == 404:
            raise ResourceStateError(
                f"there is no Ingress {name!r} in namespace {namespace}",
                hint="Check the Application's resources: `kubectl get application -n argocd -o wide`.",
            ) from None
        raise
    found = (ing.status.load_balancer.ingress or []) if ing.status and ing.status.load_balancer else []
    if not found or not found[0].ports:
        raise ResourceStateError(
            f"the Ingress {namespace}/{name} has no address yet",
            hint="The ingress controller publishes one within seconds; wait, then try again.",
        )
    return f"http://{found[0].ip or found[0].hostname}:{found[0].ports[0].port}"


# --- what lab 06 writes and reads, beside the argocd CLI's verbs ----------------------------------------------

FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"
PROMOTIONS = ("deploy.course.example", "v1alpha1", "promotions")
APPLICATIONSETS = (GROUP, VERSION, "applicationsets")
APPLY_MANAGER = "lab-learner"


def application_for(
    name: str,
    *,
    repo: str,
    path: str,
    namespace: str,
    values: dict[str, Any] | None = None,
    revision: str = "main",
    automated: bool = True,
) -> dict:
    """An Application as the project's deploy files write one: a chart (or a folder of YAML) of ``repo`` at
    ``revision``, rendered with ``values`` as release ``name`` into ``namespace``, synced automatically with
    prune and self-heal, its resources deleted with it (the finalizer)."""
    source: dict[str, Any] = {"repoURL": repo, "path": path, "targetRevision": revision}
    if values is not None:
        source["helm"] = {"valuesObject": values}
    policy: dict[str, Any] = {"syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]}
    if automated:
        policy["automated"] = {"prune": True, "selfHeal": True}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE, "finalizers": [FINALIZER]},
        "spec": {
            "project": "default",
            "source": source,
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
            "syncPolicy": policy,
        },
    }


def applicationset_for(owner: str, *, name: str = "course-repos", api_url: str | None = None) -> dict:
    """An ApplicationSet like the project's: one Application per repository of ``owner`` on the forge whose
    default branch has a ``deploy/`` folder, each applying that folder (the Applications in it: apps of apps)."""
    if api_url is None:
        from .git import forge_url

        api_url = forge_url()
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "generators": [
                {"scmProvider": {"gitea": {"owner": owner, "api": api_url}, "filters": [{"pathsExist": ["deploy"]}]}}
            ],
            "template": {
                "metadata": {"name": "{{repository}}", "finalizers": [FINALIZER]},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": "{{url}}", "path": "deploy", "targetRevision": "{{branch}}"},
                    "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
                },
            },
        },
    }


def promotion_for(application: str, *, image: str, allow_tags: str = r"^sha-", name: str | None = None) -> dict:
    """The course's Promotion (like Kargo's Warehouse and Stage in one): the newest tag of ``image`` matching
    ``allow_tags`` becomes the Helm parameter ``image.tag`` of ``application``."""
    group, version, _ = PROMOTIONS
    return {
        "apiVersion": f"{group}/{version}",
        "kind": "Promotion",
        "metadata": {"name": name or application, "namespace": ARGOCD_NAMESPACE},
        "spec": {"image": {"repoURL": image, "allowTags": allow_tags}, "application": {"name": application}},
    }


def apply(*objects: dict, api: ApiClient | None = None) -> list[str]:
    """Server-side apply each object as the learner (``kubectl apply --server-side``); returns ``Kind/name``."""
    from kubernetes import dynamic

    resources = dynamic.DynamicClient(_api(api)).resources
    done = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        kind = resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        kind.server_side_apply(
            body=obj,
            name=meta["name"],
            namespace=meta.get("namespace", ARGOCD_NAMESPACE),
            field_manager=APPLY_MANAGER,
            force_conflicts=True,
        )
        done.append(f"{obj['kind']}/{meta['name']}")
    return done


def summary(name: str, *, namespace: str = ARGOCD_NAMESPACE, api: ApiClient | None = None) -> str:
    """What ``argocd app get`` shows: sync and health at a revision, the last operation, and each resource."""
    app = application(name, namespace, api=api)
    status = app.get("status") or {}
    sync_ = status.get("sync") or {}
    health = status.get("health") or {}
    op = status.get("operationState") or {}
    images = ", ".join((status.get("summary") or {}).get("images") or []) or "none"
    lines = [
        f"Application {name}: {sync_.get('status', 'Unknown')} / {health.get('status', 'Unknown')}"
        f" at {str(sync_.get('revision') or '')[:7] or 'no revision'}",
        f"  images: {images}",
        f"  last sync: {op.get('phase', 'none')}{' - ' + str(op.get('message'))[:100] if op.get('message') else ''}",
    ]
    for cond in status.get("conditions") or []:
        lines.append(f"  {cond.get('type')}: {str(cond.get('message', ''))[:160]}")
    for r in status.get("resources") or []:
        h = (r.get("health") or {}).get("status", "")
        message = (r.get("health") or {}).get("message", "")
        lines.append(
            f"  {r.get('kind', ''):<22} {r.get('name', ''):<28} {r.get('status', ''):<10} {h:<12} {message[:60]}"
        )
    return "\n".join(lines)


def synced_with(name: str, *, image_tag: str, namespace: str = ARGOCD_NAMESPACE, api: ApiClient | None = None) -> bool:
    """Whether the Application's last sync succeeded with an image of tag ``image_tag`` among its images."""
    status = application(name, namespace, api=api).get("status") or {}
    images = (status.get("summary") or {}).get("images") or []
    done = (status.get("operationState") or {}).get("phase") == "Succeeded"
    return (
        done
        and (status.get("sync") or {}).get("status") == "Synced"
        and any(i.endswith(f":{image_tag}") for i in images)
    )


def rolled_out(namespace: str, deployment: str, *, api: ApiClient | None = None) -> bool:
    """Whether every replica of the Deployment runs its current template and is available (``kubectl rollout
    status`` done)."""
    from kubernetes import client

    d = client.AppsV1Api(_api(api)).read_namespaced_deployment(deployment, namespace)
    s = d.status
    want = d.spec.replicas if d.spec.replicas is not None else 1
    return (
        (s.observed_generation or 0) >= (d.metadata.generation or 0)
        and (s.updated_replicas or 0) == want
        and (s.available_replicas or 0) == want
        and (s.replicas or 0) == want
    )


def field_managers(namespace: str, deployment: str, *, api: ApiClient | None = None) -> list[str]:
    """Who wrote the Deployment's fields (``metadata.managedFields``): the GitOps controller, the cluster's own
    controllers, or a person with kubectl."""
    from kubernetes import client

    d = client.AppsV1Api(_api(api)).read_namespaced_deployment(deployment, namespace)
    return sorted({m.manager for m in d.metadata.managed_fields or [] if m.manager})


def delete(name: str, *, namespace: str = ARGOCD_NAMESPACE, wait_s: float = 60, api: ApiClient | None = None) -> bool:
    """Delete the Application and wait until it is gone (its finalizer has the controller delete what it made
    first); False when there was none."""
    from kubernetes.client.exceptions import ApiException

    try:
        _custom(api).delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if name not in application_names(namespace, api=api):
            return True
        time.sleep(0.3)
    raise ResourceStateError(
        f"Application {name} is still there {wait_s:.0f} s after its deletion",
        hint=f"`kubectl get application {name} -n {namespace} -o yaml` shows its finalizers and status.",
    )


def delete_all(*, namespace: str = ARGOCD_NAMESPACE, wait_s: float = 120, api: ApiClient | None = None) -> list[str]:
    """Delete every Promotion, ApplicationSet and Application of ``namespace`` (in that order, so nothing
    re-creates what was deleted) and wait until the Applications, and so what they made, are gone."""
    from kubernetes.client.exceptions import ApiException

    custom, deleted = _custom(api), []
    for group, version, plural in (PROMOTIONS, APPLICATIONSETS, (GROUP, VERSION, PLURAL)):
        try:
            items = custom.list_namespaced_custom_object(group, version, namespace, plural).get("items") or []
        except ApiException as err:
            if err.status in (403, 404):
                continue
            raise
        for item in items:
            try:
                custom.delete_namespaced_custom_object(group, version, namespace, plural, item["metadata"]["name"])
                deleted.append(f"{item['kind']}/{item['metadata']['name']}")
            except ApiException as err:
                if err.status != 404:
                    raise
    deadline = time.monotonic() + wait_s
    while application_names(namespace, api=api):
        if time.monotonic() > deadline:
            raise ResourceStateError(
                f"Applications still there {wait_s:.0f} s after their deletion: {', '.join(application_names(namespace, api=api))}",
                hint=f"`kubectl get applications -n {namespace}` shows them; their status says what holds them.",
            )
        time.sleep(0.3)
    return deleted
