"""Glance as the sandbox mounts it: under ``/image``, Keystone tokens, Glance's HTML error pages.
Image data uploads stream without the JSON body limit, as in Glance."""

from __future__ import annotations

from werkzeug.wrappers import Request

from ...api import Service
from ..common import GLANCE, MAX_JSON_BODY, keystone_token, request_ids
from . import images


def body_limit(request: Request) -> int | None:
    if request.method == "PUT" and request.path.endswith("/file"):
        return None
    return MAX_JSON_BODY


SERVICE = Service(
    "glance",
    "/image",
    (images.routes,),
    GLANCE,
    authenticate=keystone_token,
    stamp=request_ids("X-Openstack-Request-Id"),
    body_limit=body_limit,
)
