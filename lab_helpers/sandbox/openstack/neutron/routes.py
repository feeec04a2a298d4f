"""Neutron as the sandbox mounts it: under ``/network``, Keystone tokens, Neutron's error bodies
(``NeutronError``, a 404 for an unknown marker), and its version and extension discovery."""

from __future__ import annotations

from typing import Any

from ...api import Ctx, Routes, Service, reply
from ..common import NEUTRON, json_body_limit, keystone_token, request_ids
from . import resources, routers, tags
from .model import RESOURCES

discovery = Routes()


@discovery("/", "GET", public=True)
def versions(ctx: Ctx) -> Any:
    return reply(
        {
            "versions": [
                {"id": "v2.0", "status": "CURRENT", "links": [{"href": f"{ctx.base}/network/v2.0/", "rel": "self"}]}
            ]
        }
    )


@discovery("/v2.0/", "GET")
def collections(ctx: Ctx) -> Any:
    return reply(
        {
            "resources": [
                {"name": k[:-1], "collection": k, "links": [{"href": f"{ctx.base}/network/v2.0/{k}", "rel": "self"}]}
                for k in RESOURCES
            ]
        }
    )


@discovery("/v2.0/extensions", "GET")
def extensions(ctx: Ctx) -> Any:
    names = [
        "router",
        "external-net",
        "security-group",
        "quotas",
        "quota_details",
        "standard-attr-tag",
        "standard-attr-description",
        "standard-attr-revisions",
        "standard-attr-timestamp",
        "binding",
        "extraroute",
        "auto-allocated-topology",
        "availability_zone",
        "network_availability_zone",
        "router_availability_zone",
        "port-security",
        "allowed-address-pairs",
        "ext-gw-mode",
        "fip-port-details",
        "subnet_allocation",
        "net-mtu",
        "stateful-security-group",
    ]
    return reply(
        {
            "extensions": [
                {"alias": n, "name": n, "description": "", "updated": "2013-01-01T00:00:00-00:00", "links": []}
                for n in names
            ]
        }
    )


SERVICE = Service(
    "neutron",
    "/network",
    (discovery, resources.routes, routers.routes, tags.routes),
    NEUTRON,
    authenticate=keystone_token,
    stamp=request_ids("X-Openstack-Request-Id"),
    body_limit=json_body_limit,
)
