"""Keystone as the sandbox mounts it: under ``/identity``, in Keystone's error style, tokens checked
as keystonemiddleware checks them (version discovery and token issue are public)."""

from __future__ import annotations

from ...api import Service
from ..common import KEYSTONE, json_body_limit, keystone_token, request_ids
from . import directory, tokens

SERVICE = Service(
    "keystone",
    "/identity",
    (tokens.routes, directory.routes),
    KEYSTONE,
    authenticate=keystone_token,
    stamp=request_ids("X-Openstack-Request-Id"),
    body_limit=json_body_limit,
)
