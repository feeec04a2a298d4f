"""PersistentVolumes and their claims, as kube-controller-manager's PV binder and attach-detach
controllers and the Cinder CSI driver's provisioner, attacher and resizer do them together:

- Binding: a pending claim takes the smallest Available volume that fits it (class, access modes,
  size, volume mode, selector); else, when its class is provisioned by ``cinder.csi.openstack.org``,
  a real sandbox Cinder volume ``pvc-<claim uid>`` is made (GiB rounded up) in the project that owns
  the cluster's VMs, and a PersistentVolume ``pvc-<claim uid>`` bound to the claim
  (``ExternalProvisioning``, ``Provisioning``, ``ProvisioningSucceeded`` events). A
  ``WaitForFirstConsumer`` class waits for the scheduler's ``volume.kubernetes.io/selected-node``.
- Reclaim: when a claim goes, its volume is ``Released``; ``Delete`` removes the Cinder volume (once
  detached) and the PersistentVolume, ``Retain`` keeps both.
- Expansion: a larger request extends the Cinder volume (``os-extend``) and the volume's capacity;
  the claim shows ``FileSystemResizePending`` until a pod has it mounted, then its new capacity.
- Attach while used: a volume used by a scheduled pod is attached to that node's VM (a
  VolumeAttachment, and the Nova attachment openstacksdk lists), detached when no pod there uses it.
  A ReadWriteOnce volume is on one node at a time: a pod elsewhere waits with the Multi-Attach error.
- Protection: a claim in use by a pod, and a bound volume, stay (``Terminating``) until free.
- Usage: the bytes pods wrote to a volume are shown on its PersistentVolume
  (``sandbox.visualizing-compute/bytes-written``) and a Warning event tells of a volume written past
  its size (the simulated file system does not refuse the writes).

Everything is read back from the stored objects and the cloud's records, so a restart resumes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any

from ...errors import ApiError
from .. import cloud_volumes
from ..events import record
from ..resources import by_plural
from . import quantity, selectors
from .common import Obj, clone, created, deleting, name_of, namespace_of, now_stamp, terminal, uid_of
from .loop import Change, Controller, Key, api_code

PVCS = by_plural("persistentvolumeclaims")
PVS = by_plural("persistentvolumes")
PODS = by_plural("pods")
NODES = by_plural("nodes")
CLASSES = by_plural("storageclasses", "storage.k8s.io")
ATTACHMENTS = by_plural("volumeattachments", "storage.k8s.io")

DRIVER = cloud_volumes.DRIVER
BINDER = "persistentvolume-controller"
ATTACHER = "attachdetach-controller"
PROVISIONER_ID = f"{DRIVER}_csi-cinder-controllerplugin-0_sandbox"
RESIZER = "external-resizer cinder.csi.openstack.org"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"
SIMULATED_KEY = "sandbox.visualizing-compute/simulated"
SIMULATED = (
    "a real sandbox Cinder volume (openstack volume show); the node's file system on it is simulated: "
    "pods see a folder kept with the volume that follows it from node to node"
)
GIB = 1024**3
BYTES_WRITTEN_KEY = "sandbox.visualizing-compute/bytes-written"


def request_bytes(claim: Obj) -> int:
    value = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return quantity.amount("storage", value) if value is not None else 0
    except ValueError:
        return 0


def capacity_bytes(obj: Obj, where: str = "spec") -> int:
    section = (obj.get(where) or {}).get("capacity") or {}
    try:
        return quantity.amount("storage", section.get("storage", 0))
    except ValueError:
        return 0


def gib_of(size: int) -> int:
    return max(1, math.ceil(size / GIB))


def claim_names(pod: Obj) -> list[str]:
    """The claims a pod's volumes name (ephemeral volumes' claims are ``<pod>-<volume>``)."""
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if "persistentVolumeClaim" in v:
            out.append(str((v["persistentVolumeClaim"] or {}).get("claimName", "")))
        elif "ephemeral" in v:
            out.append(f"{name_of(pod)}-{v.get('name', '')}")
    return out


def attachment_name(handle: str, node: str) -> str:
    """``csi-<sha256(volume handle + driver + node)>``, the name the attach-detach controller gives."""
    return "csi-" + hashlib.sha256(f"{handle}{DRIVER}{node}".encode()).hexdigest()


def single_node(modes: list[str]) -> bool:
    return not any(m in ("ReadWriteMany", "ReadOnlyMany") for m in modes)


class PersistentVolumeController(Controller):
    name = "persistentvolume-binder-controller"

    # -- what to look at -------------------------------------------------------------------------
    def observe(self, change: Change) -> None:
        obj, res = change.obj, change.res
        if res is PVCS:
            self.queue.add(("claim", namespace_of(obj), name_of(obj)))
            for o in (change.old, obj):
                vol = ((o or {}).get("spec") or {}).get("volumeName")
                if vol:
                    self.queue.add(("volume", vol))
                    self.queue.add(("attach", vol))
        elif res is PVS:
            self.queue.add(("volume", name_of(obj)))
            self.queue.add(("attach", name_of(obj)))
            ref = (obj.get("spec") or {}).get("claimRef") or {}
            if ref.get("name"):
                self.queue.add(("claim", str(ref.get("namespace", "")), str(ref["name"])))
            if change.type != "DELETED" and not ref:
                self._queue_pending()
        elif res is PODS:
            ns = namespace_of(obj)
            for o in (change.old, obj):
                for claim_name in claim_names(o or {}):
                    self.queue.add(("claim", ns, claim_name))
                    claim = self.cache.get(PVCS, ns, claim_name)
                    vol = ((claim or {}).get("spec") or {}).get("volumeName")
                    if vol:
                        self.queue.add(("attach", vol))
        elif res is ATTACHMENTS:
            vol = (((obj.get("spec") or {}).get("source") or {}).get("persistentVolumeName")) or ""
            if vol:
                self.queue.add(("attach", vol))
        elif res is CLASSES or res is NODES:
            if res is CLASSES or change.type == "ADDED":
                self._queue_pending()

    def _queue_pending(self) -> None:
        for claim in self.cache.list(PVCS):
            if not (claim.get("spec") or {}).get("volumeName"):
                self.queue.add(("claim", namespace_of(claim), name_of(claim)))

    def keys(self) -> Iterable[Key]:
        out: list[Key] = [("claim", namespace_of(c), name_of(c)) for c in self.cache.list(PVCS)]
        for pv in self.cache.list(PVS):
            out += [("volume", name_of(pv)), ("attach", name_of(pv))]
        return out

    def reconcile(self, key: Key) -> float | None:
        if key[0] == "claim":
            return self._claim(key[1], key[2])
        if key[0] == "volume":
            return self._volume(key[1])
        if key[0] == "attach":
            return self._attach(key[1])
        return None

    # -- helpers -------------------------------------------------------------------------------
    def _state_dir(self) -> Any:
        return self.ctx.state_dir

    def _users(self, claim: Obj) -> list[Obj]:
        """Pods that use the claim and have not finished, oldest first."""
        name = name_of(claim)
        pods = [p for p in self.cache.list(PODS, namespace_of(claim)) if name in claim_names(p) and not terminal(p)]
        return sorted(pods, key=lambda p: (created(p), name_of(p)))

    def _save(self, res: Any, obj: Obj) -> Obj | None:
        try:
            return self.objects.update(res, obj)
        except ApiError as err:
            if api_code(err) == 404:
                return None
            raise

    def _set_claim_phase(self, claim: Obj, phase: str) -> None:
        if (claim.get("status") or {}).get("phase") != phase:
            changed = clone(claim)
            changed.setdefault("status", {})["phase"] = phase
            self._save(PVCS, changed)

    # -- claims --------------------------------------------------------------------------------
    def _claim(self, ns: str, name: str) -> float | None:
        claim = self.cache.get(PVCS, ns, name)
        if claim is None:
            return None
        if deleting(claim):
            if PVC_PROTECTION in (claim["metadata"].get("finalizers") or []) and not self._users(claim):
                changed = clone(claim)
                changed["metadata"]["finalizers"] = [
                    f for f in changed["metadata"]["finalizers"] if f != PVC_PROTECTION
                ]
                self._save(PVCS, changed)
            return None
        spec = claim.get("spec") or {}
        if spec.get("volumeName"):
            return self._bound_claim(claim)
        pv = self._matching_volume(claim)
        if pv is not None:
            self._bind(pv, claim)
            return None
        class_name = spec.get("storageClassName") or ""
        if not class_name:
            self._pending_event(
                claim,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                "Warning",
            )
            return None
        sc = self.cache.get(CLASSES, "", class_name)
        if sc is None:
            self._pending_event(
                claim, "ProvisioningFailed", f'storageclass.storage.k8s.io "{class_name}" not found', "Warning"
            )
            return None
        if sc.get("provisioner") != DRIVER:
            self._pending_event(
                claim,
                "ExternalProvisioning",
                f"Waiting for a volume to be created either by the external provisioner '{sc.get('provisioner')}' or "
                "manually by the system administrator. If volume creation is delayed, please verify that the "
                "provisioner is running and correctly registered.",
            )
            return None
        notes = claim["metadata"].get("annotations") or {}
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not notes.get(SELECTED_NODE):
            self._pending_event(
                claim, "WaitForFirstConsumer", "waiting for first consumer to be created before binding"
            )
            return None
        return self._provision(claim, sc)

    def _pending_event(self, claim: Obj, reason: str, message: str, type: str = "Normal") -> None:
        self._set_claim_phase(claim, "Pending")
        record(self.objects, claim, reason, message, type=type, component=BINDER)

    def _matching_volume(self, claim: Obj) -> Obj | None:
        spec = claim.get("spec") or {}
        want = request_bytes(claim)
        modes = set(spec.get("accessModes") or [])
        klass = spec.get("storageClassName") or ""
        best: Obj | None = None
        for pv in self.cache.list(PVS):
            pspec = pv.get("spec") or {}
            ref = pspec.get("claimRef") or {}
            if deleting(pv) or (pv.get("status") or {}).get("phase") in ("Released", "Failed"):
                continue
            if ref and not (
                ref.get("name") == name_of(claim) and ref.get("namespace") == namespace_of(claim) and not ref.get("uid")
            ):
                continue
            if (pspec.get("storageClassName") or "") != klass:
                continue
            if not modes <= set(pspec.get("accessModes") or []):
                continue
            if (pspec.get("volumeMode") or "Filesystem") != (spec.get("volumeMode") or "Filesystem"):
                continue
            if capacity_bytes(pv) < want:
                continue
            if spec.get("selector") and not selectors.label_selector(
                spec["selector"], pv["metadata"].get("labels") or {}
            ):
                continue
            if ref:  # pre-bound to this claim: it wins
                return pv
            if best is None or capacity_bytes(pv) < capacity_bytes(best):
                best = pv
        return best

    def _bind(self, pv: Obj, claim: Obj) -> None:
        """Both halves of a binding: the volume's claimRef and phase, then the claim's volumeName and status."""
        changed = clone(pv)
        changed["spec"]["claimRef"] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": name_of(claim),
            "namespace": namespace_of(claim),
            "uid": uid_of(claim),
            "resourceVersion": claim["metadata"].get("resourceVersion", ""),
        }
        changed.setdefault("status", {})["phase"] = "Bound"
        notes = changed["metadata"].setdefault("annotations", {})
        notes.setdefault("pv.kubernetes.io/bound-by-controller", "yes")
        saved = self._save(PVS, changed)
        if saved is None:
            return
        self._finish_claim(claim, saved)

    def _finish_claim(self, claim: Obj, pv: Obj) -> None:
        changed = clone(claim)
        changed["spec"]["volumeName"] = name_of(pv)
        notes = changed["metadata"].setdefault("annotations", {})
        notes["pv.kubernetes.io/bind-completed"] = "yes"
        notes["pv.kubernetes.io/bound-by-controller"] = "yes"
        st = changed.setdefault("status", {})
        st["phase"] = "Bound"
        st["accessModes"] = list((pv.get("spec") or {}).get("accessModes") or [])
        st["capacity"] = {"storage": (pv.get("spec") or {}).get("capacity", {}).get("storage", "0")}
        self._save(PVCS, changed)

    def _bound_claim(self, claim: Obj) -> float | None:
        spec = claim["spec"]
        pv = self.cache.get(PVS, "", spec["volumeName"])
        if pv is None:
            if (claim.get("status") or {}).get("phase") != "Lost":
                self._set_claim_phase(claim, "Lost")
                record(
                    self.objects,
                    claim,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                    type="Warning",
                    component=BINDER,
                )
            return None
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if not ref:
            self._bind(pv, claim)  # the claim names a free volume: take it
            return None
        if ref.get("uid") != uid_of(claim):
            return None  # the volume is someone else's: the claim waits
        st = claim.get("status") or {}
        if st.get("phase") != "Bound" or not st.get("capacity"):
            self._finish_claim(claim, pv)
            return None
        self._report_usage(claim, pv)
        return self._expand(claim, pv)

    def _report_usage(self, claim: Obj, pv: Obj) -> None:
        """The bytes pods have written to the volume, on the PersistentVolume (simulated: the folder
        standing for the volume's file system has no size limit, so an over-full volume is only told)."""
        handle = str(((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle") or "")
        if not handle:
            return
        written = cloud_volumes.bytes_written(self._state_dir(), handle)
        size = capacity_bytes(pv)
        shown = f"{written} of {size} bytes"
        notes = pv["metadata"].get("annotations") or {}
        if notes.get(BYTES_WRITTEN_KEY) == shown:
            return
        changed = clone(pv)
        changed["metadata"].setdefault("annotations", {})[BYTES_WRITTEN_KEY] = shown
        self._save(PVS, changed)
        if written > size:
            record(
                self.objects,
                claim,
                "VolumeOverfull",
                f"sandbox: {written} bytes written to a volume of {size} bytes; a real volume would have refused "
                "the writes past its size (No space left on device)",
                type="Warning",
                component="kubelet",
            )

    # -- provisioning ----------------------------------------------------------------------------
    def _provision(self, claim: Obj, sc: Obj) -> float | None:
        ns, name, uid = namespace_of(claim), name_of(claim), uid_of(claim)
        pv_name = f"pvc-{uid}"
        notes = claim["metadata"].get("annotations") or {}
        if notes.get("volume.kubernetes.io/storage-provisioner") != DRIVER:
            changed = clone(claim)
            extra = changed["metadata"].setdefault("annotations", {})
            extra["volume.beta.kubernetes.io/storage-provisioner"] = DRIVER
            extra["volume.kubernetes.io/storage-provisioner"] = DRIVER
            changed.setdefault("status", {})["phase"] = "Pending"
            claim = self._save(PVCS, changed) or claim
            record(
                self.objects,
                claim,
                "ExternalProvisioning",
                f"Waiting for a volume to be created either by the external provisioner '{DRIVER}' or manually by "
                "the system administrator. If volume creation is delayed, please verify that the provisioner is "
                "running and correctly registered.",
                component=BINDER,
            )
            record(
                self.objects,
                claim,
                "Provisioning",
                f'External provisioner is provisioning volume for claim "{ns}/{name}"',
                component=PROVISIONER_ID,
            )
        existing = self.cache.get(PVS, "", pv_name)
        if existing is not None:
            self._bind(existing, claim)
            return None
        nodes = self.cache.list(NODES)
        selected = notes.get(SELECTED_NODE)
        if selected:
            nodes = [n for n in nodes if name_of(n) == selected] or nodes
        owner = cloud_volumes.cluster_owner(self.objects, nodes)
        if owner is None:
            record(
                self.objects,
                claim,
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{name_of(sc)}": rpc error: code = Internal desc = '
                "CreateVolume failed: no node of this cluster is a sandbox VM (nodes name theirs in spec.providerID), "
                "so there is no OpenStack project to create the volume in",
                type="Warning",
                component=PROVISIONER_ID,
            )
            return 10.0
        size = gib_of(request_bytes(claim))
        cluster = str((owner.get("metadata") or {}).get("course-cluster") or "kubernetes")
        meta = {
            cloud_volumes.CLUSTER_KEY: cluster,
            "csi.storage.k8s.io/pvc/name": name,
            "csi.storage.k8s.io/pvc/namespace": ns,
            "csi.storage.k8s.io/pv/name": pv_name,
        }
        try:
            vol = cloud_volumes.create(self.objects.store, self._state_dir(), owner, pv_name, size, meta)
        except cloud_volumes.CloudVolumeError as exc:
            record(
                self.objects,
                claim,
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{name_of(sc)}": rpc error: code = Internal desc = '
                f"CreateVolume failed with error {exc}",
                type="Warning",
                component=PROVISIONER_ID,
            )
            return 10.0
        spec = claim.get("spec") or {}
        pv: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": pv_name,
                "annotations": {
                    "pv.kubernetes.io/provisioned-by": DRIVER,
                    "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                    "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
                    SIMULATED_KEY: SIMULATED,
                },
                "finalizers": [PROVISIONER_FINALIZER],
            },
            "spec": {
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "capacity": {"storage": f"{size}Gi"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "name": name,
                    "namespace": ns,
                    "uid": uid,
                    "resourceVersion": claim["metadata"].get("resourceVersion", ""),
                },
                "csi": {
                    "driver": DRIVER,
                    "fsType": "ext4",
                    "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": PROVISIONER_ID},
                    "volumeHandle": vol["id"],
                },
                "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
                "storageClassName": name_of(sc),
                "volumeMode": spec.get("volumeMode") or "Filesystem",
            },
        }
        try:
            made = self.create(PVS, pv)
        except ApiError as err:
            if api_code(err) != 409:
                raise
            made = self.objects.get(PVS, "", pv_name) or pv
        record(
            self.objects,
            claim,
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {pv_name}",
            component=PROVISIONER_ID,
        )
        made = clone(made)
        made.setdefault("status", {})["phase"] = "Bound"
        made = self._save(PVS, made) or made
        self._finish_claim(claim, made)
        return None

    # -- expansion -----------------------------------------------------------------------------
    def _expand(self, claim: Obj, pv: Obj) -> float | None:
        want = request_bytes(claim)
        have = capacity_bytes(pv)
        handle = str(((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle") or "")
        st = claim.get("status") or {}
        conds = st.get("conditions") or []
        if want > have and handle:
            size = gib_of(want)
            record(
                self.objects, claim, "Resizing", f"External resizer is resizing volume {name_of(pv)}", component=RESIZER
            )
            try:
                cloud_volumes.extend(self.objects.store, self._state_dir(), handle, size)
            except cloud_volumes.CloudVolumeError as exc:
                record(
                    self.objects,
                    claim,
                    "VolumeResizeFailed",
                    f"resize volume {name_of(pv)} failed: {exc}",
                    type="Warning",
                    component=RESIZER,
                )
                return 10.0
            grown = clone(pv)
            grown["spec"]["capacity"] = {"storage": f"{size}Gi"}
            self._save(PVS, grown)
            changed = clone(claim)
            cst = changed.setdefault("status", {})
            cst["allocatedResources"] = {"storage": (claim["spec"]["resources"]["requests"]["storage"])}
            cst["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
            cst["conditions"] = [
                {
                    "type": "FileSystemResizePending",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": now_stamp(),
                    "message": "Waiting for user to (re-)start a pod to finish file system resize of volume on node.",
                }
            ]
            self._save(PVCS, changed)
            record(self.objects, claim, "VolumeResizeSuccessful", "Resize volume succeeded", component=RESIZER)
            return None
        if any(c.get("type") == "FileSystemResizePending" for c in conds):
            running = [
                p
                for p in self._users(claim)
                if (p.get("spec") or {}).get("nodeName") and (p.get("status") or {}).get("phase") == "Running"
            ]
            if not running:
                return None  # a pod that mounts the volume finishes the resize
            node = (running[0].get("spec") or {}).get("nodeName")
            changed = clone(claim)
            cst = changed["status"]
            cst["capacity"] = {"storage": pv["spec"]["capacity"]["storage"]}
            cst["conditions"] = [c for c in conds if c.get("type") != "FileSystemResizePending"]
            if not cst["conditions"]:
                del cst["conditions"]
            cst.pop("allocatedResourceStatuses", None)
            self._save(PVCS, changed)
            record(
                self.objects,
                running[0],
                "FileSystemResizeSuccessful",
                f'MountVolume.NodeExpandVolume succeeded for volume "{name_of(pv)}" {node}',
                component="kubelet",
            )
        return None

    # -- volumes -------------------------------------------------------------------------------
    def _volume(self, name: str) -> float | None:
        pv = self.cache.get(PVS, "", name)
        if pv is None:
            return None
        spec = pv.get("spec") or {}
        ref = spec.get("claimRef") or {}
        phase = (pv.get("status") or {}).get("phase")
        claim = self.cache.get(PVCS, str(ref.get("namespace", "")), str(ref.get("name", ""))) if ref else None
        claim_alive = claim is not None and (not ref.get("uid") or uid_of(claim) == ref.get("uid"))
        if deleting(pv):
            if claim_alive and phase == "Bound":
                return None  # pv-protection: a bound volume stays
            return self._delete_volume(pv, drop_object=False)
        if not ref:
            if phase != "Available":
                self._set_pv_phase(pv, "Available")
            return None
        if claim_alive:
            if claim is not None and (claim.get("spec") or {}).get("volumeName") == name and phase != "Bound":
                self._set_pv_phase(pv, "Bound")
            return None
        if not ref.get("uid"):
            if phase != "Available":
                self._set_pv_phase(pv, "Available")  # pre-bound to a claim not made yet
            return None
        if phase != "Released":
            pv = self._set_pv_phase(pv, "Released") or pv
        if spec.get("persistentVolumeReclaimPolicy") == "Delete":
            return self._delete_volume(pv, drop_object=True)
        return None

    def _set_pv_phase(self, pv: Obj, phase: str) -> Obj | None:
        changed = clone(pv)
        changed.setdefault("status", {})["phase"] = phase
        if phase != "Released":
            changed["status"].pop("message", None)
        return self._save(PVS, changed)

    def _delete_volume(self, pv: Obj, *, drop_object: bool) -> float | None:
        """Delete what the volume holds (the Cinder volume, for a Delete policy) and then the object."""
        spec = pv.get("spec") or {}
        handle = str((spec.get("csi") or {}).get("volumeHandle") or "")
        dynamic = (pv["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by") == DRIVER
        if spec.get("persistentVolumeReclaimPolicy") == "Delete" and dynamic and handle:
            if any(self._attachments_of(name_of(pv))):
                return 0.5  # detached first
            if not cloud_volumes.delete(self.objects.store, self._state_dir(), handle):
                return 1.0
        finalizers = [
            f for f in pv["metadata"].get("finalizers") or [] if f not in (PV_PROTECTION, PROVISIONER_FINALIZER)
        ]
        if finalizers != (pv["metadata"].get("finalizers") or []):
            changed = clone(pv)
            changed["metadata"]["finalizers"] = finalizers
            if not finalizers:
                del changed["metadata"]["finalizers"]
            if self._save(PVS, changed) is None:
                return None
        if drop_object and not deleting(pv):
            try:
                self.objects.delete(PVS, "", name_of(pv))
            except ApiError as err:
                if api_code(err) != 404:
                    raise
        return None

    # -- attach and detach ---------------------------------------------------------------------
    def _attachments_of(self, pv_name: str) -> list[Obj]:
        return [
            va
            for va in self.cache.list(ATTACHMENTS)
            if ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") == pv_name
        ]

    def _attach(self, pv_name: str) -> float | None:
        pv = self.cache.get(PVS, "", pv_name)
        existing = self._attachments_of(pv_name)
        wanted: list[str] = []
        handle = ""
        users: list[Obj] = []
        if pv is not None:
            spec = pv.get("spec") or {}
            handle = str((spec.get("csi") or {}).get("volumeHandle") or "")
            ref = spec.get("claimRef") or {}
            claim = self.cache.get(PVCS, str(ref.get("namespace", "")), str(ref.get("name", ""))) if ref else None
            if claim is not None and uid_of(claim) == ref.get("uid") and handle:
                users = [p for p in self._users(claim) if (p.get("spec") or {}).get("nodeName")]
            for pod in users:
                node = str(pod["spec"]["nodeName"])
                if node not in wanted:
                    wanted.append(node)
            if wanted and single_node(list(spec.get("accessModes") or [])):
                have = [str(va["spec"].get("nodeName")) for va in existing if va["spec"].get("nodeName") in wanted]
                keep = have[0] if have else wanted[0]
                for pod in users:
                    if pod["spec"]["nodeName"] != keep:
                        holders = [name_of(p) for p in users if p["spec"]["nodeName"] == keep]
                        record(
                            self.objects,
                            pod,
                            "FailedAttachVolume",
                            f'Multi-Attach error for volume "{pv_name}" Volume is already used by pod(s) '
                            + ", ".join(holders),
                            type="Warning",
                            component=ATTACHER,
                        )
                wanted = [keep]
        again: float | None = None
        for va in existing:  # detach first: a volume moving to another node leaves the old one
            node = str(va["spec"].get("nodeName"))
            if node in wanted:
                continue
            server = cloud_volumes.node_server(self.objects, self.cache.get(NODES, "", node))
            vid = handle or str(((va.get("status") or {}).get("attachmentMetadata") or {}).get("volumeId") or "")
            if server is not None and vid:
                cloud_volumes.detach(self.objects.store, vid, str(server["id"]))
            elif vid:  # the node object is gone: detach from every VM that is not a wanted node's
                staying = {
                    str(s["id"])
                    for n in wanted
                    if (s := cloud_volumes.node_server(self.objects, self.cache.get(NODES, "", n))) is not None
                }
                for sid in cloud_volumes.attached_to(cloud_volumes.get(self.objects.store, vid)):
                    if sid not in staying:
                        cloud_volumes.detach(self.objects.store, vid, sid)
            try:
                self.objects.delete(ATTACHMENTS, "", name_of(va))
            except ApiError as err:
                if api_code(err) != 404:
                    raise
        for node in wanted:
            again = self._attach_one(pv_name, handle, node, users) or again
        return again

    def _attach_one(self, pv_name: str, handle: str, node: str, users: list[Obj]) -> float | None:
        va_name = attachment_name(handle, node)
        va = self.cache.get(ATTACHMENTS, "", va_name)
        if va is None:
            va = self.create(
                ATTACHMENTS,
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "VolumeAttachment",
                    "metadata": {"name": va_name, "annotations": {"csi.alpha.kubernetes.io/node-id": node}},
                    "spec": {"attacher": DRIVER, "nodeName": node, "source": {"persistentVolumeName": pv_name}},
                },
            )
        if (va.get("status") or {}).get("attached"):
            return None
        server = cloud_volumes.node_server(self.objects, self.cache.get(NODES, "", node))
        vol = cloud_volumes.get(self.objects.store, handle)
        error = ""
        if server is None:
            error = f"node {node} is not a sandbox VM: nothing to attach the Cinder volume to"
        elif vol is None:
            error = f"Volume {handle} could not be found."
        else:
            others = [s for s in cloud_volumes.attached_to(vol) if s != server["id"]]
            if others or cloud_volumes.status(vol) not in ("available", "in-use"):
                return 0.3  # still creating, or still on the node it is leaving
            try:
                vol = cloud_volumes.attach(self.objects.store, handle, str(server["id"]))
            except cloud_volumes.CloudVolumeError as exc:
                error = str(exc)
        changed = clone(va)
        if error:
            changed["status"] = {
                "attached": False,
                "attachError": {"time": now_stamp(), "message": f"rpc error: code = Internal desc = {error}"},
            }
            self._save(ATTACHMENTS, changed)
            return 5.0
        assert server is not None and vol is not None
        changed["status"] = {
            "attached": True,
            "attachmentMetadata": {"DevicePath": cloud_volumes.device_of(vol, str(server["id"])), "volumeId": handle},
        }
        self._save(ATTACHMENTS, changed)
        for pod in users:
            if pod["spec"].get("nodeName") == node:
                record(
                    self.objects,
                    pod,
                    "SuccessfulAttachVolume",
                    f'AttachVolume.Attach succeeded for volume "{pv_name}" ',
                    component=ATTACHER,
                )
        return None
