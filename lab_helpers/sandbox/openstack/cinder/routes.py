"""Cinder as the sandbox mounts it: under ``/volume``, Keystone tokens, Nova's fault bodies (Cinder
shares them) and volume microversions (``OpenStack-API-Version: volume 3.X``)."""

from __future__ import annotations

from ...api import Service
from ..common import NOVA, json_body_limit, keystone_token, microversions, request_ids
from . import extras, volumes
from .common import MAX_VERSION

_HIGHEST = (int(MAX_VERSION.split(".")[0]), int(MAX_VERSION.split(".")[1]))

SERVICE = Service(
    "cinder",
    "/volume",
    (volumes.routes, extras.routes),
    NOVA,
    authenticate=keystone_token,
    negotiate=microversions("volume", (3, 0), _HIGHEST),
    stamp=request_ids("X-Openstack-Request-Id"),
    body_limit=json_body_limit,
)
