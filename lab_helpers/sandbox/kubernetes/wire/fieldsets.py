"""Sets of field paths, as server-side apply tracks who owns what (``metadata.managedFields``).

A path is a tuple of path elements written as FieldsV1 writes them: ``f:spec`` (a field or map
key), ``k:{"name":"web"}`` (an item of a list keyed by its map keys), ``v:"a"`` (an item of a set
list), ``i:0`` (an item of an atomic list, never owned on its own). Lists and maps whose schema
calls them atomic, scalars, and empty objects are leaves.
"""

from __future__ import annotations

import json
from typing import Any

from .definitions import Node

Path = tuple[str, ...]
MISSING: Any = object()

# List map keys the API server fills in before apply looks at the list (ports' protocol).
KEY_DEFAULTS = {"protocol": "TCP"}


def _granular(node: Node | None, value: Any) -> bool:
    if node is None or node.shape in ("scalar", "quantity", "int-or-string", "any"):
        return False
    if node.shape == "list":
        return isinstance(value, list) and not node.atomic
    return isinstance(value, dict) and not node.atomic


def item_element(node: Node, item: Any, index: int) -> str:
    """The path element of one list item: by its keys, by its value, or by its position."""
    if node.list_type == "map" and isinstance(item, dict):
        keys = {}
        for key in node.map_keys:
            if key in item and item[key] is not None:
                keys[key] = item[key]
            elif key in KEY_DEFAULTS:
                keys[key] = KEY_DEFAULTS[key]
        return "k:" + json.dumps(keys, sort_keys=True, separators=(",", ":"))
    if node.list_type == "set":
        return "v:" + json.dumps(item, sort_keys=True, separators=(",", ":"))
    return f"i:{index}"


def field_set(value: Any, node: Node | None, path: Path = ()) -> set[Path]:
    """The fields an applied configuration sets: the manager's ownership after the apply."""
    out: set[Path] = set()
    _field_set(value, node, path, out)
    return out


def _field_set(value: Any, node: Node | None, path: Path, out: set[Path]) -> None:
    if not _granular(node, value) or not value:
        if path:
            out.add(path)
        return
    assert node is not None
    if node.shape == "list":
        for index, item in enumerate(value):
            item_path = (*path, item_element(node, item, index))
            out.add(item_path)
            _field_set(item, node.elem, item_path, out)
        return
    for key, sub in value.items():
        child = node.child(key)
        sub_path = (*path, "f:" + key)
        if node.shape == "map" or sub is None or (isinstance(sub, dict) and not sub):
            out.add(sub_path)
        _field_set(sub, child, sub_path, out)


class Comparison:
    """What changed between two objects, path by path (leaves, list items, maps that appeared)."""

    def __init__(self) -> None:
        self.added: set[Path] = set()
        self.modified: set[Path] = set()
        self.removed: set[Path] = set()

    @property
    def changed(self) -> set[Path]:
        return self.added | self.modified


def compare(old: Any, new: Any, node: Node | None) -> Comparison:
    out = Comparison()
    _compare(old, new, node, (), out)
    return out


def _leaf(old: Any, new: Any, path: Path, out: Comparison) -> None:
    if not path:
        return
    if old is MISSING:
        out.added.add(path)
    elif new is MISSING:
        out.removed.add(path)
    elif old != new:
        out.modified.add(path)


def _compare(old: Any, new: Any, node: Node | None, path: Path, out: Comparison) -> None:
    if old is None:
        old = MISSING
    if new is None:
        new = MISSING
    if old is MISSING and new is MISSING:
        return
    some = new if new is not MISSING else old
    same_type = old is MISSING or new is MISSING or type(old) is type(new)
    if not same_type or not _granular(node, some) or (not old and not new):
        _leaf(old, new, path, out)
        return
    assert node is not None
    if (old is MISSING or new is MISSING) and not some:
        _leaf(old, new, path, out)
        return
    if node.shape == "list":
        olds = {item_element(node, item, i): item for i, item in enumerate(old if old is not MISSING else [])}
        news = {item_element(node, item, i): item for i, item in enumerate(new if new is not MISSING else [])}
        for element in olds.keys() | news.keys():
            item_path = (*path, element)
            a, b = olds.get(element, MISSING), news.get(element, MISSING)
            if a is MISSING:
                out.added.add(item_path)
            elif b is MISSING:
                out.removed.add(item_path)
            _compare(a, b, node.elem, item_path, out)
        return
    if node.shape == "map" and path:
        if old is MISSING:
            out.added.add(path)
        elif new is MISSING:
            out.removed.add(path)
    a_map = old if old is not MISSING else {}
    b_map = new if new is not MISSING else {}
    for key in a_map.keys() | b_map.keys():
        _compare(a_map.get(key, MISSING), b_map.get(key, MISSING), node.child(key), (*path, "f:" + key), out)


# --- FieldsV1 --------------------------------------------------------------------------------


def from_fields_v1(fields: Any, prefix: Path = ()) -> set[Path]:
    """``{"f:spec": {"f:replicas": {}}}`` -> ``{("f:spec", "f:replicas")}`` (``"."`` marks a member with children)."""
    out: set[Path] = set()
    if not isinstance(fields, dict):
        return out
    for key, sub in fields.items():
        if key == ".":
            if prefix:
                out.add(prefix)
            continue
        path = (*prefix, key)
        if not sub:
            out.add(path)
        else:
            out |= from_fields_v1(sub, path)
    return out


_ORDER = {"f": 0, "k": 1, "v": 2, "i": 3}


def _sort_key(element: str) -> tuple[int, str]:
    return _ORDER.get(element[:1], 4), element


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        node.setdefault(".", {})
    return _finish(tree)


def _finish(tree: dict[str, Any]) -> dict[str, Any]:
    """Members without children are written ``{}``; with children, ``"."`` says they are members too."""
    out: dict[str, Any] = {}
    if "." in tree and len(tree) > 1:
        out["."] = {}
    for key in sorted((k for k in tree if k != "."), key=_sort_key):
        out[key] = _finish(tree[key])
    return out


def path_string(path: Path) -> str:
    """As the API server names a field in a conflict: ``.spec.template.spec.containers[name="web"].image``."""
    out = []
    for element in path:
        kind, _, rest = element.partition(":")
        if kind == "f":
            out.append("." + rest)
        elif kind == "k":
            keys = json.loads(rest)
            out.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]")
        elif kind == "v":
            out.append(f"[={rest}]")
        else:
            out.append(f"[{rest}]")
    return "".join(out)


# --- removing owned fields -------------------------------------------------------------------


def remove(obj: dict[str, Any], path: Path, node: Node | None) -> None:
    """Remove the field or list item at ``path`` from ``obj`` (in place), if it is there."""
    parent: Any = obj
    parent_node = node
    for n, element in enumerate(path):
        last = n == len(path) - 1
        kind, _, rest = element.partition(":")
        if kind == "f":
            if not isinstance(parent, dict) or rest not in parent:
                return
            if last:
                del parent[rest]
                return
            parent_node = parent_node.child(rest) if parent_node is not None else None
            parent = parent[rest]
        else:
            if not isinstance(parent, list) or parent_node is None or parent_node.shape != "list":
                return
            index = next((i for i, item in enumerate(parent) if item_element(parent_node, item, i) == element), None)
            if index is None:
                return
            if last:
                del parent[index]
                return
            parent = parent[index]
            parent_node = parent_node.elem
