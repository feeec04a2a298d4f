"""One sync of an Application, as Argo CD runs it: every resource dry-run first (a refusal fails the sync
before anything changes), then applied server-side in Argo CD's order (sync waves, then kinds: namespaces
and config before workloads, Ingress last), then what git no longer has pruned."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ....errors import ApiError
from ...apiserver import writes
from ...apiserver.auth import OWNER_ANNOTATION
from ...objects import Objects
from ...resources import Resource, by_plural, resource_of_kind

Obj = dict[str, Any]
MANAGER = "argocd-controller"
USER = "system:serviceaccount:argocd:argocd-application-controller"
NAMESPACES = by_plural("namespaces")
# gitops-engine's kind order for one wave (kinds not listed go between ReplicaSet and Deployment's neighbours)
KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget", "ServiceAccount", "Secret",
    "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
    "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicaSet",
    "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "Ingress",
)  # fmt: skip


@dataclass
class Item:
    """One resource of a sync and how it went (Argo CD's ``syncResult.resources[]``)."""

    res: Resource | None
    obj: Obj
    status: str = ""  # Synced, SyncFailed, Pruned, PruneSkipped
    message: str = ""

    def as_json(self) -> Obj:
        api_version = str(self.obj.get("apiVersion", ""))
        group, _, version = api_version.rpartition("/")
        meta = self.obj.get("metadata") or {}
        return {
            "group": group,
            "version": version,
            "kind": self.obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "status": self.status,
            "message": self.message,
            "syncPhase": "Sync",
            "hookPhase": "Succeeded" if self.status in ("Synced", "Pruned") else "Failed",
        }


@dataclass
class Outcome:
    phase: str  # Succeeded or Failed
    message: str
    items: list[Item] = field(default_factory=list)


HELM_HOOKS = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}
PHASES = ("PreSync", "Sync", "PostSync")


def hook_of(obj: Obj) -> str:
    """The sync hook an object is ('' for an ordinary resource): Argo CD's ``argocd.argoproj.io/hook``, or a Helm
    hook mapped as Argo CD maps it (pre-install/upgrade -> PreSync, post- -> PostSync); ``Skip`` for Helm's test
    hooks and ``Skip`` annotations, which Argo CD never applies."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    argo = str(annotations.get("argocd.argoproj.io/hook", "")).split(",")[0].strip()
    if argo:
        return argo if argo in PHASES else "Skip"
    helm = [h.strip() for h in str(annotations.get("helm.sh/hook", "")).split(",") if h.strip()]
    if not helm:
        return ""
    mapped = [HELM_HOOKS[h] for h in helm if h in HELM_HOOKS]
    return mapped[0] if mapped else "Skip"


def _recreated(obj: Obj) -> bool:
    """A hook deleted before it is made again (Argo CD's default for Helm hooks: BeforeHookCreation)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    policy = str(
        annotations.get("argocd.argoproj.io/hook-delete-policy") or annotations.get("helm.sh/hook-delete-policy") or ""
    )
    return not policy or "before-hook-creation" in policy.lower() or "beforehookcreation" in policy.lower()


def _order(obj: Obj) -> tuple[int, int, int, str]:
    phase = PHASES.index(hook_of(obj) or "Sync") if hook_of(obj) in ("", *PHASES) else 1
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        wave = int(annotations.get("argocd.argoproj.io/sync-wave", 0))
    except ValueError:
        wave = 0
    kind = str(obj.get("kind", ""))
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else KIND_ORDER.index("Deployment")
    return phase, wave, rank, str((obj.get("metadata") or {}).get("name", ""))


def message_of(err: ApiError) -> str:
    """The API's own words for a refused write (its Status ``message``)."""
    body = getattr(err, "body", None)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    response = getattr(err, "response", None)
    try:
        data = json.loads(response.get_data(as_text=True)) if response is not None else {}
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
    except (ValueError, AttributeError):
        pass
    return str(err)


def _caller(dry_run: bool) -> writes.Caller:
    return writes.Caller(user=USER, manager=MANAGER, dry_run=dry_run, validation="Strict", manager_given=True)


