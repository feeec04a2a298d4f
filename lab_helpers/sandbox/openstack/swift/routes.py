"""Swift as the sandbox mounts it: under ``/swift``, Keystone tokens, Swift's short HTML errors.
Object data streams without a limit (as in Swift); its other requests (bulk delete, account and
container metadata) get a generous one."""

from __future__ import annotations

from werkzeug.wrappers import Request

from ...api import Service
from ..common import SWIFT, keystone_token, request_ids
from . import containers, objects

MAX_SWIFT_BODY = 16 * 1024 * 1024


def body_limit(request: Request) -> int | None:
    parts = request.path.split("/")  # '', 'swift', 'v1', account, container, object...
    if request.method == "PUT" and len(parts) >= 6 and parts[5]:
        return None
    return MAX_SWIFT_BODY


SERVICE = Service(
    "swift",
    "/swift",
    (containers.routes, objects.routes),
    SWIFT,
    authenticate=keystone_token,
    stamp=request_ids("X-Openstack-Request-Id"),
    body_limit=body_limit,
)
