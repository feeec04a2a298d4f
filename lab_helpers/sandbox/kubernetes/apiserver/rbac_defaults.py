"""The RBAC objects a new sandbox cluster holds: the real default ClusterRoles a learner meets and the
sandbox's own policy, written as RBAC objects so that ``kubectl get clusterrole`` shows it.

Real defaults (rules as the API server's bootstrap policy has them, for the kinds the sandbox serves):
``cluster-admin`` (bound to the group ``system:masters``), the aggregated ``admin``, ``edit`` and
``view`` with the ``system:aggregate-to-*`` roles they gather by label, ``system:basic-user``,
``system:discovery`` and ``system:public-info-viewer`` bound to every authenticated user.

The sandbox's policy:

- ClusterRole ``sandbox:learner``: read the cluster-scoped things a learner needs (nodes, namespaces,
  persistentvolumes, storageclasses, ingressclasses, customresourcedefinitions, clusterroles) and create
  namespaces; bound to each learner (``sandbox:learner`` for ``learner``, ``sandbox:learner:<name>`` for
  one added later);
- RoleBinding ``sandbox:learner`` in ``default``: the learner is ``admin`` there;
- a namespace a learner creates gets, at creation (as a project request does), a RoleBinding ``admin``
  making its creator ``admin`` of it, and ``sandbox:namespace-owner`` (ClusterRole of the same name): the
  creator may change and delete that namespace, and set its ResourceQuotas and LimitRanges (a sandbox
  addition: a real namespace admin may only read those).
"""

from __future__ import annotations

import copy
from typing import Any

from ...errors import ApiError
from ..objects import Objects
from ..resources import by_plural
from . import rbac
from .auth import LEARNER, OWNER_ANNOTATION

Obj = dict[str, Any]
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
LEARNER_ROLE = "sandbox:learner"
OWNER_ROLE = "sandbox:namespace-owner"
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
NAMESPACES = by_plural("namespaces")
SIMULATED = "sandbox.visualizing-compute/simulated"


def _rule(verbs: list[str], groups: list[str], resources: list[str]) -> Obj:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


def _bootstrap_meta(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {
        "name": name,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    }


def _cluster_role(name: str, rules: list[Obj], labels: dict[str, str] | None = None, aggregate_from: str = "") -> Obj:
    role: Obj = {"metadata": _bootstrap_meta(name, labels), "rules": rules}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE + aggregate_from: "true"}}]}
    return role


def _subject(kind: str, name: str) -> Obj:
    return {"kind": kind, "apiGroup": "rbac.authorization.k8s.io", "name": name}


def _binding(name: str, role: str, subjects: list[Obj], namespace: str = "", bootstrap: bool = True) -> Obj:
    meta = _bootstrap_meta(name) if bootstrap else {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects}  # fmt: skip


