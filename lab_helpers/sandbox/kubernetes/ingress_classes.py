"""The sandbox's IngressClass: the controller name its ingress proxy answers to, and the default class a
new cluster holds (as ``storage_classes`` is for storage)."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

CONTROLLER = "sandbox.visualizing-compute/ingress"
DEFAULT_CLASS = "sandbox"
DEFAULT_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


def default_class() -> Obj:
    """The IngressClass a new sandbox cluster holds (the default one)."""
    return {
        "metadata": {
            "name": DEFAULT_CLASS,
            "annotations": {DEFAULT_ANNOTATION: "true"},
            "labels": {"app.kubernetes.io/name": "sandbox-ingress"},
        },
        "spec": {"controller": CONTROLLER},
    }
