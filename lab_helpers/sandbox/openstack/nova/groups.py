"""Nova server groups (``os-server-groups``): policies and rules per microversion, members,
the quota /limits reports, and a scheduler that honours affinity and anti-affinity."""

from __future__ import annotations

import uuid
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...store import now
from .. import catalog_data
from . import placement
from .common import SERVER_GROUP_MEMBERS, SERVER_GROUPS

routes = Routes()


POLICIES_OLD = ("affinity", "anti-affinity")
POLICIES_SOFT = ("soft-affinity", "soft-anti-affinity")


def _group_view(ctx: Ctx, g: dict[str, Any]) -> dict[str, Any]:
    members = [m for m in g["members"] if ctx.store.get("server", m)]
    body: dict[str, Any] = {"id": g["id"], "name": g["name"], "members": members}
    if ctx.mv(2, 64):
        body.update({"policy": g["policy"], "rules": g["rules"]})
    else:
        body.update({"policies": [g["policy"]], "metadata": {}})
    if ctx.mv(2, 13):
        body.update({"project_id": g["project_id"], "user_id": g["user_id"]})
    return body


def _get_group(ctx: Ctx, gid: str) -> dict[str, Any]:
    g = ctx.store.get("server_group", gid)
    if not g or (g["project_id"] != ctx.project and not ctx.is_admin):
        raise ctx.bad(f"Server group {gid} could not be found.", 404)
    return g


def _checked_group(ctx: Ctx, req: dict[str, Any]) -> tuple[str, str, dict[str, int]]:
    name = validate.name(ctx, req.get("name"))
    allowed = POLICIES_OLD + (POLICIES_SOFT if ctx.mv(2, 15) else ())
    if ctx.mv(2, 64):
        if "policies" in req:
            raise validate.invalid(
                ctx, "server_group", req, "Additional properties are not allowed ('policies' was unexpected)"
            )
        policy = validate.one_of(ctx, req.get("policy"), "policy", allowed)
        rules = validate.mapping(ctx, req.get("rules", {}), "rules")
        if set(rules) - {"max_server_per_host"}:
            raise validate.invalid(ctx, "rules", rules, "Additional properties are not allowed")
        if rules:
            if policy != "anti-affinity":
                raise ctx.bad(f"Only anti-affinity policy supports the rules parameter, got {policy!r} policy.")
            validate.integer(ctx, rules["max_server_per_host"], "max_server_per_host", lo=1, from_string=False)
        return name, policy, {k: int(v) for k, v in rules.items()}
    if "policy" in req or "rules" in req:
        raise validate.invalid(
            ctx, "server_group", req, "Additional properties are not allowed ('policy' was unexpected; it needs 2.64)"
        )
    policies = validate.str_list(ctx, req.get("policies"), "policies", max_items=1, min_len=1)
    if len(policies) != 1:
        raise validate.invalid(ctx, "policies", policies, "[] is too short")
    return name, validate.one_of(ctx, policies[0], "policies", allowed), {}


@routes("/os-server-groups", "GET", "POST")
def server_groups(ctx: Ctx) -> Any:
    if ctx.request.method == "GET":
        every = ctx.is_admin and str(ctx.request.args.get("all_projects", "")).lower() in ("true", "1", "yes")
        groups = [g for g in ctx.store.list("server_group") if every or g["project_id"] == ctx.project]
        limit, offset = validate.limit(ctx), validate.query_int(ctx, "offset", lo=0) or 0
        groups = groups[offset:] if limit is None else groups[offset : offset + limit]
        return reply({"server_groups": [_group_view(ctx, g) for g in groups]})
    name, policy, rules = _checked_group(ctx, ctx.body("server_group"))
    with ctx.store.tx():
        if len(ctx.store.find("server_group", project_id=ctx.project)) >= SERVER_GROUPS:
            raise ctx.bad("Quota exceeded, too many server groups.", 403)
        g: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": name,
            "policy": policy,
            "rules": rules,
            "members": [],
            "project_id": ctx.project,
            "user_id": ctx.user,
            "created": now(),
        }
        ctx.store.put("server_group", g["id"], g)
    return reply({"server_group": _group_view(ctx, g)})


@routes("/os-server-groups/<gid>", "GET", "DELETE")
def server_group(ctx: Ctx, gid: str) -> Any:
    if ctx.request.method == "GET":
        return reply({"server_group": _group_view(ctx, _get_group(ctx, gid))})
    with ctx.store.tx():
        g = _get_group(ctx, gid)
        for sid in g["members"]:
            s = ctx.store.get("server", sid)
            if s:
                s["server_groups"] = [x for x in s.get("server_groups", []) if x != gid]
                ctx.store.put("server", sid, s)
        ctx.store.delete("server_group", gid)
    return reply(None, 204)


def group_hint(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any] | None:
    """The server group a create names in its scheduler hints (checked, and with room for one more)."""
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    validate.mapping(ctx, hints, "os:scheduler_hints")
    gid = hints.get("group")
    if gid is None:
        return None
    validate.string(ctx, gid, "group", min_len=1, max_len=255)
    g = ctx.store.get("server_group", gid)
    if not g or g["project_id"] != ctx.project:
        raise ctx.bad(f"Invalid server group {gid}: it could not be found.", 400)
    live = [m for m in g["members"] if ctx.store.get("server", m)]
    if len(live) >= SERVER_GROUP_MEMBERS:
        raise ctx.bad("Quota exceeded, too many servers in group", 403)
    return g


def pick_host_in_group(ctx: Ctx, flavor: catalog_data.Flavor, g: dict[str, Any]) -> Any:
    """A host for a new member that honours the group's policy (soft ones fall back to any host)."""
    table = placement.usage(ctx.store)
    taken: dict[str, int] = {}
    for m in g["members"]:
        s = ctx.store.get("server", m)
        if s and s.get("host"):
            taken[s["host"]] = taken.get(s["host"], 0) + 1
    per_host = g["rules"].get("max_server_per_host", 1)
    fits = [h for h in catalog_data.hosts() if placement.fits(h, table[h.name], flavor)]
    if g["policy"] in ("anti-affinity", "soft-anti-affinity"):
        good = [h for h in fits if taken.get(h.name, 0) < per_host]
    else:
        good = [h for h in fits if not taken or h.name in taken]
    if not good and g["policy"].startswith("soft-"):
        good = fits
    return good[0] if good else None


def join_group(ctx: Ctx, g: dict[str, Any], server: dict[str, Any]) -> None:
    g["members"] = [m for m in g["members"] if ctx.store.get("server", m)] + [server["id"]]
    ctx.store.put("server_group", g["id"], g)
    server["server_groups"] = [g["id"]]


def leave_groups(ctx: Ctx, server: dict[str, Any]) -> None:
    for gid in server.get("server_groups", []):
        g = ctx.store.get("server_group", gid)
        if g:
            g["members"] = [m for m in g["members"] if m != server["id"]]
            ctx.store.put("server_group", gid, g)
