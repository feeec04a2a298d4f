"""The bundled schemas as the API server uses them: its ``/openapi/v3`` documents, field validation
of request bodies, and the merge keys of lists for strategic merge.

The API server calls exactly these; the work happens in ``definitions`` (the compiled schemas),
``openapi`` (the documents), ``validation`` (the schema walk) and ``semantics`` (the rules beyond it).
"""

from __future__ import annotations

from typing import Any

from . import openapi, rulebook
from .definitions import Node, node_for
from .validation import Cause, Walker, unknown_cause, without_unknown

__all__ = ["drop_unknown", "merge_key", "node_for", "openapi_v3_document", "openapi_v3_index", "validate"]

UNKNOWN_MODES = ("Strict", "Warn", "Ignore")


def openapi_v3_index() -> dict[str, Any]:
    """``/openapi/v3``: each group/version's document by its path, with a hash that changes with it."""
    return openapi.index()


def openapi_v3_document(gv_path: str) -> dict[str, Any] | None:
    """``/openapi/v3/apis/apps/v1`` (given ``apis/apps/v1``), or None for a group/version not served.
    Built once; :func:`openapi.document_bytes` has the same document serialised, with its hash."""
    return openapi.document(gv_path)


def validate(obj: dict[str, Any], *, unknown: str = "Strict") -> tuple[list[Cause], list[str]]:
    """Check an object against its kind's schema and the API server's rules for that kind.

    Returns ``(causes, warnings)``. ``unknown`` is the request's ``fieldValidation``: ``Strict`` makes
    each unknown field a cause (``unknown field "spec.foo"``; :func:`validation.is_unknown_field` tells
    them apart, the API server answers those 400), ``Warn`` a warning, ``Ignore`` nothing. A kind the
    bundled schemas do not have is not checked."""
    if not isinstance(obj, dict):
        return [{"reason": "FieldValueTypeInvalid", "message": "the body must be a JSON object", "field": ""}], []
    node = node_for(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if node is None:
        return [], []
    walker = Walker()
    walker.walk(obj, node, "")
    causes = walker.causes + rulebook.check(obj)
    warnings: list[str] = []
    if unknown == "Strict":
        causes = [unknown_cause(p) for p in walker.unknown] + causes
    elif unknown == "Warn":
        warnings = [f'unknown field "{p}"' for p in walker.unknown]
    return causes, warnings


def drop_unknown(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server stores it after ``fieldValidation=Warn|Ignore``: the fields the
    kind's schema does not have are gone (a kind without a schema is returned as it is)."""
    node = node_for(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    out = without_unknown(obj, node)
    return out if isinstance(out, dict) else obj


def node_at(api_version: str, kind: str, path: tuple[str, ...]) -> Node | None:
    """The schema node at a field path (field names only; list items are stepped into)."""
    node = node_for(api_version, kind)
    for key in path:
        if node is None:
            return None
        if node.shape == "list":
            node = node.elem
            if node is None:
                return None
        node = node.child(key)
    return node


def merge_key(api_version: str, kind: str, path: tuple[str, ...]) -> tuple[str | None, str]:
    """The strategic merge patch key and strategy of a list field:
    ``("apps/v1", "Deployment", ("spec", "template", "spec", "containers"))`` -> ``("name", "merge")``.
    A field without a strategy is replaced whole: ``(None, "replace")``."""
    node = node_at(api_version, kind, path)
    if node is None or not node.strategy:
        return None, "replace"
    return node.merge_key, node.strategy
