"""Typed checks for request fields, each refusing with the service's own 400.

Every write path checks its fields here before anything is stored, so bad state can never be
saved and read back later as a 500. The message follows the calling service's error style
(``Service.errors``): Nova and Cinder echo JSON-schema errors ("Invalid input for field/attribute
name. Value: ... is not of type 'string'"), Neutron says "Invalid input for name. Reason: ...",
Keystone "Invalid input for field 'name': ...".
"""

from __future__ import annotations

import re
import uuid as _uuid
from typing import Any, Literal, overload

from .api import Ctx
from .errors import ApiError

_MISSING = object()


def show(value: Any, width: int = 80) -> str:
    """A value as an error message may echo it: short, whatever its size."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def invalid(ctx: Ctx, field: str, value: Any, reason: str) -> ApiError:
    """The 400 a schema failure on ``field`` gets in ``ctx``'s service (its error style words it)."""
    message, kind = ctx.service.errors.invalid(field, show(value), reason)
    return ctx.bad(message, 400, kind)


@overload
def string(
    ctx: Ctx,
    value: Any,
    field: str,
    max_len: int = ...,
    min_len: int = ...,
    allow_none: Literal[False] = ...,
    pattern: str | None = ...,
) -> str: ...


@overload
def string(
    ctx: Ctx,
    value: Any,
    field: str,
    max_len: int = ...,
    min_len: int = ...,
    allow_none: bool = ...,
    pattern: str | None = ...,
) -> str | None: ...


def string(
    ctx: Ctx,
    value: Any,
    field: str,
    max_len: int = 255,
    min_len: int = 0,
    allow_none: bool = False,
    pattern: str | None = None,
) -> str | None:
    """A string of ``min_len``..``max_len`` characters (``None`` only when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise invalid(ctx, field, value, f"{show(value)} is not of type 'string'")
    if len(value) < min_len:
        raise invalid(ctx, field, value, f"{show(value)} is too short")
    if len(value) > max_len:
        raise invalid(ctx, field, value, f"{show(value)} is too long (at most {max_len} characters)")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise invalid(ctx, field, value, f"{show(value)} does not match {pattern!r}")
    return value


@overload
def name(ctx: Ctx, value: Any, field: str = ..., max_len: int = ..., allow_none: Literal[False] = ...) -> str: ...


@overload
def name(ctx: Ctx, value: Any, field: str = ..., max_len: int = ..., allow_none: bool = ...) -> str | None: ...


def name(ctx: Ctx, value: Any, field: str = "name", max_len: int = 255, allow_none: bool = False) -> str | None:
    """A display name: a string, not blank, without leading or trailing whitespace (Nova's rule)."""
    text = string(ctx, value, field, max_len=max_len, min_len=1, allow_none=allow_none)
    if text is not None and text.strip() != text:
        raise invalid(ctx, field, value, f"{show(value)} has leading or trailing whitespace")
    return text


def integer(
    ctx: Ctx,
    value: Any,
    field: str,
    lo: int | None = None,
    hi: int | None = None,
    allow_none: bool = False,
    from_string: bool = True,
) -> int | None:
    """An integer in ``lo``..``hi``; digit strings pass when ``from_string`` (as Nova's schema allows)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and not from_string):
        raise invalid(ctx, field, value, f"{show(value)} is not of type 'integer'")
    try:
        number = int(value)
    except ValueError:
        raise invalid(ctx, field, value, f"{show(value)} is not of type 'integer'") from None
    if lo is not None and number < lo:
        raise invalid(ctx, field, value, f"{number} is less than the minimum of {lo}")
    if hi is not None and number > hi:
        raise invalid(ctx, field, value, f"{number} is greater than the maximum of {hi}")
    return number


TRUE = {"true", "t", "yes", "y", "on", "1"}
FALSE = {"false", "f", "no", "n", "off", "0"}


def boolean(ctx: Ctx, value: Any, field: str, allow_none: bool = False, from_string: bool = True) -> bool | None:
    """A boolean; "true"/"False"/"1"/... strings pass when ``from_string``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool):
        return value
    if from_string and isinstance(value, str) and value.lower() in TRUE | FALSE:
        return value.lower() in TRUE
    raise invalid(ctx, field, value, f"{show(value)} is not of type 'boolean'")


