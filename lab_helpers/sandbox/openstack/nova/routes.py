"""Nova as the sandbox mounts it: under ``/compute/v2.1``, Keystone tokens, compute microversions
(``OpenStack-API-Version: compute X.Y`` or the older ``X-OpenStack-Nova-API-Version``), and both
request-id headers Nova sends."""

from __future__ import annotations

from typing import Any

from ...api import Ctx, Routes, Service, reply
from ..common import NOVA, json_body_limit, keystone_token, microversions, request_ids
from . import actions, attachments, extras, groups, instance_actions, interfaces, servers, usage
from .common import MAX_VERSION, MIN_VERSION, version_doc

discovery = Routes()


@discovery("/", "GET", public=True)
def show_version(ctx: Ctx) -> Any:
    return reply({"version": version_doc(ctx.base)})


SERVICE = Service(
    "nova",
    "/compute/v2.1",
    (
        discovery,
        servers.routes,
        actions.routes,
        extras.routes,
        attachments.routes,
        groups.routes,
        instance_actions.routes,
        interfaces.routes,
        usage.routes,
    ),
    NOVA,
    authenticate=keystone_token,
    negotiate=microversions("compute", MIN_VERSION, MAX_VERSION, legacy="X-OpenStack-Nova-API-Version"),
    stamp=request_ids("X-Openstack-Request-Id", "X-Compute-Request-Id"),
    body_limit=json_body_limit,
)
