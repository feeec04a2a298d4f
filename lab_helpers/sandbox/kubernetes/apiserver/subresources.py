"""Subresources: ``/status`` (reads the object, writes only its status), ``/scale`` (an autoscaling/v1
Scale of a Deployment or ReplicaSet), ``pods/log`` (the kubelet's log stream, followed or not),
``pods/binding`` and ``pods/eviction``, ``namespaces/finalize``; ``pods/exec``, ``attach`` and
``portforward`` (``remote``), and the ``proxy`` of services, pods and nodes (``proxies``)."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, reply
from .. import status
from ..objects import Objects
from . import bodies, watch, writes
from .auth import authorize
from .common import answer, caller
from .paths import Target
from .pod_containers import container_of

Obj = dict[str, Any]
_VERB = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create", "DELETE": "delete"}


def handle(ctx: Ctx, objects: Objects, t: Target) -> Response:
    method, res = ctx.request.method, t.res
    verb = _VERB.get(method, "get")
    if t.sub == "proxy":
        return _proxy(ctx, objects, t)
    if t.sub in ("exec", "attach", "portforward"):
        from . import remote

        return remote.handle(ctx, objects, t)
    authorize(objects, ctx.user, verb, res, t.namespace, t.name, sub=t.sub)
    if t.sub == "status":
        if method == "GET":
            return answer(ctx, res, objects.need(res, t.namespace, t.name))
        who = caller(ctx)
        if method == "PUT":
            obj = writes.update(objects, res, t.namespace, t.name, bodies.decode(ctx.request), who, sub="status")
            return answer(ctx, res, obj, 200, who.warnings)
        if method == "PATCH":
            obj, _ = writes.patch(
                objects,
                res,
                t.namespace,
                t.name,
                ctx.request.mimetype,
                ctx.request.get_data(cache=True),
                who,
                force=bodies.flag(ctx.request, "force"),
                sub="status",
            )
            return answer(ctx, res, obj, 200, who.warnings)
    elif t.sub == "scale":
        return _scale(ctx, objects, t)
    elif t.sub == "log" and method == "GET":
        return _log(ctx, objects, t)
    elif t.sub == "binding" and method == "POST":
        return _binding(ctx, objects, t)
    elif t.sub == "eviction" and method == "POST":
        return _eviction(ctx, objects, t)
    elif t.sub == "finalize" and method == "PUT":
        return _finalize(ctx, objects, t)
    raise status.method_not_allowed()


# -- scale -----------------------------------------------------------------------------------------


def _selector_text(obj: Obj) -> str:
    sel = obj.get("spec", {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        values = ",".join(expr.get("values") or [])
        op = expr.get("operator")
        parts.append(
            {
                "In": f"{expr.get('key')} in ({values})",
                "NotIn": f"{expr.get('key')} notin ({values})",
                "Exists": str(expr.get("key")),
                "DoesNotExist": f"!{expr.get('key')}",
            }.get(str(op), "")
        )
    return ",".join(p for p in parts if p)


def scale_of(obj: Obj) -> Obj:
    """The autoscaling/v1 Scale of a Deployment or ReplicaSet."""
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": int(obj.get("spec", {}).get("replicas", 1))},
        "status": {"replicas": int(obj.get("status", {}).get("replicas") or 0), "selector": _selector_text(obj)},
    }


def _scale(ctx: Ctx, objects: Objects, t: Target) -> Response:
    if ctx.request.method == "GET":
        return reply(scale_of(objects.need(t.res, t.namespace, t.name)))
    with objects.store.tx():  # read, scale and write as one step (controllers write the status meanwhile)
        return _write_scale(ctx, objects, t)


def _write_scale(ctx: Ctx, objects: Objects, t: Target) -> Response:
    method, res = ctx.request.method, t.res
    obj = objects.need(res, t.namespace, t.name)
    current = scale_of(obj)
    if method == "PUT":
        body = bodies.decode(ctx.request)
    elif method == "PATCH":
        from ..wire import patches

        body = patches.apply_patch(ctx.request.mimetype, current, ctx.request.get_data(cache=True))
    else:
        raise status.method_not_allowed()
    if not isinstance(body, dict):
        raise status.bad_request("the body is not a Scale")
    if body.get("kind") not in (None, "Scale"):
        raise status.bad_request(f"the kind in the data ({body.get('kind')}) does not match the expected kind (Scale)")
    spec = body.get("spec") or {}
    replicas = spec.get("replicas", 0) if isinstance(spec, dict) else None
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise status.bad_request('Scale in version "v1" cannot be handled as a Scale: spec.replicas must be an integer')
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
    new["spec"]["replicas"] = replicas
    stored = writes.update(objects, res, t.namespace, t.name, new, caller(ctx))
    return reply(scale_of(stored))


# -- pods ------------------------------------------------------------------------------------------


def _log(ctx: Ctx, objects: Objects, t: Target) -> Response:
    from ..kubelet import logs

    pod = objects.need(t.res, t.namespace, t.name)
    request = ctx.request
    container = container_of(pod, request.args.get("container", ""))
    limit_bytes = bodies.integer(request, "limitBytes")
    tail = bodies.integer(request, "tailLines")
    since = bodies.integer(request, "sinceSeconds")
    for name, value in (("limitBytes", limit_bytes), ("sinceSeconds", since)):
        if value is not None and value < 1:
            raise status.bad_request(f"{name}: Invalid value: {value}: must be greater than 0")
    if tail is not None and tail < 0:
        raise status.bad_request(f"tailLines: Invalid value: {tail}: must be greater than or equal to 0")
    chunks = logs.stream(
        objects,
        ctx.state_dir,
        pod,
        container,
        follow=bodies.flag(request, "follow"),
        previous=bodies.flag(request, "previous"),
        timestamps=bodies.flag(request, "timestamps"),
        tail_lines=tail,
        since_seconds=since,
        limit_bytes=limit_bytes,
        stopping=watch.stopping(),
    )
    return Response(_flushing(chunks), mimetype="text/plain", direct_passthrough=True)


def _flushing(chunks: Any) -> Any:
    yield b""  # the headers go out before the first line
    yield from chunks


def _binding(ctx: Ctx, objects: Objects, t: Target) -> Response:
    body = bodies.decode(ctx.request)
    target = body.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    if not node:
        raise status.invalid(
            "Binding",
            "",
            t.name,
            [{"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}],
        )
    with objects.store.tx():
        pod = objects.need(t.res, t.namespace, t.name)
        if pod.get("spec", {}).get("nodeName"):
            raise status.conflict(
                "pods", t.name, f'pod {t.name} is already assigned to node "{pod["spec"]["nodeName"]}"'
            )
        if pod["metadata"].get("deletionTimestamp"):
            raise status.conflict("pods", t.name, f"pod {t.name} is being deleted, cannot be assigned to a host")
        pod["spec"]["nodeName"] = node
        conds = [c for c in pod.setdefault("status", {}).get("conditions") or [] if c.get("type") != "PodScheduled"]
        conds.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": pod["metadata"].get("creationTimestamp"),
            }
        )
        pod["status"]["conditions"] = conds
        objects.update(t.res, pod, check_rv=False)
    return reply(status.status_body(201, "", "") | {"status": "Success"}, 201)


def _eviction(ctx: Ctx, objects: Objects, t: Target) -> Response:
    """policy/v1 Eviction: the pod goes only while its PodDisruptionBudget allows (see ``eviction``)."""
    from . import eviction

    body = bodies.decode(ctx.request) if ctx.request.get_data(cache=True).strip() else {}
    if not isinstance(body, dict):
        raise status.bad_request("the body is not an Eviction")
    return reply(eviction.evict(objects, t.res, t.namespace, t.name, body, caller(ctx)), 201)


def _finalize(ctx: Ctx, objects: Objects, t: Target) -> Response:
    body = bodies.decode(ctx.request)
    finalizers = (body.get("spec") or {}).get("finalizers") or []
    if not isinstance(finalizers, list):
        raise status.bad_request("spec.finalizers must be a list")
    ns = objects.need(t.res, "", t.name)
    ns.setdefault("spec", {})["finalizers"] = finalizers
    if not finalizers:
        ns["spec"].pop("finalizers")
    return reply(objects.update(t.res, ns, check_rv=False))


# -- the proxies (services, pods, nodes) -----------------------------------------------------------


def _proxy(ctx: Ctx, objects: Objects, t: Target) -> Response:
    from . import proxies

    return proxies.handle(ctx, objects, t)
