"""What every handler shares: the request context, the route table, bodies and filters.

Each service module declares its routes with ``routes = Routes("/compute/v2.1", style="nova")``
and ``@routes("/servers/<sid>", "GET")``; the server builds one werkzeug ``Map`` from them
(moto's and LocalStack's shape: routes -> handlers -> one state backend).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

from . import errors
from .store import Store


@dataclass
class Ctx:
    """One request: who sent it (from the token), against which store, at what microversion."""

    request: Request
    store: Store
    base: str
    state_dir: Path
    boot_s: float
    token: dict[str, Any] | None = None
    microversion: tuple[int, int] = (2, 1)
    style: str = "nova"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> str:
        return self.token["project_id"] if self.token else ""

    @property
    def user(self) -> str:
        return self.token["user_id"] if self.token else ""

    @property
    def is_admin(self) -> bool:
        return bool(self.token) and "admin" in self.token.get("roles", [])

    def mv(self, major: int, minor: int) -> bool:
        """True when the request's microversion is at least ``major.minor``."""
        return self.microversion >= (major, minor)

    def body(self, key: str | None = None, required: bool = True) -> Any:
        """The JSON body (or its ``key``); a malformed one is the service's 400."""
        raw = self.request.get_data(cache=True)
        try:
            data = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser goes
            raise self.bad("Malformed request body.") from None
        if not isinstance(data, dict):
            raise self.bad("Malformed request body: expected a JSON object.")
        if key is None:
            return data
        if not isinstance(data, dict) or (required and not isinstance(data.get(key), dict)):
            raise self.bad(f"Invalid input for field/attribute {key}. Value: {raw[:80]!r}. '{key}' is a required property")
        return data.get(key) or {}

    def bad(self, message: str, status: int = 400, kind: str = "BadRequest") -> errors.ApiError:
        """An error in this service's own shape."""
        if self.style == "neutron":
            return errors.neutron(status, kind, message)
        if self.style == "swift":
            return errors.swift(status)
        if self.style == "glance":
            return errors.glance(status, message)
        if self.style == "keystone":
            return errors.keystone(status, message)
        return errors.nova(status, message)

    def forbid_non_admin(self, rule: str) -> None:
        if not self.is_admin:
            raise self.bad(f"Policy doesn't allow {rule} to be performed.", 403, "PolicyNotAuthorized")

    def owns(self, doc: dict[str, Any]) -> bool:
        """Whether this request may change ``doc``: an admin, or a member of the project that owns it."""
        owner = doc.get("project_id", doc.get("tenant_id"))
        return self.is_admin or owner in (None, "", self.project)


Handler = Callable[..., Any]


class Routes:
    """The route table of one service, mounted under ``prefix``."""

    def __init__(self, prefix: str, style: str) -> None:
        self.prefix = prefix
        self.style = style
        self.table: list[tuple[str, tuple[str, ...], bool, Handler]] = []

    def __call__(self, path: str, *methods: str, public: bool = False) -> Callable[[Handler], Handler]:
        def add(func: Handler) -> Handler:
            self.table.append((self.prefix + path, methods, public, func))
            return func

        return add


def reply(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status=status, headers=headers or {})
    return errors.json_response(body, status, headers)


def query_filters(ctx: Ctx, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    ignore = {"limit", "marker", "sort_key", "sort_dir", "fields", "page_reverse", "all_tenants", "all_projects", "usage"} | set(skip)
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
    """``marker`` then ``limit``, as every OpenStack list API takes them (``limit=0``: no limit).

    A ``limit`` that is not a whole number of 0 or more is the service's 400.
    """
    from . import validate

    limit = validate.limit(ctx)
    marker = ctx.request.args.get("marker")
    if marker:
        ids = [i.get(key) for i in items]
        if marker not in ids:
            raise ctx.bad(f"marker [{marker[:80]}] not found", 400 if ctx.style != "neutron" else 404, "MarkerNotFound")
        items = items[ids.index(marker) + 1 :]
    if limit:
        items = items[:limit]
    return items


def check_metadata(ctx: Ctx, meta: Any) -> dict[str, str]:
    """Metadata as Nova and Cinder accept it: string keys and values of at most 255 characters."""
    if not isinstance(meta, dict):
        raise ctx.bad("Invalid input for field/attribute metadata. Value: not a mapping.")
    for k, v in meta.items():
        if not isinstance(v, str) or not 0 < len(k) <= 255 or len(v) > 255:
            raise ctx.bad(f"Invalid input for field/attribute metadata. Value: {k}={v!r}. Keys and values are strings of at most 255 characters.")
    if len(meta) > 128:
        raise ctx.bad("Quota exceeded for metadata_items: Requested %d, but already used 0 of 128 metadata_items" % len(meta), 403)
    return meta
