"""What every OpenStack service declares alike: Keystone tokens, OpenStack's request-id header,
microversion negotiation, the largest JSON body, and each service's error style."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from .. import errors
from ..api import Ctx, ErrorStyle
from .identity import check_token

# The largest request body the JSON APIs take (oslo.middleware's max_request_body_size, 112 KiB,
# in front of Keystone, Nova, Cinder, Glance and Neutron). Object data streams to Swift (and image
# data to Glance) without this limit, as in the real services.
MAX_JSON_BODY = 114688


def json_body_limit(request: Request) -> int | None:
    return MAX_JSON_BODY


def keystone_token(ctx: Ctx) -> None:
    """keystonemiddleware in front of every OpenStack service: a valid ``X-Auth-Token`` or 401."""
    ctx.token = check_token(ctx.store, ctx.request.headers.get("X-Auth-Token", ""))
    if ctx.token is None:
        raise errors.unauthorized(f"{ctx.base}/identity/v3")


def request_ids(*names: str) -> Callable[[Response], None]:
    """Stamp each response with one new request id under each header in ``names`` (unless set)."""

    def stamp(response: Response) -> None:
        rid = "req-" + str(uuid.uuid4())
        for name in names:
            response.headers.setdefault(name, rid)

    return stamp


def _requested(header: str, service_type: str) -> str | None:
    for part in header.split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == service_type:
            return words[1]
    return None


def microversions(
    service_type: str, lo: tuple[int, int], hi: tuple[int, int], legacy: str | None = None
) -> Callable[[Ctx], dict[str, str]]:
    """Negotiate ``OpenStack-API-Version: <service_type> X.Y`` (and a legacy header, as Nova's
    ``X-OpenStack-Nova-API-Version``): absent -> ``lo``, ``latest`` -> ``hi``, outside -> 406."""

    def negotiate(ctx: Ctx) -> dict[str, str]:
        headers = ctx.request.headers
        raw = _requested(headers.get("OpenStack-API-Version", ""), service_type)
        if raw is None and legacy:
            raw = headers.get(legacy)
        if raw in (None, ""):
            ver = lo
        elif raw == "latest":
            ver = hi
        else:
            m = re.fullmatch(r"(\d+)\.(\d+)", raw.strip())
            if not m:
                raise ctx.bad(f"Invalid API version request string {raw}", 400)
            ver = (int(m[1]), int(m[2]))
            if not lo <= ver <= hi:
                raise errors.ApiError(
                    errors.json_response(
                        {
                            "computeFault": {
                                "code": 406,
                                "message": (
                                    f"Version {raw} is not supported by the API. Minimum is {lo[0]}.{lo[1]} and maximum is {hi[0]}.{hi[1]}."
                                ),
                            }
                        },
                        406,
                    )
                )
        ctx.microversion = ver
        text = f"{ver[0]}.{ver[1]}"
        out = {"OpenStack-API-Version": f"{service_type} {text}", "Vary": "OpenStack-API-Version"}
        if legacy:
            out.update({legacy: text, "Vary": f"OpenStack-API-Version, {legacy}"})
        return out

    return negotiate


# -- error styles (the bodies are in ../errors.py) ------------------------------------------------
NOVA = ErrorStyle(error=lambda status, message, kind: errors.nova(status, message))  # Nova and Cinder
NEUTRON = ErrorStyle(
    error=lambda status, message, kind: errors.neutron(status, kind, message),
    invalid=lambda field, shown, reason: (f"Invalid input for {field}. Reason: {reason}.", "HTTPBadRequest"),
    marker_status=404,
)
KEYSTONE = ErrorStyle(
    error=lambda status, message, kind: errors.keystone(status, message),
    invalid=lambda field, shown, reason: (f"Invalid input for field '{field}': {reason}.", "BadRequest"),
)
GLANCE = ErrorStyle(error=lambda status, message, kind: errors.glance(status, message))
SWIFT = ErrorStyle(error=lambda status, message, kind: errors.swift(status))
