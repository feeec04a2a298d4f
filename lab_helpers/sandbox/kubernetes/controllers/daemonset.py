"""DaemonSet: one pod on each node that fits.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class DaemonSetController(Controller):
    name = "daemonset-controller"
