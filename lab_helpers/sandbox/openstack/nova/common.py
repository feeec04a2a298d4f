"""What Nova's handlers share: the microversion range, a server's states and its API view, the
lookup that hides other projects' servers, Nova's timestamps and its server-group quotas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...api import Ctx
from ...events import since, status_at
from ...store import iso, now
from ..neutron.model import server_addresses
from .placement import host_id

MIN_VERSION, MAX_VERSION = (2, 1), (2, 96)
VM_STATE = {
    "BUILD": "building",
    "ACTIVE": "active",
    "SHUTOFF": "stopped",
    "ERROR": "error",
    "REBOOT": "active",
    "HARD_REBOOT": "active",
    "SUSPENDED": "suspended",
    "SHELVED_OFFLOADED": "shelved_offloaded",
}
TASK_STATE = {"BUILD": "spawning", "REBOOT": "rebooting", "HARD_REBOOT": "rebooting_hard"}
POWER_STATE = {"ACTIVE": 1, "REBOOT": 1, "HARD_REBOOT": 1, "SHUTOFF": 4, "SUSPENDED": 7}


def version_doc(base: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": "{}.{}".format(*MAX_VERSION),
        "min_version": "{}.{}".format(*MIN_VERSION),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


def get_server(ctx: Ctx, sid: str) -> dict[str, Any]:
    server = ctx.store.get("server", sid)
    if not server or server["project_id"] != ctx.project:
        raise ctx.bad(f"Instance {sid} could not be found.", 404)
    return server


def view(ctx: Ctx, s: dict[str, Any], t: float) -> dict[str, Any]:
    status = status_at(s, t)
    link = f"{ctx.base}/compute/v2.1/servers/{s['id']}"
    flavor = s["flavor"]
    if ctx.mv(2, 47):
        flavor_view = {k: flavor[k] for k in ("vcpus", "ram", "disk", "ephemeral", "swap", "original_name")}
        flavor_view["extra_specs"] = flavor["extra_specs"]
    else:
        flavor_view = {
            "id": flavor["id"],
            "links": [{"rel": "bookmark", "href": f"{ctx.base}/compute/flavors/{flavor['id']}"}],
        }
    launched = since(s, "ACTIVE", t)
    body: dict[str, Any] = {
        "id": s["id"],
        "name": s["name"],
        "status": status,
        "tenant_id": s["project_id"],
        "user_id": s["user_id"],
        "metadata": s["metadata"],
        "hostId": host_id(s["project_id"], s["host"]) if s.get("host") else "",
        "image": {
            "id": s["image_id"],
            "links": [{"rel": "bookmark", "href": f"{ctx.base}/compute/images/{s['image_id']}"}],
        }
        if s["image_id"]
        else "",
        "flavor": flavor_view,
        "created": iso(s["created"]),
        "updated": iso(s.get("updated", s["created"])),
        "addresses": server_addresses(ctx.store, s),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}],
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 100 if status == "ACTIVE" else 0,
        "OS-EXT-AZ:availability_zone": "nova" if s.get("host") else "",
        "config_drive": "",
        "key_name": s["key_name"],
        "OS-SRV-USG:launched_at": iso(launched, micro=True) if launched else None,
        "OS-SRV-USG:terminated_at": None,
        "security_groups": [{"name": n} for n in s["security_groups"]] if status != "ERROR" else [],
        "OS-EXT-STS:task_state": TASK_STATE.get(status),
        "OS-EXT-STS:vm_state": VM_STATE.get(status, status.lower()),
        "OS-EXT-STS:power_state": POWER_STATE.get(status, 0),
        "os-extended-volumes:volumes_attached": [{"id": v, "delete_on_termination": False} for v in s["volumes"]],
        "locked": False,
        "description": s.get("description"),
        "tags": s["tags"],
        "trusted_image_certificates": None,
        "server_groups": s.get("server_groups", []),
        "locked_reason": None,
        "pinned_availability_zone": None,
    }
    if status == "ERROR" and s.get("fault"):
        body["fault"] = s["fault"]
    if ctx.is_admin:
        body.update(
            {
                "OS-EXT-SRV-ATTR:host": s.get("host"),
                "OS-EXT-SRV-ATTR:hypervisor_hostname": s.get("host"),
                "OS-EXT-SRV-ATTR:instance_name": s["instance_name"],
                "OS-EXT-SRV-ATTR:hostname": s["name"].lower(),
                "OS-EXT-SRV-ATTR:launch_index": 0,
                "OS-EXT-SRV-ATTR:reservation_id": s["reservation_id"],
                "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:user_data": s.get("user_data"),
                "host_status": "UP" if s.get("host") else "",
            }
        )
    return body


SERVER_GROUPS, SERVER_GROUP_MEMBERS = 10, 10  # Nova's defaults, as /limits and os-quota-sets report them


def parse_time(ctx: Ctx, raw: str | None) -> float:
    """Nova's accepted timestamps (ISO 8601, with or without fraction or offset); absent -> now."""
    if not raw:
        return now()
    text = raw.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ctx.bad(f"Invalid input received: Datetime is in invalid format: {raw[:80]}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()
