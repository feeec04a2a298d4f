"""Label selectors as the controllers and the scheduler evaluate them: ``LabelSelector`` (matchLabels
and matchExpressions), a Service's plain map, and a node selector term (with ``Gt``/``Lt`` and
``matchFields``)."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def requirement(expr: Obj, labels: dict[str, str]) -> bool:
    """One ``{key, operator, values}`` against a label map (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``)."""
    key, op, values = expr.get("key", ""), expr.get("operator", ""), list(expr.get("values") or [])
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def label_selector(selector: Obj | None, labels: dict[str, str] | None) -> bool:
    """A ``LabelSelector``: None selects nothing, ``{}`` selects everything."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(requirement(expr, labels) for expr in selector.get("matchExpressions") or [])


def is_everything(selector: Obj | None) -> bool:
    """Whether a ``LabelSelector`` is empty (it would select every pod in the namespace)."""
    return selector is not None and not selector.get("matchLabels") and not selector.get("matchExpressions")


def map_selector(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A Service's selector: every pair present; an empty or missing map selects nothing."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def node_selector_term(term: Obj, node: Obj) -> bool:
    """One ``NodeSelectorTerm``: all its expressions over the node's labels and fields; an empty term matches nothing."""
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = node.get("metadata", {}).get("labels") or {}
    node_fields = {"metadata.name": node.get("metadata", {}).get("name", "")}
    return all(requirement(e, labels) for e in exprs) and all(requirement(f, node_fields) for f in fields)


def node_selector(selector: Obj, node: Obj) -> bool:
    """A ``NodeSelector``: any of its terms (none matches nothing)."""
    return any(node_selector_term(t, node) for t in selector.get("nodeSelectorTerms") or [])
