"""Neutron's ``/tags`` subresource on every kind, and quotas (read-only: Jetstream2's allocation)."""

from __future__ import annotations

from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from .. import catalog_data
from . import checks as network_checks
from .lookups import get_one
from .model import RESOURCES

routes = Routes()


# -- tags -------------------------------------------------------------------------------------
def _check_tag(ctx: Ctx, tag: Any) -> str:
    if not isinstance(tag, str) or not 0 < len(tag) <= network_checks.TAG_MAX:
        raise ctx.bad(
            f"Invalid input for operation: '{validate.show(tag, 60)}' is not a valid tag: tags are strings of 1 to "
            f"{network_checks.TAG_MAX} characters.",
            400,
            "InvalidInput",
        )
    return tag


@routes("/v2.0/<plural>/<rid>/tags", "GET", "PUT", "DELETE")
def tags(ctx: Ctx, plural: str, rid: str) -> Any:
    if ctx.request.method == "GET":
        return reply({"tags": get_one(ctx, plural, rid)["tags"]})
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        kind = RESOURCES[plural][0]
        network_checks.require_owner(ctx, kind, doc, "update")
        new = [] if ctx.request.method == "DELETE" else ctx.body().get("tags")
        if not isinstance(new, list):
            raise ctx.bad(
                f"Invalid input for tags. Reason: {validate.show(new)} is not a list of strings.", 400, "HTTPBadRequest"
            )
        doc["tags"] = sorted({_check_tag(ctx, t) for t in new})
        ctx.store.put(kind, rid, doc)
    return reply(None, 204) if ctx.request.method == "DELETE" else reply({"tags": doc["tags"]})


@routes("/v2.0/<plural>/<rid>/tags/<tag>", "GET", "PUT", "DELETE")
def one_tag(ctx: Ctx, plural: str, rid: str, tag: str) -> Any:
    with ctx.store.tx():
        doc = get_one(ctx, plural, rid)
        kind = RESOURCES[plural][0]
        if ctx.request.method != "GET":
            network_checks.require_owner(ctx, kind, doc, "update")
        if ctx.request.method == "PUT":
            doc["tags"] = sorted(set(doc["tags"]) | {_check_tag(ctx, tag)})
            ctx.store.put(kind, rid, doc)
            return reply(None, 201)
        if tag not in doc["tags"]:
            raise ctx.bad(f"Tag {tag[:80]} could not be found.", 404, "TagNotFound")
        if ctx.request.method == "DELETE":
            doc["tags"].remove(tag)
            ctx.store.put(kind, rid, doc)
    return reply(None, 204)


# -- quotas -----------------------------------------------------------------------------------
@routes("/v2.0/quotas/<pid>", "PUT", "DELETE")
def change_quotas(ctx: Ctx, pid: str) -> Any:
    """Quotas are the admin's to set (and in the sandbox, Jetstream2's allocation's: fixed)."""
    if not ctx.is_admin:
        raise network_checks.forbidden(ctx, f"rule:{'update' if ctx.request.method == 'PUT' else 'delete'}_quota")
    raise ctx.bad(
        "The sandbox's quotas are those of a Jetstream2 Startup/Research allocation (data/jetstream2.yaml) and "
        "cannot be changed through the API.",
        400,
        "BadRequest",
    )


@routes("/v2.0/quotas/<pid>", "GET")
@routes("/v2.0/quotas/<pid>/details", "GET")
def quotas(ctx: Ctx, pid: str) -> Any:
    """A project's quotas: a member reads only its own project's (Neutron's get_quota policy)."""
    if pid != ctx.project and not ctx.is_admin:
        raise network_checks.forbidden(ctx, "rule:get_quota")
    limits = catalog_data.project_quota()
    keys = ("network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule")
    if ctx.request.path.endswith("/details"):
        return reply(
            {
                "quota": {
                    k: {"limit": limits[k], "used": len(ctx.store.find(k, project_id=pid)), "reserved": 0} for k in keys
                }
            }
        )
    return reply({"quota": {k: limits[k] for k in keys}})
