"""Kubernetes strategic merge patch (``application/strategic-merge-patch+json``).

Like a JSON merge patch, except that lists whose schema says ``x-kubernetes-patch-strategy: merge``
are merged: lists of objects by their merge key (``containers`` by ``name``, so ``kubectl set image``
keeps a container's ``ports``), lists of scalars as sets. Directives in the patch:
``$patch: replace|delete|merge`` (on a map or as a list element), ``$retainKeys``,
``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``.
"""

from __future__ import annotations

import json
from typing import Any

from .definitions import Node

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


class PatchError(ValueError):
    """A patch that cannot be applied (the API server answers 422)."""


class _Deleted:
    pass


DELETED = _Deleted()


def apply(original: dict[str, Any], patch: dict[str, Any], node: Node | None) -> dict[str, Any]:
    """The object after the patch; ``original`` is not modified (unchanged parts are shared)."""
    out = merge_map(original, patch, node)
    return {} if isinstance(out, _Deleted) else out


def merge_map(original: dict[str, Any], patch: dict[str, Any], node: Node | None) -> dict[str, Any] | _Deleted:
    directive = patch.get(PATCH)
    if directive == "delete":
        return DELETED
    if directive == "replace":
        return merge_map({}, {k: v for k, v in patch.items() if k != PATCH}, node)
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive!r}")
    retain = patch.get(RETAIN_KEYS)
    if retain is not None and not isinstance(retain, list):
        raise PatchError(f"{RETAIN_KEYS} must be a list, got {json.dumps(retain)}")
    orders: dict[str, Any] = {}
    deletes: dict[str, Any] = {}
    result = dict(original)
    for key, value in patch.items():
        if key.startswith(ORDER) or key.startswith(DELETE_FROM):
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list, got {json.dumps(value)[:100]}")
            if key.startswith(ORDER):
                orders[key[len(ORDER) :]] = value
            else:
                deletes[key[len(DELETE_FROM) :]] = value
    for key, value in patch.items():
        if key in (PATCH, RETAIN_KEYS) or key.startswith(ORDER) or key.startswith(DELETE_FROM):
            continue
        child = node.child(key) if node is not None else None
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if isinstance(value, dict):
            merged = merge_map(current if isinstance(current, dict) else {}, value, child)
            if isinstance(merged, _Deleted):
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            base = current if isinstance(current, list) else []
            result[key] = merge_list(base, value, child, orders.pop(key, None), deletes.pop(key, None))
        else:
            result[key] = value
    # Directives for lists the patch does not otherwise touch.
    for key, values in deletes.items():
        if isinstance(result.get(key), list):
            result[key] = merge_list(result[key], [], node.child(key) if node else None, orders.pop(key, None), values)
    for key, order in orders.items():
        if isinstance(result.get(key), list):
            child = node.child(key) if node else None
            result[key] = _order(result[key], result[key], order, result[key], _key_of(child))
    if retain is not None:
        keep = set(retain)
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _key_of(node: Node | None) -> str | None:
    return node.merge_key if node is not None else None


def _strip(items: list[Any], node: Node | None) -> list[Any]:
    """A list set wholesale: directives removed from its elements."""
    elem = node.elem if node is not None else None
    out = []
    for item in items:
        if isinstance(item, dict):
            if item.get(PATCH) in ("replace", "delete") and len(item) == 1:
                continue
            merged = merge_map({}, item, elem)
            if not isinstance(merged, _Deleted):
                out.append(merged)
        else:
            out.append(item)
    return out


def merge_list(
    original: list[Any],
    patch: list[Any],
    node: Node | None,
    order: list[Any] | None = None,
    deletes: list[Any] | None = None,
) -> list[Any]:
    strategies = node.strategy.split(",") if node is not None and node.strategy else []
    if "merge" not in strategies:
        return _strip(patch, node)
    if any(isinstance(item, dict) and item.get(PATCH) == "replace" for item in patch):
        return _strip([i for i in patch if not (isinstance(i, dict) and i.get(PATCH) == "replace")], node)
    key = node.merge_key if node is not None else None
    has_maps = any(isinstance(i, dict) for i in patch) or any(isinstance(i, dict) for i in original)
    if not has_maps:
        merged = list(original)
        for item in patch:
            if item not in merged:
                merged.append(item)
        if deletes:
            merged = [i for i in merged if i not in deletes]
        return _order(merged, [i for i in patch if i in merged], order, original, None)
    if key is None:
        raise PatchError("cannot merge lists without a merge key")
    elem = node.elem if node is not None else None
    merged = list(original)
    patched: list[Any] = []
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"cannot merge a {type(item).__name__} into a list of objects")
        if key not in item:
            raise PatchError(f"map: {json.dumps(item)} does not contain declared merge key: {key}")
        index = next((n for n, o in enumerate(merged) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get(PATCH) == "delete":
            if index is not None:
                del merged[index]
            continue
        body = {k: v for k, v in item.items() if k != PATCH} if item.get(PATCH) == "merge" else item
        out = merge_map(merged[index] if index is not None else {}, body, elem)
        if isinstance(out, _Deleted):
            if index is not None:
                del merged[index]
            continue
        if index is None:
            merged.append(out)
        else:
            merged[index] = out
        patched.append(out)
    return _order(merged, patched, order, original, key)


def _identity(item: Any, key: str | None) -> str:
    value = item.get(key) if key is not None and isinstance(item, dict) else item
    return json.dumps(value, sort_keys=True)


def _order(
    merged: list[Any], patched: list[Any], order: list[Any] | None, original: list[Any], key: str | None
) -> list[Any]:
    """The API server's element order: the patch's items in the order the patch (or its
    ``$setElementOrder``) gives, the server's other items interleaved where they stood."""
    wanted = order if order is not None else patched
    rank = {_identity(i, key): n for n, i in enumerate(wanted)}
    server_rank = {_identity(i, key): n for n, i in enumerate(original)}
    from_patch = sorted((i for i in merged if _identity(i, key) in rank), key=lambda i: rank[_identity(i, key)])
    server_only = sorted(
        (i for i in merged if _identity(i, key) not in rank),
        key=lambda i: server_rank.get(_identity(i, key), len(original)),
    )
    out: list[Any] = []
    a = b = 0
    while a < len(server_only) or b < len(from_patch):
        if b >= len(from_patch):
            out.append(server_only[a])
            a += 1
        elif a >= len(server_only):
            out.append(from_patch[b])
            b += 1
        else:
            left = server_rank.get(_identity(server_only[a], key))
            right = server_rank.get(_identity(from_patch[b], key))
            if left is not None and right is not None and left < right:
                out.append(server_only[a])
                a += 1
            else:
                out.append(from_patch[b])
                b += 1
    return out
