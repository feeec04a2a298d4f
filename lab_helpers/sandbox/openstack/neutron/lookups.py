"""How Neutron's handlers find what a request names: one resource (or the 404 that hides what the
project may not see), a filtered list, and the ``fields`` a client asked for."""

from __future__ import annotations

from typing import Any

from ...api import Ctx
from ...queries import query_filters, tag_match
from .checks import visible
from .model import RESOURCES


def get_one(ctx: Ctx, plural: str, rid: str) -> dict[str, Any]:
    """The resource, if the request's project may see it; otherwise Neutron's 404 for it."""
    if plural not in RESOURCES:
        raise ctx.bad("The resource could not be found.", 404, "HTTPNotFound")
    kind, _, err, msg = RESOURCES[plural]
    doc = ctx.store.get(kind, rid) if isinstance(rid, str) and len(rid) <= 255 else None
    if not doc or not visible(ctx, kind, doc):
        raise ctx.bad(msg.format(str(rid)[:80]), 404, err)
    return doc


def _matches(doc: dict[str, Any], args: dict[str, list[str]]) -> bool:
    for key, values in args.items():
        if key in ("tags", "tags-any", "not-tags", "not-tags-any", "fixed_ips"):
            continue
        have = doc.get(key)
        if isinstance(have, bool):
            if str(have).lower() not in {v.lower() for v in values}:
                return False
        elif have is None or str(have) not in values:
            return False
    return tag_match(doc.get("tags", []), args)


def list_docs(ctx: Ctx, plural: str) -> list[dict[str, Any]]:
    kind = RESOURCES[plural][0]
    args = query_filters(ctx)
    return [d for d in ctx.store.list(kind) if _matches(d, args) and visible(ctx, kind, d)]


def shape(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    fields = ctx.request.args.getlist("fields")
    return {k: v for k, v in doc.items() if k in fields} if fields else doc
