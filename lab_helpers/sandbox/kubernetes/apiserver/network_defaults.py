"""What the API server fills in on a write of a network kind (called from ``defaults.apply``):

- an Ingress created without ``spec.ingressClassName`` (and without the legacy
  ``kubernetes.io/ingress.class`` annotation) gets the default IngressClass's name, as the
  DefaultIngressClass admission plugin sets it; with several defaults, the newest one;
- a NetworkPolicy is annotated ``sandbox.visualizing-compute/simulated``: the sandbox stores and
  validates it, but its pods are processes sharing the host's network, so nothing is filtered."""

from __future__ import annotations

from typing import Any

from ...store import Store
from ..ingress_classes import default_class
from ..objects import Objects
from ..resources import by_plural

Obj = dict[str, Any]
CLASSES = by_plural("ingressclasses", "networking.k8s.io")
DEFAULT_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
LEGACY_ANNOTATION = "kubernetes.io/ingress.class"
SEEDED_KEY = "k8s_seeded:ingressclass"
SIMULATED_KEY = "sandbox.visualizing-compute/simulated"
POLICY_NOTE = (
    "stored and validated, not enforced: the sandbox's pods are processes sharing the host's network "
    "namespace, so no traffic is filtered"
)


def ingress(obj: Obj, objects: Objects, old: Obj | None) -> None:
    if old is not None:
        return
    spec = obj.get("spec")
    meta = obj.get("metadata") or {}
    if not isinstance(spec, dict) or spec.get("ingressClassName"):
        return
    if isinstance(meta.get("annotations"), dict) and meta["annotations"].get(LEGACY_ANNOTATION):
        return
    classes, _ = objects.list(CLASSES)
    defaults = [c for c in classes if (c["metadata"].get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"]
    if defaults:
        newest = max(defaults, key=lambda c: (c["metadata"].get("creationTimestamp", ""), c["metadata"]["name"]))
        spec["ingressClassName"] = newest["metadata"]["name"]


def network_policy(obj: Obj) -> None:
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return
    annotations = meta.get("annotations")
    if annotations is None:
        annotations = meta["annotations"] = {}
    if isinstance(annotations, dict):
        annotations[SIMULATED_KEY] = POLICY_NOTE


def seed_ingress_class(objects: Objects, store: Store) -> None:
    """The default IngressClass, made once per cluster (a learner may delete or replace it after)."""
    if store.meta(SEEDED_KEY):
        return
    from ...errors import ApiError

    if objects.get(CLASSES, "", default_class()["metadata"]["name"]) is None:
        try:
            objects.create(CLASSES, default_class())
        except ApiError:  # made meanwhile
            pass
    with store.tx():
        store.set_meta(SEEDED_KEY, "1")
