"""List queries as OpenStack's list APIs take them: filters, tag filters, ``marker`` and ``limit``."""

from __future__ import annotations

from typing import Any

from . import validate
from .api import Ctx


def query_filters(ctx: Ctx, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    ignore = {
        "limit",
        "marker",
        "sort_key",
        "sort_dir",
        "fields",
        "page_reverse",
        "all_tenants",
        "all_projects",
        "usage",
    } | set(skip)
    return {k: ctx.request.args.getlist(k) for k in ctx.request.args if k not in ignore}


def tag_match(tags: list[str], args: dict[str, list[str]]) -> bool:
    """Neutron's and Nova's tag filters: tags (all of), tags-any, not-tags, not-tags-any."""
    have = set(tags)

    def split(key: str) -> set[str]:
        return {t for v in args.get(key, []) for t in v.split(",") if t}

    if "tags" in args and not split("tags") <= have:
        return False
    if "tags-any" in args and not (split("tags-any") & have):
        return False
    if "not-tags" in args and split("not-tags") and split("not-tags") <= have:
        return False
    if "not-tags-any" in args and split("not-tags-any") & have:
        return False
    return True


def paginate(ctx: Ctx, items: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """``marker`` then ``limit`` (``limit=0``: no limit).

    A ``limit`` that is not a whole number of 0 or more is the service's 400; an unknown marker
    is the status the service's error style names.
    """
    limit = validate.limit(ctx)
    marker = ctx.request.args.get("marker")
    if marker:
        ids = [i.get(key) for i in items]
        if marker not in ids:
            raise ctx.bad(f"marker [{marker[:80]}] not found", ctx.service.errors.marker_status, "MarkerNotFound")
        items = items[ids.index(marker) + 1 :]
    if limit:
        items = items[:limit]
    return items