def str_map(
    ctx: Ctx, value: Any, field: str, max_key: int = 255, max_value: int = 255, max_items: int | None = None
) -> dict[str, str]:
    """A mapping of non-empty string keys to string values."""
    if not isinstance(value, dict):
        raise invalid(ctx, field, value, f"{show(value)} is not of type 'object'")
    if max_items is not None and len(value) > max_items:
        raise invalid(ctx, field, value, f"more than {max_items} items")
    for k, v in value.items():
        if not isinstance(k, str) or not 0 < len(k) <= max_key:
            raise invalid(ctx, field, value, f"key {show(k)} is not a string of 1 to {max_key} characters")
        if not isinstance(v, str) or len(v) > max_value:
            raise invalid(
                ctx, field, value, f"value {show(v)} of {show(k)} is not a string of at most {max_value} characters"
            )
    return value


def str_list(
    ctx: Ctx, value: Any, field: str, max_len: int = 255, max_items: int | None = None, min_len: int = 0
) -> list[str]:
    """A list of strings, each ``min_len``..``max_len`` characters."""
    if not isinstance(value, list):
        raise invalid(ctx, field, value, f"{show(value)} is not of type 'array'")
    if max_items is not None and len(value) > max_items:
        raise invalid(ctx, field, value, f"{show(value)} is too long (at most {max_items} items)")
    for item in value:
        if not isinstance(item, str) or not min_len <= len(item) <= max_len:
            raise invalid(ctx, field, value, f"{show(item)} is not a string of {min_len} to {max_len} characters")
    return value


def uuid(ctx: Ctx, value: Any, field: str, allow_none: bool = False) -> str | None:
    """A UUID in its usual text form (hyphens optional, as OpenStack accepts)."""
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        try:
            _uuid.UUID(value)
            return value
        except ValueError:
            pass
    raise invalid(ctx, field, value, f"{show(value)} is not a 'uuid'")


@overload
def mapping(ctx: Ctx, value: Any, field: str, allow_none: Literal[False] = ...) -> dict[str, Any]: ...


@overload
def mapping(ctx: Ctx, value: Any, field: str, allow_none: bool = ...) -> dict[str, Any] | None: ...


def mapping(ctx: Ctx, value: Any, field: str, allow_none: bool = False) -> dict[str, Any] | None:
    """A JSON object (its fields checked by the caller)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, dict):
        raise invalid(ctx, field, value, f"{show(value)} is not of type 'object'")
    return value


def one_of(ctx: Ctx, value: Any, field: str, choices: tuple[Any, ...] | list[Any] | set[Any]) -> Any:
    """One of a fixed set of values."""
    if value not in choices:
        raise invalid(ctx, field, value, f"{show(value)} is not one of {sorted(map(str, choices))}")
    return value


def query_int(ctx: Ctx, arg: str, lo: int | None = 0, hi: int | None = None) -> int | None:
    """An integer query parameter (``limit``, ``minRam``), absent -> ``None``; otherwise a 400."""
    raw = ctx.request.args.get(arg)
    if raw is None or raw == "":
        return None
    try:
        number = int(raw)
    except ValueError:
        raise ctx.bad(
            f"Invalid input received: Invalid {arg} filter [{show(raw, 60)[1:-1]}]", 400, "HTTPBadRequest"
        ) from None
    if lo is not None and number < lo:
        raise ctx.bad(f"Invalid input received: {arg} must be >= {lo}, got {number}", 400, "HTTPBadRequest")
    if hi is not None and number > hi:
        raise ctx.bad(f"Invalid input received: {arg} must be <= {hi}, got {number}", 400, "HTTPBadRequest")
    return number


def limit(ctx: Ctx) -> int | None:
    """The ``limit`` query parameter: a non-negative integer, else the service's 400."""
    raw = ctx.request.args.get("limit")
    if raw is None or raw == "":
        return None
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if number < 0:
        raise ctx.bad(
            f"Invalid input for query parameters limit. Value: {show(raw, 60)}. limit must be an integer of 0 or more",
            400,
            "HTTPBadRequest",
        )
    return number


def metadata(ctx: Ctx, meta: Any) -> dict[str, str]:
    """Metadata as Nova and Cinder accept it: string keys and values of at most 255 characters."""
    if not isinstance(meta, dict):
        raise ctx.bad("Invalid input for field/attribute metadata. Value: not a mapping.")
    for k, v in meta.items():
        if not isinstance(v, str) or not 0 < len(k) <= 255 or len(v) > 255:
            raise ctx.bad(
                f"Invalid input for field/attribute metadata. Value: {k}={v!r}. "
                "Keys and values are strings of at most 255 characters."
            )
    if len(meta) > 128:
        raise ctx.bad(
            f"Quota exceeded for metadata_items: Requested {len(meta)}, but already used 0 of 128 metadata_items", 403
        )
    return meta
