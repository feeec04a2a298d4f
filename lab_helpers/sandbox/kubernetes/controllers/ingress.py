"""Ingress: the routes of the cluster's ingress listener and each Ingress's status.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class IngressController(Controller):
    name = "ingress-controller"
