"""Cells every printer shares: ages as kubectl shows them, label selectors, a template's containers."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

Obj = dict[str, Any]

NONE = "<none>"


def parse_time(stamp: Any) -> float | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """A duration as kubectl shows an age: ``45s``, ``3m20s``, ``15m``, ``5h30m``, ``3d4h``, ``2y10d``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(stamp: Any, now: float | None = None) -> str:
    t = parse_time(stamp)
    if t is None:
        return "<unknown>"
    return human_duration((now or time.time()) - t)


def age(obj: Obj) -> str:
    return since(obj.get("metadata", {}).get("creationTimestamp"))


def label_selector_text(selector: Any) -> str:
    """A LabelSelector as kubectl prints it: ``app=web,tier in (a,b)``; ``<none>`` when empty."""
    if not isinstance(selector, dict):
        return NONE
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or NONE


def map_selector(selector: Any) -> str:
    if not isinstance(selector, dict) or not selector:
        return NONE
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def containers_images(template_spec: Obj) -> list[str]:
    containers = template_spec.get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]
