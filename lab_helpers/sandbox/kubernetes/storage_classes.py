"""The StorageClass a new sandbox cluster holds, as a Jetstream2 Magnum cluster's Cinder CSI add-on
installs it: ``csi-cinder``, the default class, provisioned by ``cinder.csi.openstack.org``, volumes
deleted with their claim, growable. Binding is ``Immediate``: a claim gets its Cinder volume as soon as
it is made (a class with ``volumeBindingMode: WaitForFirstConsumer`` waits for a pod's node)."""

from __future__ import annotations

from ..errors import ApiError
from .objects import Objects
from .resources import by_plural

DEFAULT_CLASS_NAME = "csi-cinder"
PROVISIONER = "cinder.csi.openstack.org"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def seed_default_class(objects: Objects) -> None:
    """Create the default StorageClass where it is missing (a new cluster, or after a reset)."""
    res = by_plural("storageclasses", "storage.k8s.io")
    if objects.get(res, "", DEFAULT_CLASS_NAME) is None:
        try:
            objects.create(
                res,
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "StorageClass",
                    "metadata": {"name": DEFAULT_CLASS_NAME, "annotations": {DEFAULT_CLASS: "true"}},
                    "provisioner": PROVISIONER,
                    "parameters": {"availability": "nova"},
                    "reclaimPolicy": "Delete",
                    "volumeBindingMode": "Immediate",
                    "allowVolumeExpansion": True,
                },
            )
        except ApiError:  # made meanwhile by another writer
            pass
