"""PodDisruptionBudget: status (how many pods may be disrupted now).
To be filled in."""

from __future__ import annotations

from .loop import Controller


class DisruptionController(Controller):
    name = "disruption-controller"
