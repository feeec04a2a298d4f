"""``kubectl get`` columns: workloads kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {}


# -- DaemonSet and PodDisruptionBudget (the nodes' area) ---------------------------------------


def _daemonset(ds: Obj) -> list[Any]:
    from ..tables import _containers_images, _map_selector, age, label_selector_text

    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    return [
        int(st.get("desiredNumberScheduled") or 0),
        int(st.get("currentNumberScheduled") or 0),
        int(st.get("numberReady") or 0),
        int(st.get("updatedNumberScheduled") or 0),
        int(st.get("numberAvailable") or 0),
        _map_selector(template_spec.get("nodeSelector")),
        age(ds),
        *_containers_images(template_spec),
        label_selector_text(spec.get("selector")),
    ]


def _pdb(pdb: Obj) -> list[Any]:
    from ..tables import age

    spec, st = pdb.get("spec") or {}, pdb.get("status") or {}
    return [
        str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
        str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
        int(st.get("disruptionsAllowed") or 0),
        age(pdb),
    ]


PRINTERS["DaemonSet"] = (
    [
        ("Desired", "integer", 0, ""),
        ("Current", "integer", 0, ""),
        ("Ready", "integer", 0, ""),
        ("Up-to-date", "integer", 0, ""),
        ("Available", "integer", 0, ""),
        ("Node Selector", "string", 0, ""),
        ("Age", "string", 0, ""),
        ("Containers", "string", 1, ""),
        ("Images", "string", 1, ""),
        ("Selector", "string", 1, ""),
    ],
    _daemonset,
)
PRINTERS["PodDisruptionBudget"] = (
    [
        ("Min Available", "string", 0, ""),
        ("Max Unavailable", "string", 0, ""),
        ("Allowed Disruptions", "integer", 0, ""),
        ("Age", "string", 0, ""),
    ],
    _pdb,
)
