"""What a new cluster holds before anyone writes: the namespaces ``default``, ``kube-system``,
``kube-public`` and ``kube-node-lease``, the ``kubernetes`` Service, and in each namespace what the
controllers of a real cluster put there at once: the ``default`` ServiceAccount and the
``kube-root-ca.crt`` ConfigMap (here the sandbox's own CA)."""

from __future__ import annotations

from pathlib import Path

from ...errors import ApiError
from ...pki import ensure_pki
from ...store import Store
from ..objects import Objects, objects_for
from ..resources import by_plural
from ..storage_classes import seed_default_class
from . import rbac_defaults
from .defaults import kubernetes_service_ip
from .network_defaults import seed_ingress_class

NAMESPACES = by_plural("namespaces")
SERVICE_ACCOUNTS = by_plural("serviceaccounts")
CONFIGMAPS = by_plural("configmaps")
SERVICES = by_plural("services")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _create_missing(objects: Objects, res_plural: str, namespace: str, obj: dict) -> None:
    res = by_plural(res_plural)
    if objects.get(res, namespace, obj["metadata"]["name"]) is None:
        try:
            objects.create(res, obj)
        except ApiError:  # made meanwhile by another writer
            pass


def namespace_created(objects: Objects, namespace: str, state_dir: Path | None) -> None:
    """The ``default`` ServiceAccount and ``kube-root-ca.crt`` of a new namespace."""
    _create_missing(objects, "serviceaccounts", namespace, {"metadata": {"name": "default", "namespace": namespace}})
    if state_dir is not None:
        ca = ensure_pki(state_dir).ca_cert.read_text(encoding="utf-8")
        cm = {
            "metadata": {
                "name": "kube-root-ca.crt",
                "namespace": namespace,
                "annotations": {
                    "kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                    "kube-apiserver when using internal endpoints such as the internal service IP or "
                    "kubernetes.default.svc. No other usage is guaranteed across distributions of "
                    "Kubernetes clusters."
                },
            },
            "data": {"ca.crt": ca},
        }
        _create_missing(objects, "configmaps", namespace, cm)


def prepare(store: Store) -> None:
    """Seed the system namespaces (again after a reset), each with what a new namespace holds."""
    objects = objects_for(store)
    for name in SYSTEM_NAMESPACES:
        if objects.get(NAMESPACES, "", name) is None:
            ns = {
                "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            _create_missing(objects, "namespaces", "", ns)
        namespace_created(objects, name, store.root)
    if objects.get(SERVICES, "default", "kubernetes") is None:
        ip = kubernetes_service_ip(objects)
        svc = {
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": ip,
                "clusterIPs": [ip],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
            },
            "status": {"loadBalancer": {}},
        }
        _create_missing(objects, "services", "default", svc)
    seed_default_class(objects)
    seed_ingress_class(objects, store)
    rbac_defaults.seed(objects)
