"""Server-side apply and field ownership (``metadata.managedFields``).

Each writer is a field manager (``kubectl``, ``helm``, ``kubectl-client-side-apply``, ...); every
write records which fields it set. An apply (``application/apply-patch+yaml``) merges the applied
configuration into the live object, fails with a 409 listing the fields that another manager owns
and the apply would change (unless forced, which takes them over), and removes the fields this
manager applied before and no longer applies when no one else owns them. Ordinary writes
(create, update, the other patches) are recorded as ``Update`` entries by :func:`record_update`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import yaml

from ..resources import resource_of_kind
from ..status import status_error
from . import fieldsets
from .definitions import Node, node_for
from .fieldsets import Path

# Fields no manager owns: identity and bookkeeping the server sets.
STRIPPED_META = (
    "name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "managedFields",
    "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
)  # fmt: skip


@dataclass(eq=False)
class Entry:
    manager: str
    operation: str
    api_version: str
    time: str
    subresource: str
    fields: set[Path]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.manager, self.operation, self.subresource

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fieldsets.to_fields_v1(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entries_of(obj: dict[str, Any] | None) -> list[Entry]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    raw = meta.get("managedFields") if isinstance(meta, dict) else None
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("manager"):
            continue
        out.append(
            Entry(
                str(item["manager"]),
                str(item.get("operation") or "Update"),
                str(item.get("apiVersion") or ""),
                str(item.get("time") or ""),
                str(item.get("subresource") or ""),
                fieldsets.from_fields_v1(item.get("fieldsV1")),
            )
        )
    return out


def _store(obj: dict[str, Any], entries: list[Entry]) -> None:
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return  # not an object: validation refuses it
    kept = [e.as_json() for e in entries if e.fields]
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _has_status(obj: dict[str, Any]) -> bool:
    r = resource_of_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    return r is not None and "status" in r.subresources


def owned_view(obj: dict[str, Any] | None, subresource: str = "") -> dict[str, Any]:
    """The part of an object managers own: no identity or bookkeeping, and either the status
    (written through ``/status``) or everything else (the main resource resets the status)."""
    if not isinstance(obj, dict):
        return {}
    if subresource == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    if "status" in out and _has_status(obj):
        del out["status"]
    meta = out.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = {k: v for k, v in meta.items() if k not in STRIPPED_META}
        if not out["metadata"]:
            del out["metadata"]
    return out


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def merge(live: Any, config: Any, node: Node | None) -> Any:
    """The applied configuration laid over the live object, by the schema's list and map types."""
    if not fieldsets._granular(node, config) or type(live) is not type(config):
        return copy.deepcopy(config)
    assert node is not None
    if node.shape == "list":
        out = list(live)
        where = {fieldsets.item_element(node, item, i): i for i, item in enumerate(out)}
        for i, item in enumerate(config):
            element = fieldsets.item_element(node, item, i)
            if element in where:
                out[where[element]] = merge(out[where[element]], item, node.elem)
            else:
                where[element] = len(out)
                out.append(copy.deepcopy(item))
        return out
    merged = dict(live)
    for key, value in config.items():
        merged[key] = merge(live.get(key), value, node.child(key)) if key in live else copy.deepcopy(value)
    return merged


