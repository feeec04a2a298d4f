"""StatefulSet: ordinal pods, each with its own claims from volumeClaimTemplates.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class StatefulSetController(Controller):
    name = "statefulset-controller"
