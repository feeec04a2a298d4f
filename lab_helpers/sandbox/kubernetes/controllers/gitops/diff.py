"""Desired against live, as Argo CD compares them: only the fields the desired object sets count (what the
API server adds as defaults, and status, are not drift), quantities compare by value (``0.5`` is ``500m``),
and a Secret's ``stringData`` is its ``data`` encoded."""

from __future__ import annotations

import base64
import copy
from typing import Any

from .. import quantity

Obj = dict[str, Any]
QUANTITY_PARENTS = ("requests", "limits", "capacity", "hard", "overhead")
SKIPPED_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "namespace")


def _same_scalar(want: Any, have: Any, parent: str) -> bool:
    if want == have:
        return True
    if parent in QUANTITY_PARENTS:
        try:
            return abs(quantity.parse(want) - quantity.parse(have)) < 1e-9
        except ValueError:
            return False
    return False


def differences(want: Any, have: Any, path: str = "") -> list[str]:
    """The paths where ``have`` does not hold what ``want`` sets (``want``'s nulls and empty maps ask for nothing)."""
    if want is None:
        return []
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [path or "."] if want else []
        out: list[str] = []
        for key, value in want.items():
            out += differences(value, have.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [path]
        out = []
        for i, (w, h) in enumerate(zip(want, have, strict=True)):
            out += differences(w, h, f"{path}[{i}]")
        return out
    parent = path.split(".")[-2] if path.count(".") else ""  # the map holding this value: requests, limits...
    return [] if _same_scalar(want, have, parent) else [path]


def normalized(desired: Obj) -> Obj:
    """The desired object as the API server would store what it sets (Secret ``stringData`` -> ``data``)."""
    out = dict(desired)
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1" and isinstance(out.get("stringData"), dict):
        data = dict(out.get("data") or {})
        for key, value in out.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
    return out


def drift(desired: Obj, live: Obj | None) -> list[str]:
    """What keeps ``live`` from being in sync with ``desired`` (empty: in sync; ``["<missing>"]``: absent)."""
    if live is None:
        return ["<missing>"]
    want = normalized(desired)
    meta = {k: v for k, v in (want.get("metadata") or {}).items() if k not in SKIPPED_METADATA}
    body = {k: v for k, v in want.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    return differences(meta, live.get("metadata") or {}, "metadata") + differences(body, live)


def without(obj: Obj, pointers: list[str]) -> Obj:
    """A copy of ``obj`` without the fields JSON pointers (``/spec/replicas``) name; a pointer to nothing is no error."""
    out = copy.deepcopy(obj)
    for pointer in pointers:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p]
        node: Any = out
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else (
                node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None
            )  # fmt: skip
        if parts and isinstance(node, dict):
            node.pop(parts[-1], None)
        elif parts and isinstance(node, list) and parts[-1].isdigit() and int(parts[-1]) < len(node):
            node[int(parts[-1])] = None
    return out
