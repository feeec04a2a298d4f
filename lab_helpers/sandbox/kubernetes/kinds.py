"""The kinds the sandbox's Kubernetes API serves built in: one table that discovery, storage, the schemas,
``kubectl get`` columns and the controllers all read, so a kind is added in one place. Look kinds up
through ``resources``, which adds the custom resources CRDs serve."""

from __future__ import annotations

from dataclasses import dataclass

# The Kubernetes release the sandbox reports: it matches the kubectl the course installs and the
# bundled schemas (kubectl picks its behaviour from the server's /version).
MAJOR, MINOR, PATCH = "1", "35", "2"
GIT_VERSION = f"v{MAJOR}.{MINOR}.{PATCH}"

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    """One REST resource: ``/api/v1/namespaces/{ns}/pods`` is Resource("", "v1", "Pod", "pods", True)."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status", "scale", "log", ...
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def is_custom(self) -> bool:
        """Whether a CRD defines it (``crds.CustomResource`` says True)."""
        return False

    @property
    def key(self) -> str:
        """The store's kind for these objects ("k8s:apps/deployments")."""
        return f"k8s:{self.group}/{self.plural}"

    @property
    def group_resource(self) -> str:
        """As error messages name it: ``deployments.apps``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def base_path(self, namespace: str = "") -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


_CORE = ("", "v1")
RESOURCES: tuple[Resource, ...] = (
    Resource(
        *_CORE,
        "Namespace",
        "namespaces",
        False,
        ("ns",),
        ("status", "finalize"),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    Resource(*_CORE, "Node", "nodes", False, ("no",), ("status", "proxy")),
    Resource(
        *_CORE,
        "Pod",
        "pods",
        True,
        ("po",),
        ("status", "log", "binding", "eviction", "exec", "attach", "portforward", "proxy"),
        categories=("all",),
    ),
    Resource(
        *_CORE,
        "Service",
        "services",
        True,
        ("svc",),
        ("status", "proxy"),
        ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        ("all",),
    ),
    Resource(*_CORE, "Endpoints", "endpoints", True, ("ep",)),
    Resource(*_CORE, "ConfigMap", "configmaps", True, ("cm",)),
    Resource(*_CORE, "Secret", "secrets", True),
    Resource(*_CORE, "ServiceAccount", "serviceaccounts", True, ("sa",)),
    Resource(*_CORE, "Event", "events", True, ("ev",)),
    Resource("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("status", "scale"), categories=("all",)),
    Resource("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("status", "scale"), categories=("all",)),
    Resource("batch", "v1", "Job", "jobs", True, (), ("status",), categories=("all",)),
    Resource(*_CORE, "PersistentVolume", "persistentvolumes", False, ("pv",), ("status",)),
    Resource(*_CORE, "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), ("status",)),
    Resource(*_CORE, "ResourceQuota", "resourcequotas", True, ("quota",), ("status",)),
    Resource(*_CORE, "LimitRange", "limitranges", True, ("limits",)),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("status",), categories=("all",)),
    Resource("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("status", "scale"), categories=("all",)),
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    Resource("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("status",), categories=("all",)),
    Resource(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        ("status",),
        categories=("all",),
    ),
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), ("status",)),
    Resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    Resource("events.k8s.io", "v1", "Event", "events", True),  # "ev" is the core group's, as kubectl resolves it
    Resource("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), ("status",)),
    Resource("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    Resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    Resource("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", False, (), ("status",)),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    Resource(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ("crd", "crds"),
        ("status",),
    ),
)
