"""Writes as the API server makes them, between the HTTP handlers and :class:`Objects`.

Each write goes through the same steps: the body's kind and namespace checked against the URL,
the schemas (``schema.check``), the namespace existing and not terminating, server-set metadata
dropped, the status kept as it was when the main resource is written (and only the status taken
when ``/status`` is), defaults (``defaults.apply``), admission (``admission.mutate``), validation (``validation.check``),
admission's checks (``admission.validate``),
``managedFields`` (``wire.apply.record_update``), then :class:`Objects`.
"""

from __future__ import annotations

import copy
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from .. import status
from ..objects import Objects
from ..resources import Resource, by_plural
from . import admission, defaults, rbac_defaults, schema, seed, validation
from .auth import OWNER_ANNOTATION
from .bodies import DeleteOptions

Obj = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])

NAMESPACES = by_plural("namespaces")
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation", "selfLink")
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
APPLY = "application/apply-patch+yaml"


@dataclass
class Caller:
    """Who writes, and how: the user, the field manager, ``dryRun=All``, the fieldValidation mode; the
    warnings the answer carries collect here."""

    user: str
    manager: str
    dry_run: bool = False
    validation: str = "Warn"
    manager_given: bool = False  # the request named its fieldManager (server-side apply needs one)
    state_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)


def _keeps_status(res: Resource) -> bool:
    return "status" in res.subresources


def _check_type(res: Resource, body: Obj) -> None:
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version and api_version != res.api_version:
        raise status.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version ({res.api_version})"
        )
    if kind and kind != res.kind:
        raise status.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({res.kind})")


def _metadata(body: Obj) -> Obj:
    meta = body.get("metadata")
    if meta is None:
        meta = body["metadata"] = {}
    if not isinstance(meta, dict):
        raise status.bad_request(
            "cannot be handled: json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta"
        )
    return meta


def _check_namespace(res: Resource, meta: Obj, namespace: str) -> None:
    if not res.namespaced:
        meta.pop("namespace", None)
        return
    given = meta.get("namespace")
    if given and given != namespace:
        raise status.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    meta["namespace"] = namespace


def namespace_open(objects: Objects, res: Resource, namespace: str, name: str) -> None:
    """404 for a namespace that does not exist, 403 for one being deleted (creates only)."""
    if not res.namespaced:
        return
    ns = objects.get(NAMESPACES, "", namespace)
    if ns is None:
        raise status.not_found("namespaces", namespace)
    if ns["metadata"].get("deletionTimestamp") or ns.get("status", {}).get("phase") == "Terminating":
        why = f"unable to create new content in namespace {namespace} because it is being terminated"
        cause = {
            "reason": "NamespaceTerminating",
            "message": f"namespace {namespace} is being terminated",
            "field": "metadata.namespace",
        }
        raise status.forbidden_because(res.group_resource, name, why, [cause])


def _record(old: Obj | None, new: Obj, caller: Caller, sub: str = "") -> Obj:
    from ..wire import apply

    return apply.record_update(old, new, manager=caller.manager, operation="Update", subresource=sub)


def _finish(res: Resource, obj: Obj, objects: Objects, old: Obj | None, caller: Caller) -> None:
    defaults.apply(res, obj, objects, old)
    req = admission.Request(objects, res, obj, old, caller.user, caller.dry_run)
    admission.mutate(req)
    validation.check(res, obj, old)
    admission.validate(req)


def atomic(func: F) -> F:
    """Run a write as one step of the store: what it read is still there when it writes, so a controller's
    status update in between cannot make a client's patch fail with a 409 (the API server retries those)."""

    @functools.wraps(func)
    def run(objects: Objects, *args: Any, **kw: Any) -> Any:
        with objects.store.tx():
            return func(objects, *args, **kw)

    return cast(F, run)


@atomic
def create(objects: Objects, res: Resource, namespace: str, body: Obj, caller: Caller, *, record: bool = True) -> Obj:
    """POST to a collection (or a server-side apply that creates): the stored object."""
    _check_type(res, body)
    meta = _metadata(body)
    _check_namespace(res, meta, namespace)
    caller.warnings += schema.check(res, body, caller.validation)
    obj = copy.deepcopy(body)
    meta = obj["metadata"]
    name = meta.get("name") or meta.get("generateName") or ""
    namespace_open(objects, res, namespace, name)
    for key in SERVER_METADATA:
        meta.pop(key, None)
    if _keeps_status(res) and res.kind != "Node":
        obj.pop("status", None)
    if res.kind == "Namespace" and caller.user != "sandbox-admin":
        meta.setdefault("annotations", {})[OWNER_ANNOTATION] = caller.user
    uid = str(uuid.uuid4())
    meta["uid"] = uid
    if not meta.get("name") and not meta.get("generateName"):
        raise status.invalid(
            res.kind, res.group, "", [validation.required("metadata.name", "name or generateName is required")]
        )
    _finish(res, obj, objects, None, caller)
    if record:
        obj = _record(None, obj, caller)
    stored = objects.create(res, obj, dry_run=caller.dry_run, uid=uid)
    if res.kind == "Namespace" and not caller.dry_run:
        seed.namespace_created(objects, stored["metadata"]["name"], caller.state_dir)
        owner = (stored["metadata"].get("annotations") or {}).get(OWNER_ANNOTATION)
        if owner:  # its creator is made admin of it, as a project request does
            rbac_defaults.namespace_created(objects, stored["metadata"]["name"], owner)
    return stored