_VIEW = [
    _rule(
        READ,
        [""],
        [
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
    ),  # fmt: skip
    _rule(
        READ,
        [""],
        [
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
    ),  # fmt: skip
    _rule(READ, [""], ["namespaces"]),
    _rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
    _rule(
        READ,
        ["apps"],
        [
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
    ),  # fmt: skip
    _rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    _rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    _rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    _rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
]
_EDIT = [
    _rule(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
    _rule(["impersonate"], [""], ["serviceaccounts"]),
    _rule(WRITE, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
    _rule(["create"], [""], ["pods/eviction"]),
    _rule(
        WRITE,
        [""],
        [
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
    ),  # fmt: skip
    _rule(["create"], [""], ["serviceaccounts/token"]),
    _rule(
        WRITE,
        ["apps"],
        [
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
    ),  # fmt: skip
    _rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
    _rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
    _rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
    _rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
    _rule(READ + WRITE, ["coordination.k8s.io"], ["leases"]),
]
_ADMIN = [
    _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
    _rule(READ + WRITE, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
]
_DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz",
                   "/version", "/version/"]  # fmt: skip
_PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
_LEARNER = [
    _rule(READ, [""], ["namespaces", "nodes", "persistentvolumes"]),
    _rule(["create"], [""], ["namespaces"]),
    _rule(READ, ["storage.k8s.io"], ["storageclasses"]),
    _rule(READ, ["networking.k8s.io"], ["ingressclasses"]),
    _rule(READ, ["apiextensions.k8s.io"], ["customresourcedefinitions"]),
    _rule(READ, ["rbac.authorization.k8s.io"], ["clusterroles"]),
]
_OWNER = [
    _rule(["get", "patch", "update", "delete"], [""], ["namespaces"]),
    _rule(WRITE, [""], ["limitranges", "resourcequotas"]),
]


def cluster_roles() -> list[Obj]:
    """The default ClusterRoles, aggregated ones with their rules resolved."""
    roles = [
        _cluster_role("cluster-admin", [_rule(["*"], ["*"], ["*"]), {"verbs": ["*"], "nonResourceURLs": ["*"]}]),
        _cluster_role("admin", [], aggregate_from="admin"),
        _cluster_role("edit", [], {AGGREGATE + "admin": "true"}, aggregate_from="edit"),
        _cluster_role("view", [], {AGGREGATE + "edit": "true"}, aggregate_from="view"),
        _cluster_role("system:aggregate-to-admin", _ADMIN, {AGGREGATE + "admin": "true"}),
        _cluster_role("system:aggregate-to-edit", _EDIT, {AGGREGATE + "edit": "true"}),
        _cluster_role("system:aggregate-to-view", _VIEW, {AGGREGATE + "view": "true"}),
        _cluster_role(
            "system:basic-user",
            [
                _rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
            ],
        ),  # fmt: skip
        _cluster_role("system:discovery", [{"verbs": ["get"], "nonResourceURLs": _DISCOVERY_URLS}]),
        _cluster_role("system:public-info-viewer", [{"verbs": ["get"], "nonResourceURLs": _PUBLIC_URLS}]),
        {
            "metadata": {"name": LEARNER_ROLE, "annotations": {SIMULATED: "the sandbox's policy for learners"}},
            "rules": _LEARNER,
        },  # fmt: skip
        {
            "metadata": {"name": OWNER_ROLE, "annotations": {SIMULATED: "what a namespace's creator may do to it"}},
            "rules": _OWNER,
        },  # fmt: skip
    ]
    resolved = rbac.aggregate(roles)
    for role in roles:
        if "aggregationRule" in role:
            role["rules"] = copy.deepcopy(resolved[role["metadata"]["name"]])
    return roles


def cluster_role_bindings(learner: str) -> list[Obj]:
    authenticated = _subject("Group", rbac.AUTHENTICATED)
    return [
        _binding("cluster-admin", "cluster-admin", [_subject("Group", rbac.MASTERS)]),
        _binding("system:basic-user", "system:basic-user", [authenticated]),
        _binding("system:discovery", "system:discovery", [authenticated]),
        _binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            [authenticated, _subject("Group", "system:unauthenticated")],
        ),  # fmt: skip
        learner_binding(learner, LEARNER_ROLE),
    ]


def learner_binding(user: str, name: str = "") -> Obj:
    """The ClusterRoleBinding that gives ``user`` the ClusterRole ``sandbox:learner``."""
    return _binding(name or f"{LEARNER_ROLE}:{user}", LEARNER_ROLE, [_subject("User", user)], bootstrap=False)


def _create_missing(objects: Objects, res_plural: str, obj: Obj) -> None:
    res = by_plural(res_plural, rbac.GROUP)
    meta = obj["metadata"]
    if objects.get(res, meta.get("namespace", ""), meta["name"]) is None:
        try:
            objects.create(res, obj)
        except ApiError:  # made meanwhile by another writer
            pass


def namespace_created(objects: Objects, namespace: str, owner: str) -> None:
    """What a learner's new namespace holds for its creator: RoleBindings ``admin`` and ``sandbox:namespace-owner``."""
    subjects = [_subject("User", owner)]
    _create_missing(objects, "rolebindings", _binding("admin", "admin", subjects, namespace, bootstrap=False))
    _create_missing(objects, "rolebindings", _binding(OWNER_ROLE, OWNER_ROLE, subjects, namespace, bootstrap=False))


def seed(objects: Objects, learner: str = LEARNER, owner_annotation: str = OWNER_ANNOTATION) -> None:
    """Create what is missing of the defaults (a new cluster, or one after a reset). Namespaces a learner made
    before RBAC was honoured (they carry ``owner_annotation``) get their creator's bindings."""
    for role in cluster_roles():
        _create_missing(objects, "clusterroles", role)
    for binding in cluster_role_bindings(learner):
        _create_missing(objects, "clusterrolebindings", binding)
    default = _binding(LEARNER_ROLE, "admin", [_subject("User", learner)], "default", bootstrap=False)
    _create_missing(objects, "rolebindings", default)
    for ns in objects.list(NAMESPACES)[0]:
        owner = (ns["metadata"].get("annotations") or {}).get(owner_annotation)
        if owner and not ns["metadata"].get("deletionTimestamp"):
            namespace_created(objects, ns["metadata"]["name"], owner)
