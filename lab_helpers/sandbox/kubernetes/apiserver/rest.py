"""The resource paths: ``/api/v1/...`` and ``/apis/{group}/{version}/...``, taken apart by
``paths.parse`` and answered here (get, list, watch, create, update, patch, delete,
deletecollection) or by ``subresources`` (status, scale, log, binding, eviction, finalize, proxy).
Discovery documents of a group version are answered on the same paths."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, Routes, reply
from ...errors import ApiError
from .. import status
from ..objects import Objects, objects_for
from . import accept, bodies, custom, custom_bodies, discovery, selectors, subresources, tables, watch, writes
from .auth import authorize
from .common import answer, caller
from .paths import Target, parse

routes = Routes()
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
Obj = dict[str, Any]


@routes("/api", "GET")
def api_root(ctx: Ctx) -> Response:
    return reply(discovery.api_versions(ctx.request.host))


@routes("/apis", "GET")
def apis_root(ctx: Ctx) -> Response:
    return reply(discovery.group_list(objects_for(ctx.store)))


@routes("/api/<path:rest>", *METHODS)
def core(ctx: Ctx, rest: str) -> Response:
    parts = [p for p in rest.split("/")]
    if parts and parts[-1] == "":
        parts.pop()
    if not parts:
        raise status.server_not_found()
    return _group_version(ctx, "", parts[0], parts[1:])


@routes("/apis/<path:rest>", *METHODS)
def named(ctx: Ctx, rest: str) -> Response:
    parts = [p for p in rest.split("/")]
    if parts and parts[-1] == "":
        parts.pop()
    if not parts:
        raise status.server_not_found()
    if len(parts) == 1:
        doc = discovery.group(parts[0], objects_for(ctx.store))
        if doc is None:
            raise status.server_not_found()
        _only_get(ctx)
        return reply(doc)
    return _group_version(ctx, parts[0], parts[1], parts[2:])


def _only_get(ctx: Ctx) -> None:
    if ctx.request.method != "GET":
        raise status.method_not_allowed()


def _group_version(ctx: Ctx, group: str, version: str, parts: list[str]) -> Response:
    objects = objects_for(ctx.store)
    custom_bodies.REQUEST_OBJECTS.set(objects)
    if not parts:
        doc = discovery.resource_list(group, version, objects)
        if doc is None:
            raise status.server_not_found()
        _only_get(ctx)
        return reply(doc)
    target = parse(group, version, parts, objects)
    if target.sub:
        if target.sub == "scale" and isinstance(target.res, custom.crds.CustomResource):
            return custom.scale(ctx, objects, target)
        if ctx.request.method == "PATCH":
            custom.check_patch_type(target.res, ctx.request.mimetype)
        return subresources.handle(ctx, objects, target)
    if target.collection:
        return _collection(ctx, objects, target)
    return _item(ctx, objects, target)


# -- collections -----------------------------------------------------------------------------------


def _collection(ctx: Ctx, objects: Objects, t: Target) -> Response:
    method = ctx.request.method
    res = t.res
    if method == "GET":
        if t.watch or bodies.flag(ctx.request, "watch"):
            return _watch(ctx, objects, t)
        return _list(ctx, objects, t)
    if res.namespaced and not t.namespace:
        raise status.method_not_allowed()
    if method == "POST" and "create" in res.verbs:
        authorize(objects, ctx.user, "create", res, t.namespace)
        custom.check_create(res)
        who = caller(ctx)
        obj = writes.create(objects, res, t.namespace, bodies.decode(ctx.request), who)
        return answer(ctx, res, obj, 201, who.warnings)
    if method == "DELETE" and "deletecollection" in res.verbs:
        return _delete_collection(ctx, objects, t)
    raise status.method_not_allowed()


def _continue_token(rv: str, last: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{last[0]}/{last[1]}\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        start = str(data["start"]).rstrip("\x00")
        ns, _, name = start.partition("/")
        return ns, name
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise status.bad_request("continue key is not valid: incorrect encoded start resourceVersion") from None


def _selected(ctx: Ctx, objects: Objects, t: Target) -> tuple[list[Obj], str]:
    match = selectors.matcher(t.res, ctx.request.args.get("labelSelector"), ctx.request.args.get("fieldSelector"))
    items, rv = objects.list(t.res, t.namespace or None)
    return [custom.as_version(t.res, o) for o in items if match(o)], rv


def _list(ctx: Ctx, objects: Objects, t: Target) -> Response:
    authorize(objects, ctx.user, "list", t.res, t.namespace)
    view = accept.view(ctx.request)
    limit = bodies.integer(ctx.request, "limit")
    token = ctx.request.args.get("continue")
    items, rv = _selected(ctx, objects, t)
    meta: Obj = {"resourceVersion": rv}
    if token:
        after = _after(token)
        items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
    if limit and limit > 0 and len(items) > limit:
        last = items[limit - 1]["metadata"]
        meta["continue"] = _continue_token(rv, (last.get("namespace", ""), last["name"]))
        meta["remainingItemCount"] = len(items) - limit
        items = items[:limit]
    if view.table:
        return reply(tables.table(t.res, items, meta, include=view.include, version=view.version))
    if view.partial:
        body = {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"meta.k8s.io/{view.version}",
            "metadata": meta,
            "items": [tables.partial_metadata(o) for o in items],
        }
        return reply(body)
    return reply({"kind": f"{t.res.kind}List", "apiVersion": t.res.api_version, "metadata": meta, "items": items})


def _watch(ctx: Ctx, objects: Objects, t: Target) -> Response:
    authorize(objects, ctx.user, "watch", t.res, t.namespace)
    args = ctx.request.args
    match = selectors.matcher(t.res, args.get("labelSelector"), args.get("fieldSelector"))
    if t.name:
        by_name = match
        match = lambda obj: obj["metadata"].get("name") == t.name and by_name(obj)  # noqa: E731
    view = accept.view(ctx.request)
    render = None
    if view.table:

        def render(obj: Obj, first: bool) -> Obj:
            meta = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")}
            obj = custom.as_version(t.res, obj)
            return tables.table(t.res, [obj], meta, include=view.include, version=view.version, headers=first)

    elif custom.crds.is_custom(t.res):

        def render(obj: Obj, first: bool) -> Obj:
            return custom.as_version(t.res, obj)

    timeout = bodies.integer(ctx.request, "timeoutSeconds")
    send_initial = args.get("sendInitialEvents")
    req = watch.WatchRequest(
        res=t.res,
        namespace=t.namespace,
        match=match,
        resource_version=args.get("resourceVersion") or "",
        timeout=float(timeout) if timeout and timeout > 0 else 0.0,
        bookmarks=bodies.flag(ctx.request, "allowWatchBookmarks"),
        send_initial=bodies.flag(ctx.request, "sendInitialEvents") if send_initial is not None else None,
        render=render,
    )
    if req.send_initial and not req.bookmarks:
        raise status.invalid(
            "ListOptions",
            "meta.k8s.io",
            "",
            [
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                    "field": "allowWatchBookmarks",
                }
            ],
        )
    until = custom.UntilGone(watch.stopping(), objects, t.res)
    return Response(watch.stream(objects, req, until), mimetype="application/json", direct_passthrough=True)


def _delete_collection(ctx: Ctx, objects: Objects, t: Target) -> Response:
    authorize(objects, ctx.user, "deletecollection", t.res, t.namespace)
    who = caller(ctx)
    opts = bodies.delete_options(ctx.request)
    items, rv = _selected(ctx, objects, t)
    done = []
    for obj in items:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            continue
        try:
            custom.before_delete(objects, t.res, meta["name"], who.dry_run or opts.dry_run)
            now, _ = writes.delete(objects, t.res, meta.get("namespace", ""), meta["name"], opts, who)
        except ApiError as exc:
            if exc.response.status_code == 404:
                continue
            raise
        done.append(now)
    return reply(
        {
            "kind": f"{t.res.kind}List",
            "apiVersion": t.res.api_version,
            "metadata": {"resourceVersion": rv},
            "items": done,
        }
    )


# -- one object ------------------------------------------------------------------------------------


def _item(ctx: Ctx, objects: Objects, t: Target) -> Response:
    method, res = ctx.request.method, t.res
    if method == "GET":
        if t.watch or bodies.flag(ctx.request, "watch"):
            return _watch(ctx, objects, t)
        authorize(objects, ctx.user, "get", res, t.namespace, t.name)
        return answer(ctx, res, custom.as_version(res, objects.need(res, t.namespace, t.name)))
    if method == "PUT":
        authorize(objects, ctx.user, "update", res, t.namespace, t.name)
        who = caller(ctx)
        existed = objects.get(res, t.namespace, t.name) is not None
        obj = writes.update(objects, res, t.namespace, t.name, bodies.decode(ctx.request), who)
        return answer(ctx, res, obj, 200 if existed else 201, who.warnings)
    if method == "PATCH":
        authorize(objects, ctx.user, "patch", res, t.namespace, t.name)
        custom.check_patch_type(res, ctx.request.mimetype)
        who = caller(ctx)
        obj, created = writes.patch(
            objects,
            res,
            t.namespace,
            t.name,
            ctx.request.mimetype,
            ctx.request.get_data(cache=True),
            who,
            force=bodies.flag(ctx.request, "force"),
        )
        return answer(ctx, res, obj, 201 if created else 200, who.warnings)
    if method == "DELETE":
        authorize(objects, ctx.user, "delete", res, t.namespace, t.name)
        who = caller(ctx)
        opts = bodies.delete_options(ctx.request)
        custom.before_delete(objects, res, t.name, who.dry_run or opts.dry_run)
        obj, gone = writes.delete(objects, res, t.namespace, t.name, opts, who)
        if gone and res.kind != "Pod":
            return reply(writes.deleted_status(res, obj))
        return answer(ctx, res, obj)
    raise status.method_not_allowed()
