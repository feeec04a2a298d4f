"""What the API server does differently for custom resources and their definitions, on the request side:

- a strategic merge patch of a custom resource is a 415 (custom kinds have no patch strategies);
- a create while the CRD is being deleted is refused, as the real server refuses it;
- ``/scale``, when the CRD declares it, reads and writes the replicas at the CRD's JSON paths;
- deleting a CRD first adds the ``customresourcecleanup.apiextensions.k8s.io`` finalizer and a
  ``Terminating`` condition; the CRD controller deletes the custom resources, then the finalizer;
- a watch of a custom resource ends once its CRD is gone.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, reply
from .. import crds, status
from ..objects import Objects, rfc3339
from ..resources import Resource
from . import bodies, writes
from .auth import authorize
from .common import caller
from .paths import Target

Obj = dict[str, Any]
CUSTOM_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)
STRATEGIC = "application/strategic-merge-patch+json"


def check_patch_type(res: Resource, content_type: str) -> None:
    """Custom resources take JSON patch, merge patch and apply patch, not strategic merge (the API's 415)."""
    if crds.is_custom(res) and content_type not in CUSTOM_PATCH_TYPES:
        raise status.unsupported_media_type(content_type, CUSTOM_PATCH_TYPES)


def check_create(res: Resource) -> None:
    """A CRD being deleted takes no new custom resources."""
    if isinstance(res, crds.CustomResource) and res.custom is not None and res.custom.terminating:
        raise status.method_not_allowed(
            f"create not allowed while custom resource definition is terminating: {res.custom.crd_name}"
        )


# -- deleting a CRD ---------------------------------------------------------------------------------


def before_delete(objects: Objects, res: Resource, name: str, dry_run: bool) -> None:
    """Deleting a CRD: its cleanup finalizer and Terminating condition first (the CRD stays until its
    custom resources are gone)."""
    if res.kind != "CustomResourceDefinition" or res.group != "apiextensions.k8s.io" or dry_run:
        return
    with objects.store.tx():
        crd = objects.get(res, "", name)
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            return
        crd = copy.deepcopy(crd)
        meta = crd["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if crds.CLEANUP_FINALIZER not in finalizers:
            meta["finalizers"] = [*finalizers, crds.CLEANUP_FINALIZER]
        conds = [c for c in crd.setdefault("status", {}).get("conditions") or [] if c.get("type") != "Terminating"]
        conds.append(
            {
                "type": "Terminating",
                "status": "True",
                "lastTransitionTime": rfc3339(),
                "reason": "InstanceDeletionPending",
                "message": "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
            }
        )
        crd["status"]["conditions"] = conds
        objects.update(res, crd)


# -- /scale -----------------------------------------------------------------------------------------


def _steps(path: str) -> list[str]:
    return [p for p in path.strip().lstrip(".").split(".") if p]


def _read(obj: Obj, path: str) -> Any:
    cur: Any = obj
    for step in _steps(path):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(step)
    return cur


def _write(obj: Obj, path: str, value: Any) -> None:
    steps = _steps(path)
    cur = obj
    for step in steps[:-1]:
        nxt = cur.get(step)
        if not isinstance(nxt, dict):
            nxt = cur[step] = {}
        cur = nxt
    cur[steps[-1]] = value


def scale_of(res: crds.CustomResource, obj: Obj) -> Obj:
    """The autoscaling/v1 Scale of a custom resource, read at the paths its CRD names."""
    spec_path = (res.custom.scale if res.custom else None) or {}
    meta = obj["metadata"]
    replicas = _read(obj, spec_path.get("specReplicasPath", ".spec.replicas"))
    current = _read(obj, spec_path.get("statusReplicasPath", ".status.replicas"))
    out_status: Obj = {"replicas": int(current) if isinstance(current, int) else 0}
    selector_path = spec_path.get("labelSelectorPath")
    if selector_path:
        selector = _read(obj, selector_path)
        if isinstance(selector, str) and selector:
            out_status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": int(replicas) if isinstance(replicas, int) else 0},
        "status": out_status,
    }


def scale(ctx: Ctx, objects: Objects, t: Target) -> Response:
    """GET, PUT or PATCH of a custom resource's ``/scale``."""
    res = t.res
    assert isinstance(res, crds.CustomResource)
    method = ctx.request.method
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(method)
    if verb is None:
        raise status.method_not_allowed()
    authorize(objects, ctx.user, verb, res, t.namespace, t.name, sub="scale")
    if method == "GET":
        return reply(scale_of(res, objects.need(res, t.namespace, t.name)))
    with objects.store.tx():
        obj = objects.need(res, t.namespace, t.name)
        current = scale_of(res, obj)
        if method == "PUT":
            body: Any = bodies.decode(ctx.request)
        else:
            from ..wire import patches

            body = patches.apply_patch(ctx.request.mimetype, current, ctx.request.get_data(cache=True))
        if not isinstance(body, dict) or body.get("kind") not in (None, "Scale"):
            raise status.bad_request("the body is not a Scale")
        replicas = (body.get("spec") or {}).get("replicas", 0)
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            raise status.bad_request(
                'Scale in version "v1" cannot be handled as a Scale: spec.replicas must be an integer'
            )
        if replicas < 0:
            raise status.invalid(
                "Scale",
                "autoscaling",
                t.name,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                        "field": "spec.replicas",
                    }
                ],
            )
        want_rv = (body.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != obj["metadata"]["resourceVersion"]:
            raise status.conflict(res.group_resource, t.name)
        new = copy.deepcopy(obj)
        paths = (res.custom.scale if res.custom else None) or {}
        _write(new, paths.get("specReplicasPath", ".spec.replicas"), replicas)
        stored = writes.update(objects, res, t.namespace, t.name, new, caller(ctx))
    return reply(scale_of(res, stored))


# -- watches ----------------------------------------------------------------------------------------


class UntilGone(threading.Event):
    """The service's stop event, also set once a custom resource is no longer served (its CRD was
    deleted): the watch loop looks at it at least once a second, and the stream ends. It ends a
    moment after the CRD went, so that the watch first sends the deletions of its objects."""

    GRACE_S = 1.5

    def __init__(self, stopping: threading.Event, objects: Objects, res: Resource) -> None:
        super().__init__()
        self._stopping, self._objects, self._res = stopping, objects, res
        self._gone_since: float | None = None

    def is_set(self) -> bool:
        if self._stopping.is_set():
            return True
        if not crds.is_custom(self._res):
            return False
        if any(r.key == self._res.key for r in crds.served(self._objects)):
            self._gone_since = None
            return False
        now = time.monotonic()
        if self._gone_since is None:
            self._gone_since = now
        return now - self._gone_since >= self.GRACE_S


# -- versions ---------------------------------------------------------------------------------------


def as_version(res: Resource, obj: Obj) -> Obj:
    """A stored custom resource as the requested version shows it: CRDs here convert with the ``None``
    strategy (the API server's default), which changes only ``apiVersion``."""
    if not crds.is_custom(res) or obj.get("apiVersion") in (None, res.api_version):
        return obj
    return {**obj, "apiVersion": res.api_version}
