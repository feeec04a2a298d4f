"""HorizontalPodAutoscaler: scales on measured CPU of process pods.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class HorizontalPodAutoscalerController(Controller):
    name = "horizontal-pod-autoscaler"
