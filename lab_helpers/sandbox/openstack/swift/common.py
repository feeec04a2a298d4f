"""What Swift's handlers share: responses with Swift's transaction id, its plain-text errors, where
an object's bytes are, the account and container checks, timestamps and metadata limits."""

from __future__ import annotations

import email.utils
import secrets
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from ... import errors
from ...api import Ctx
from ...files import blob_path
from ...store import iso

MAX_NAME = 256
MAX_META_NAME, MAX_META_VALUE, MAX_META_COUNT, MAX_META_OVERALL = 128, 256, 90, 4096


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    tid = "tx" + secrets.token_hex(11) + "-" + secrets.token_hex(5)
    return {"X-Trans-Id": tid, "X-Openstack-Request-Id": tid, **(extra or {})}


def resp(
    status: int, body: bytes | str = b"", headers: dict[str, str] | None = None, ctype: str = "text/html; charset=UTF-8"
) -> Response:
    """A Swift response: its transaction id doubles as OpenStack's request id."""
    return Response(body, status=status, headers=_headers(headers), content_type=ctype)


def plain(status: int, text: str) -> errors.ApiError:
    """A Swift error whose body is the plain text the real middleware writes."""
    return errors.ApiError(resp(status, text, ctype="text/plain; charset=UTF-8"))


def object_key(container: str, name: str) -> str:
    return f"{container}/{name}"


def blob(ctx: Ctx, container: str, name: str) -> Path:
    return blob_path(ctx.state_dir, container, name)


def request_meta(ctx: Ctx, prefix: str) -> dict[str, str]:
    """The request's metadata headers under ``prefix``, lower-case names without the prefix."""
    return {k[len(prefix) :].lower(): v for k, v in ctx.request.headers.items() if k.lower().startswith(prefix.lower())}


def check_account(ctx: Ctx, account: str) -> None:
    if account != f"AUTH_{ctx.project}":
        raise errors.swift(403)


def get_container(ctx: Ctx, name: str) -> dict[str, Any]:
    cont = ctx.store.get("container", name)
    if not cont:
        raise errors.swift(404)
    return cont


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def stamp(ts: float) -> str:
    return iso(ts, micro=True)


def check_meta(headers: Any, prefix: str) -> None:
    """Swift's metadata constraints (names, values, count and total size) as its 400s."""
    count = size = 0
    for k, v in headers.items():
        if not k.lower().startswith(prefix.lower()):
            continue
        key = k[len(prefix) :]
        if not key:
            raise plain(400, "Metadata name cannot be empty")
        if len(key) > MAX_META_NAME:
            raise plain(400, f"Metadata name too long: {prefix}{key[:MAX_META_NAME]}...")
        if len(v) > MAX_META_VALUE:
            raise plain(400, f"Metadata value longer than {MAX_META_VALUE}: {prefix}{key}")
        count += 1
        size += len(key) + len(v)
    if count > MAX_META_COUNT:
        raise plain(400, f"Too many metadata items; max {MAX_META_COUNT}")
    if size > MAX_META_OVERALL:
        raise plain(400, f"Total metadata too large; max {MAX_META_OVERALL}")
