"""The JSONPath of a CRD's ``additionalPrinterColumns`` (``.status.sync.status``,
``.spec.containers[0].image``, ``.items[*].name``, ``.status.conditions[?(@.type=="Ready")].status``,
``.metadata.labels['app\\.kubernetes\\.io/name']``), evaluated as the API server's table converter
does: the values found, in order (none when the path leads nowhere)."""

from __future__ import annotations

import re
from typing import Any

_FILTER = re.compile(r"""^\?\(@\.([\w.\-/]+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(\S+))\)$""")


def _split(path: str) -> list[str]:
    """``.a.b[0]['c.d']`` -> ``["a", "b", "[0]", "['c.d']"]``."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    steps: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ".":
            i += 1
            continue
        if ch == "[":
            depth, j = 0, i
            while j < len(text):
                if text[j] == "[":
                    depth += 1
                elif text[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            steps.append(text[i : j + 1])
            i = j + 1
            continue
        j = i
        while j < len(text) and text[j] not in ".[":
            if text[j] == "\\" and j + 1 < len(text):
                j += 1
            j += 1
        steps.append(text[i:j].replace("\\.", "."))
        i = j
    return steps


def _field(value: Any, key: str) -> list[Any]:
    return [value[key]] if isinstance(value, dict) and key in value else []


def _step(values: list[Any], step: str) -> list[Any]:
    out: list[Any] = []
    if not step.startswith("["):
        for v in values:
            if step == "*":
                out += list(v.values()) if isinstance(v, dict) else list(v) if isinstance(v, list) else []
            else:
                out += _field(v, step)
        return out
    inner = step[1:-1].strip()
    if inner[:1] in ("'", '"'):
        key = inner[1:-1].replace("\\.", ".")
        for v in values:
            out += _field(v, key)
        return out
    found = _FILTER.match(inner)
    for v in values:
        if not isinstance(v, list):
            continue
        if inner == "*":
            out += v
        elif found:
            field, op, *literals = found.groups()
            want = next((x for x in literals if x is not None), "")
            for item in v:
                got = evaluate(item, "." + field)
                equal = bool(got) and str(_scalar_text(got[0])) == want
                if equal == (op == "=="):
                    out.append(item)
        elif re.fullmatch(r"-?\d+", inner):
            index = int(inner)
            if -len(v) <= index < len(v):
                out.append(v[index])
        elif re.fullmatch(r"-?\d*:-?\d*", inner):
            start, _, stop = inner.partition(":")
            out += v[int(start) if start else None : int(stop) if stop else None]
    return out


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def evaluate(obj: Any, path: str) -> list[Any]:
    """The values at ``path`` in ``obj``."""
    values = [obj]
    for step in _split(path):
        values = _step(values, step)
        if not values:
            return []
    return values