def _merge_update(res: Resource, old: Obj, new: Obj, sub: str) -> Obj:
    """What a write to the main resource or to ``/status`` may change."""
    if sub == "status":
        out = copy.deepcopy(old)
        out["status"] = new.get("status", {})
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv:
            out["metadata"]["resourceVersion"] = rv
        else:
            out["metadata"].pop("resourceVersion", None)
        return out
    if _keeps_status(res):
        new = dict(new)
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    return new


@atomic
def update(
    objects: Objects, res: Resource, namespace: str, name: str, body: Obj, caller: Caller, *, sub: str = ""
) -> Obj:
    """PUT on an object (or its ``/status``): the stored object; 409 when the body's resourceVersion is stale."""
    _check_type(res, body)
    meta = _metadata(body)
    _check_namespace(res, meta, namespace)
    if meta.get("name") and meta["name"] != name:
        raise status.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
    meta["name"] = name
    caller.warnings += schema.check(res, body, caller.validation)
    old = objects.get(res, namespace, name)
    if old is None:
        if res.kind in ("Endpoints", "Event", "Node") and not sub:
            return create(objects, res, namespace, body, caller)
        raise status.not_found(res.group_resource, name)
    return _store_update(objects, res, old, copy.deepcopy(body), caller, sub=sub)


def _store_update(
    objects: Objects, res: Resource, old: Obj, new: Obj, caller: Caller, *, sub: str = "", record: bool = True
) -> Obj:
    """Write ``new`` over ``old``: the resourceVersion checked, what the write may not change kept, defaults and
    validation, managedFields (server-side apply keeps its own, ``record=False``)."""
    want_rv = (new.get("metadata") or {}).get("resourceVersion")
    if want_rv and want_rv != old["metadata"].get("resourceVersion"):
        raise status.conflict(res.group_resource, old["metadata"]["name"])
    new = _merge_update(res, old, new, sub)
    meta = new.setdefault("metadata", {})
    if res.kind == "Namespace":
        annotations = old["metadata"].get("annotations") or {}
        if OWNER_ANNOTATION in annotations:
            meta.setdefault("annotations", {})[OWNER_ANNOTATION] = annotations[OWNER_ANNOTATION]
        if sub != "status":  # the namespace's finalizers change only through /finalize
            spec = new.setdefault("spec", {})
            if "finalizers" in (old.get("spec") or {}):
                spec["finalizers"] = old["spec"]["finalizers"]
            else:
                spec.pop("finalizers", None)
    if sub != "status":
        _finish(res, new, objects, old, caller)
    if "managedFields" not in meta and old["metadata"].get("managedFields"):
        meta["managedFields"] = old["metadata"]["managedFields"]
    if record:
        new = _record(old, new, caller, sub)
    return objects.update(res, new, dry_run=caller.dry_run)


@atomic
def patch(
    objects: Objects,
    res: Resource,
    namespace: str,
    name: str,
    content_type: str,
    raw: bytes,
    caller: Caller,
    *,
    force: bool = False,
    sub: str = "",
) -> tuple[Obj, bool]:
    """PATCH of every kind the API server takes; returns (the stored object, whether it was created)."""
    from ..wire import apply, patches

    if content_type not in PATCH_TYPES:
        raise status.unsupported_media_type(content_type, PATCH_TYPES)
    old = objects.get(res, namespace, name)
    if content_type == APPLY:
        if not caller.manager_given:
            raise status.bad_request("fieldManager: Required value: is required for apply patch")
        new = apply.server_side_apply(old, raw, manager=caller.manager, force=force)
        if old is None:
            if sub:
                raise status.not_found(res.group_resource, name)
            new.setdefault("metadata", {})["name"] = name
            return create(objects, res, namespace, new, caller, record=False), True
    else:
        if old is None:
            raise status.not_found(res.group_resource, name)
        new = patches.apply_patch(content_type, old, raw)
    if not isinstance(new, dict):
        raise status.bad_request("the patch did not produce an object")
    meta = _metadata(new)
    if meta.get("name", name) != name or (res.namespaced and meta.get("namespace", namespace) != namespace):
        raise status.bad_request("metadata.name and metadata.namespace may not be changed by a patch")
    _check_type(res, new)
    assert old is not None
    caller.warnings += schema.check(res, new, caller.validation)
    return _store_update(objects, res, old, new, caller, sub=sub, record=content_type != APPLY), False


def delete(
    objects: Objects, res: Resource, namespace: str, name: str, opts: DeleteOptions, caller: Caller
) -> tuple[Obj, bool]:
    """DELETE of one object: (the object as it is now, whether it is gone)."""
    if res.kind == "Namespace" and name in PROTECTED_NAMESPACES:
        raise status.forbidden_because("namespaces", name, "this namespace may not be deleted")
    propagation = opts.propagation or ("Orphan" if res.kind == "Job" else "Background")
    return objects.delete(
        res,
        namespace,
        name,
        propagation=propagation,
        grace_seconds=opts.grace_seconds,
        dry_run=caller.dry_run or opts.dry_run,
        preconditions=opts.preconditions,
    )


def deleted_status(res: Resource, obj: Obj) -> Obj:
    """What the API server answers for an object deleted at once (most kinds): a Success Status."""
    details: Obj = {"name": obj["metadata"]["name"], "kind": res.plural, "uid": obj["metadata"].get("uid", "")}
    if res.group:
        details["group"] = res.group
    return status.status_body(200, "", "", details) | {"status": "Success"}