def parse_body(body: bytes) -> dict[str, Any]:
    """An apply body: JSON, or YAML holding one object."""
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        try:
            docs = [
                d for d in yaml.load_all(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d is not None
            ]
        except yaml.YAMLError as exc:
            raise status_error(400, f"error decoding YAML: {exc}", "BadRequest") from None
        if len(docs) != 1:
            raise status_error(400, "the apply body must hold exactly one object", "BadRequest") from None
        obj = docs[0]
    if not isinstance(obj, dict):
        raise status_error(400, "the apply body must be an object", "BadRequest")
    if not obj.get("apiVersion") or not obj.get("kind"):
        raise status_error(400, "the apply body must name its apiVersion and kind", "BadRequest")
    if not isinstance(obj.get("metadata", {}), (dict, type(None))):
        raise status_error(400, "the apply body's metadata must be an object", "BadRequest")
    return obj


def _who(entry: Entry) -> str:
    """A manager as the API server names it in a conflict: an Update manager with its apiVersion."""
    if entry.operation == "Update" and entry.api_version:
        return f'"{entry.manager}" using {entry.api_version}'
    return f'"{entry.manager}"'


def _conflict_error(conflicts: dict[Entry, set[Path]]) -> Exception:
    causes = []
    lines = []
    for entry, paths in conflicts.items():
        who = _who(entry)
        for path in sorted(paths):
            field = fieldsets.path_string(path)
            causes.append({"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": field})
            lines.append((who, field))
    count = len(causes)
    if count == 1:
        detail = f"conflict with {lines[0][0]}: {lines[0][1]}"
    elif len(conflicts) == 1:
        detail = f"conflicts with {lines[0][0]}:" + "".join(f"\n- {field}" for _, field in lines)
    else:
        detail = "conflicts with"
        for entry, paths in conflicts.items():
            who = _who(entry)
            detail += f"\n{who}:" + "".join(f"\n- {fieldsets.path_string(p)}" for p in sorted(paths))
    message = f"Apply failed with {count} conflict{'s' if count != 1 else ''}: {detail}"
    return status_error(409, message, "Conflict", {"causes": causes})


def server_side_apply(
    live: dict[str, Any] | None, body: bytes, *, manager: str, force: bool, subresource: str = ""
) -> dict[str, Any]:
    """The object after ``manager`` applies ``body`` (create when ``live`` is None), with its
    ``managedFields``. Raises the API server's errors: 400 for a body that is no object or no
    manager, 409 Conflict (causes ``FieldManagerConflict``) for fields others own, unless ``force``.
    On the main resource the status is not applied; on ``subresource="status"`` only the status is."""
    if not manager:
        raise status_error(400, "PATCH, fieldManager is required for apply requests", "BadRequest")
    config = _drop_nulls(parse_body(body))
    if isinstance(config.get("metadata"), dict):
        config["metadata"].pop("managedFields", None)
    if subresource == "status":
        config = {k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")}
    elif _has_status(config):
        config.pop("status", None)
    api_version = str(config["apiVersion"])
    node = node_for(api_version, str(config["kind"]))
    applied = fieldsets.field_set(owned_view(config, subresource), node)
    key = (manager, "Apply", subresource)
    if live is None:
        out = copy.deepcopy(config)
        _store(out, [Entry(manager, "Apply", api_version, now(), subresource, applied)])
        return out
    entries = entries_of(live)
    base = copy.deepcopy(live)
    base.get("metadata", {}).pop("managedFields", None)
    if subresource == "status":
        merged = dict(base)
        if "status" in config:
            merged["status"] = merge(base.get("status"), config["status"], node.child("status") if node else None)
    else:
        merged = merge(base, config, node)
    changed = fieldsets.compare(owned_view(base, subresource), owned_view(merged, subresource), node).changed
    conflicts: dict[Entry, set[Path]] = {}
    for entry in entries:
        if entry.key == key or entry.subresource != subresource:
            continue
        clash = entry.fields & changed
        if clash:
            conflicts[entry] = clash
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry, clash in conflicts.items():
        entry.fields -= clash
    mine = next((e for e in entries if e.key == key), None)
    previous = mine.fields if mine else set()
    others: set[Path] = set()
    for entry in entries:
        if entry is not mine:
            others |= entry.fields
    kept = applied | others
    # Outermost first: a list item goes before its key fields would stop identifying it.
    for path in sorted(previous - kept, key=len):
        if not any(p[: len(path)] == path for p in kept):
            fieldsets.remove(merged, path, node)
    if mine is None:
        mine = Entry(manager, "Apply", api_version, now(), subresource, applied)
        entries.append(mine)
    else:
        mine.fields, mine.time, mine.api_version = applied, now(), api_version
    _store(merged, entries)
    return merged


def record_update(
    old: dict[str, Any] | None, new: dict[str, Any], *, manager: str, operation: str = "Update", subresource: str = ""
) -> dict[str, Any]:
    """``new`` with its ``managedFields`` brought up to date after an ordinary write by ``manager``:
    the fields it added or changed are its own (taken from whoever owned them), the fields it
    removed are no one's. Managed fields sent in the body replace the stored ones, as the API
    server allows; a body without them keeps the old. Returns a new object."""
    out = copy.deepcopy(new)
    meta = out.get("metadata")
    entries = entries_of(out) if isinstance(meta, dict) and "managedFields" in meta else entries_of(old)
    api_version = str(new.get("apiVersion", ""))
    node = node_for(api_version, str(new.get("kind", "")))
    diff = fieldsets.compare(owned_view(old, subresource), owned_view(new, subresource), node)
    changed = diff.changed
    for entry in entries:
        if entry.subresource == subresource:
            entry.fields -= changed
        entry.fields -= diff.removed
    if changed and manager:
        key = (manager, operation, subresource)
        mine = next((e for e in entries if e.key == key and e.api_version == api_version), None)
        if mine is None:
            mine = Entry(manager, operation, api_version, now(), subresource, set())
            entries.append(mine)
        mine.fields |= changed
        mine.time = now()
    _store(out, entries)
    return out
