"""``kubectl get`` columns: storage kinds (StorageClass, PersistentVolume, PersistentVolumeClaim,
VolumeAttachment) and StatefulSets, as the API server's printers fill them (Kubernetes 1.35)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cells import age

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format

_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
UNSET = "<unset>"


def access_modes(modes: list[str] | None) -> str:
    return ",".join(_MODES.get(m, m) for m in modes or [])


def _storage_class(sc: Obj) -> list[Any]:
    return [
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion")),
        age(sc),
    ]


def _pv(pv: Obj) -> list[Any]:
    spec, st = pv.get("spec") or {}, pv.get("status") or {}
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref.get("name") else ""
    phase = st.get("phase") or ""
    if pv.get("metadata", {}).get("deletionTimestamp"):
        phase = "Terminating"
    return [
        (spec.get("capacity") or {}).get("storage", ""),
        access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy") or "",
        phase,
        claim,
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or UNSET,
        st.get("reason") or "",
        age(pv),
        spec.get("volumeMode") or "Filesystem",
    ]


def _pvc(pvc: Obj) -> list[Any]:
    spec, st = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = st.get("phase") or "Pending"
    if pvc.get("metadata", {}).get("deletionTimestamp"):
        phase = "Terminating"
    bound = bool(spec.get("volumeName")) and phase != "Pending"
    return [
        phase,
        spec.get("volumeName") or "",
        (st.get("capacity") or {}).get("storage", "") if bound else "",
        access_modes(st.get("accessModes")) if bound else "",
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or UNSET,
        age(pvc),
        spec.get("volumeMode") or "Filesystem",
    ]


def _volume_attachment(va: Obj) -> list[Any]:
    spec = va.get("spec") or {}
    return [
        spec.get("attacher", ""),
        (spec.get("source") or {}).get("persistentVolumeName") or "",
        spec.get("nodeName", ""),
        bool((va.get("status") or {}).get("attached")),
        age(va),
    ]


def _statefulset(sts: Obj) -> list[Any]:
    spec, st = sts.get("spec") or {}, sts.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return [
        f"{int(st.get('readyReplicas') or 0)}/{int(spec.get('replicas', 1))}",
        age(sts),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    ]


PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "StorageClass": (
        [
            ("Provisioner", "string", 0, ""),
            ("ReclaimPolicy", "string", 0, ""),
            ("VolumeBindingMode", "string", 0, ""),
            ("AllowVolumeExpansion", "string", 0, ""),
            ("Age", "string", 0, ""),
        ],
        _storage_class,
    ),
    "PersistentVolume": (
        [
            ("Capacity", "string", 0, ""),
            ("Access Modes", "string", 0, ""),
            ("Reclaim Policy", "string", 0, ""),
            ("Status", "string", 0, ""),
            ("Claim", "string", 0, ""),
            ("StorageClass", "string", 0, ""),
            ("VolumeAttributesClass", "string", 0, ""),
            ("Reason", "string", 0, ""),
            ("Age", "string", 0, ""),
            ("VolumeMode", "string", 1, ""),
        ],
        _pv,
    ),
    "PersistentVolumeClaim": (
        [
            ("Status", "string", 0, ""),
            ("Volume", "string", 0, ""),
            ("Capacity", "string", 0, ""),
            ("Access Modes", "string", 0, ""),
            ("StorageClass", "string", 0, ""),
            ("VolumeAttributesClass", "string", 0, ""),
            ("Age", "string", 0, ""),
            ("VolumeMode", "string", 1, ""),
        ],
        _pvc,
    ),
    "VolumeAttachment": (
        [
            ("Attacher", "string", 0, ""),
            ("PV", "string", 0, ""),
            ("Node", "string", 0, ""),
            ("Attached", "boolean", 0, ""),
            ("Age", "string", 0, ""),
        ],
        _volume_attachment,
    ),
    "StatefulSet": (
        [
            ("Ready", "string", 0, ""),
            ("Age", "string", 0, ""),
            ("Containers", "string", 1, ""),
            ("Images", "string", 1, ""),
        ],
        _statefulset,
    ),
}
