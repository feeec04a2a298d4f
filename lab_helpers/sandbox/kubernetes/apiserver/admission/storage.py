"""Admission plugins for storage, as the API server runs them:

- DefaultStorageClass: a claim created without ``storageClassName`` gets the default class (the one
  annotated ``storageclass.kubernetes.io/is-default-class: "true"``; the newest when several are).
- StorageObjectInUseProtection: claims get the ``kubernetes.io/pvc-protection`` finalizer and volumes
  ``kubernetes.io/pv-protection``, so neither goes while in use (the volume controller lifts them).
- A StatefulSet's spec changes only in its mutable fields (not its ``volumeClaimTemplates``).
- PersistentVolumeClaimResize and the claim's update validation: only a bound claim's request may
  change, it may grow only when its class says ``allowVolumeExpansion: true``, and never below what
  the volume already has.

The API server's defaults for the storage kinds and StatefulSets (``volumeMode: Filesystem``,
``reclaimPolicy: Delete``, ``podManagementPolicy: OrderedReady`` ...) are set here too, before validation.
"""

from __future__ import annotations

from typing import Any

from ... import status
from ...resources import by_plural
from .request import Request

Obj = dict[str, Any]
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def storage_classes():  # noqa: ANN201 - a Resource, looked up lazily (resources imports admission's users)
    return by_plural("storageclasses", "storage.k8s.io")


def is_default(sc: Obj) -> bool:
    notes = sc.get("metadata", {}).get("annotations") or {}
    return notes.get(DEFAULT_CLASS) == "true" or notes.get(BETA_DEFAULT_CLASS) == "true"


def default_class(objects: Any) -> Obj | None:
    """The default StorageClass: the newest of those marked default (as 1.28+ picks), or None."""
    found = [sc for sc in objects.list(storage_classes())[0] if is_default(sc)]
    if not found:
        return None
    found.sort(key=lambda sc: (sc["metadata"].get("creationTimestamp", ""), sc["metadata"].get("name", "")))
    return found[-1]


def _add_finalizer(obj: Obj, finalizer: str) -> None:
    finalizers = obj.setdefault("metadata", {}).setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


def _claim_defaults(spec: Obj) -> None:
    spec.setdefault("volumeMode", "Filesystem")


def _sts_defaults(spec: Obj) -> None:
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    policy = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    policy.setdefault("whenDeleted", "Retain")
    policy.setdefault("whenScaled", "Retain")
    for template in spec.get("volumeClaimTemplates") or []:
        template.setdefault("apiVersion", "v1")
        template.setdefault("kind", "PersistentVolumeClaim")
        _claim_defaults(template.setdefault("spec", {}))
        template.setdefault("status", {"phase": "Pending"})


def mutate(req: Request) -> None:
    kind, obj = req.res.kind, req.obj
    spec = obj.setdefault("spec", {}) if kind in ("PersistentVolumeClaim", "PersistentVolume", "StatefulSet") else {}
    if kind == "PersistentVolumeClaim":
        _claim_defaults(spec)
        obj.setdefault("status", {}).setdefault("phase", "Pending")
        if req.old is None:
            if "storageClassName" not in spec or spec.get("storageClassName") is None:
                found = default_class(req.objects)
                if found is not None:
                    spec["storageClassName"] = found["metadata"]["name"]
            _add_finalizer(obj, PVC_PROTECTION)
    elif kind == "PersistentVolume":
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")
        if req.old is None:
            _add_finalizer(obj, PV_PROTECTION)
    elif kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif kind == "StatefulSet":
        _sts_defaults(spec)


def _storage(claim: Obj | None, where: str = "spec") -> int:
    if not claim:
        return 0
    if where == "spec":
        value = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    else:
        value = ((claim.get("status") or {}).get("capacity") or {}).get("storage")
    from ...controllers import quantity  # here: the controllers import admission

    try:
        return quantity.amount("storage", value) if value is not None else 0
    except ValueError:
        return 0


STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _validate_statefulset(req: Request) -> None:
    """A StatefulSet's spec may change only where the API server allows (volumeClaimTemplates may not)."""
    assert req.old is not None
    old, new = req.old.get("spec") or {}, req.obj.get("spec") or {}
    if {k: v for k, v in old.items() if k not in STS_MUTABLE} != {k: v for k, v in new.items() if k not in STS_MUTABLE}:
        raise status.invalid(
            "StatefulSet",
            "apps",
            req.obj.get("metadata", {}).get("name", ""),
            [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' "
                    "and 'minReadySeconds' are forbidden",
                    "field": "spec",
                }
            ],
        )


def validate(req: Request) -> None:
    if req.res.kind == "StatefulSet" and req.old is not None:
        _validate_statefulset(req)
        return
    if req.res.kind != "PersistentVolumeClaim" or req.old is None:
        return
    old, new = req.old, req.obj
    name = new.get("metadata", {}).get("name", "")
    old_size, new_size = _storage(old), _storage(new)
    if old_size == new_size:
        return
    bound = (old.get("status") or {}).get("phase") == "Bound" and bool((old.get("spec") or {}).get("volumeName"))
    if not bound:
        raise status.invalid(
            "PersistentVolumeClaim",
            "",
            name,
            [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims",
                    "field": "spec",
                }
            ],
        )
    capacity = _storage(old, "status")
    if new_size < old_size and new_size < capacity:
        raise status.invalid(
            "PersistentVolumeClaim",
            "",
            name,
            [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: field can not be less than status.capacity",
                    "field": "spec.resources.requests.storage",
                }
            ],
        )
    if new_size > old_size:
        class_name = (new.get("spec") or {}).get("storageClassName") or ""
        sc = req.objects.get(storage_classes(), "", class_name) if class_name else None
        if sc is None or not sc.get("allowVolumeExpansion"):
            raise status.forbidden_because(
                "persistentvolumeclaims",
                name,
                "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc "
                "must support resize",
            )
