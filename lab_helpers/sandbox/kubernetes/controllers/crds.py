"""CustomResourceDefinition: names accepted, Established.
To be filled in."""

from __future__ import annotations

from .loop import Controller


class CustomResourceDefinitionController(Controller):
    name = "apiextensions-controller"