def _apply(objects: Objects, res: Resource, obj: Obj, dry_run: bool) -> None:
    meta = obj.get("metadata") or {}
    raw = json.dumps(obj).encode()
    ns = str(meta.get("namespace", "")) if res.namespaced else ""
    writes.patch(objects, res, ns, str(meta.get("name", "")), writes.APPLY, raw, _caller(dry_run), force=True)


def ensure_namespace(objects: Objects, name: str, owner: str = "") -> str:
    """CreateNamespace=true: the destination namespace made when it is missing ('' or the API's refusal). It
    belongs to ``owner`` (the owner of the Application's own namespace), who is made its admin as a creator is."""
    if not name or objects.get(NAMESPACES, "", name) is not None:
        return ""
    meta: Obj = {"name": name, "labels": {"app.kubernetes.io/managed-by": "argocd"}}
    if owner:
        meta["annotations"] = {OWNER_ANNOTATION: owner}
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
    try:
        writes.create(objects, NAMESPACES, "", body, writes.Caller(user="sandbox-admin", manager=MANAGER))
    except ApiError as err:
        return message_of(err)
    return ""


def owner_of(objects: Objects, namespace: str) -> str:
    """Who owns ``namespace`` (the sandbox's owner annotation; '' for the admin's)."""
    ns = objects.get(NAMESPACES, "", namespace)
    return str(((ns or {}).get("metadata", {}).get("annotations") or {}).get(OWNER_ANNOTATION, ""))


def run(objects: Objects, desired: list[Obj], prune: list[tuple[Resource, Obj]], *, do_prune: bool) -> Outcome:
    """Dry-run, apply, prune; the outcome as ``operationState`` words it."""
    wanted = [o for o in desired if hook_of(o) != "Skip"]
    items = [Item(resource_of_kind(str(o.get("apiVersion", "")), str(o.get("kind", "")), objects), o) for o in wanted]
    items.sort(key=lambda i: _order(i.obj))
    failed = False
    for item in items:
        if item.res is None:
            item.status, failed = "SyncFailed", True
            item.message = (
                f'the server could not find the requested resource: no kind "{item.obj.get("kind")}" is registered '
                f'for version "{item.obj.get("apiVersion")}"'
            )
            continue
        if hook_of(item.obj):
            continue  # a hook is made afresh in its phase: a dry run against the last one says nothing
        try:
            _apply(objects, item.res, item.obj, dry_run=True)
        except ApiError as err:
            item.status, item.message, failed = "SyncFailed", message_of(err), True
    if failed:
        bad = next(i for i in items if i.status == "SyncFailed")
        for item in items:
            if not item.status:
                item.status, item.message = "", "not applied: the dry run of another resource failed"
        return Outcome("Failed", f"one or more objects failed to apply, reason: {bad.message}", items)
    for item in items:
        assert item.res is not None
        try:
            meta = item.obj.get("metadata") or {}
            ns = str(meta.get("namespace", "")) if item.res.namespaced else ""
            if hook_of(item.obj) and _recreated(item.obj) and objects.get(item.res, ns, str(meta.get("name"))):
                objects.delete(item.res, ns, str(meta.get("name")), propagation="Background")
            _apply(objects, item.res, item.obj, dry_run=False)
            item.status, item.message = (
                "Synced",
                f"{item.obj.get('kind', '').lower()}/{item.obj['metadata']['name']} serverside-applied",
            )
        except ApiError as err:
            item.status, item.message, failed = "SyncFailed", message_of(err), True
    for res, obj in prune:
        meta = obj["metadata"]
        item = Item(
            res,
            {
                "apiVersion": res.api_version,
                "kind": res.kind,
                "metadata": {"name": meta["name"], "namespace": meta.get("namespace", "")},
            },
        )
        if not do_prune:
            item.status, item.message = "PruneSkipped", "ignored (requires pruning)"
        else:
            try:
                objects.delete(res, str(meta.get("namespace", "")), meta["name"], propagation="Background")
                item.status, item.message = "Pruned", "pruned"
            except ApiError as err:
                item.status, item.message, failed = "SyncFailed", message_of(err), True
        items.append(item)
    if failed:
        bad = next(i for i in items if i.status == "SyncFailed")
        return Outcome("Failed", f"one or more objects failed to apply, reason: {bad.message}", items)
    return Outcome("Succeeded", "successfully synced (all tasks run)", items)
