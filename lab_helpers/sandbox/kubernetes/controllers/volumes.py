"""PersistentVolumes and claims: dynamic provisioning of sandbox Cinder volumes, binding, attach while used, expansion, reclaim.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class PersistentVolumeController(Controller):
    name = "persistentvolume-binder-controller"
