"""Nova beside the servers: flavors, keypairs, limits and quotas, availability zones and
hypervisors (admin only)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...store import iso, now
from .. import catalog_data
from . import placement
from .common import SERVER_GROUP_MEMBERS, SERVER_GROUPS

routes = Routes()


# -- flavors ---------------------------------------------------------------------------------
def flavor_view(ctx: Ctx, f: catalog_data.Flavor, detail: bool = True) -> dict[str, Any]:
    link = f"{ctx.base}/compute/v2.1/flavors/{f.id}"
    body: dict[str, Any] = {
        "id": f.id,
        "name": f.name,
        "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}],
    }
    if ctx.mv(2, 55):
        body["description"] = f"{f.vcpus} vCPU, {f.ram_mb // 1024} GB RAM, {f.su_per_hour:g} SU/hour"
    if detail:
        body.update(
            {
                "vcpus": f.vcpus,
                "ram": f.ram_mb,
                "disk": f.disk_gb,
                "OS-FLV-EXT-DATA:ephemeral": 0,
                "OS-FLV-DISABLED:disabled": False,
                "swap": 0 if ctx.mv(2, 75) else "",
                "rxtx_factor": 1.0,
                "os-flavor-access:is_public": True,
            }
        )
        if ctx.mv(2, 61):
            body["extra_specs"] = f.extra_specs
    return body


def _flavors(ctx: Ctx) -> list[catalog_data.Flavor]:
    out = list(catalog_data.flavors())
    min_ram, min_disk = _min_filter(ctx, "minRam"), _min_filter(ctx, "minDisk")
    if min_ram is not None:
        out = [f for f in out if f.ram_mb >= min_ram]
    if min_disk is not None:
        out = [f for f in out if f.disk_gb >= min_disk]
    limit = validate.limit(ctx)
    marker = ctx.request.args.get("marker")
    if marker:
        ids = [f.id for f in out]
        if marker not in ids:
            raise ctx.bad(f"marker [{marker}] not found")
        out = out[ids.index(marker) + 1 :]
    return out if limit is None else out[:limit]


def _min_filter(ctx: Ctx, arg: str) -> int | None:
    """Nova's minRam/minDisk: a non-negative integer, else 400 "Invalid minRam filter [abc]"."""
    raw = ctx.request.args.get(arg)
    if raw is None:
        return None
    if not raw.isdigit():
        raise ctx.bad(f"Invalid input received: Invalid {arg} filter [{raw[:255]}]")
    return int(raw)


@routes("/flavors", "GET")
def list_flavors(ctx: Ctx) -> Any:
    return reply({"flavors": [flavor_view(ctx, f, detail=False) for f in _flavors(ctx)]})


@routes("/flavors/detail", "GET")
def list_flavors_detail(ctx: Ctx) -> Any:
    return reply({"flavors": [flavor_view(ctx, f) for f in _flavors(ctx)]})


def _flavor(ctx: Ctx, fid: str) -> catalog_data.Flavor:
    f = catalog_data.flavor(fid)
    if not f or f.id != fid:
        raise ctx.bad(f"Flavor {fid} could not be found.", 404)
    return f


@routes("/flavors/<fid>", "GET")
def show_flavor(ctx: Ctx, fid: str) -> Any:
    return reply({"flavor": flavor_view(ctx, _flavor(ctx, fid))})


@routes("/flavors/<fid>/os-extra_specs", "GET")
def flavor_specs(ctx: Ctx, fid: str) -> Any:
    return reply({"extra_specs": _flavor(ctx, fid).extra_specs})


# -- keypairs (2.10) -------------------------------------------------------------------------
def _fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    return ":".join(re.findall("..", hashlib.md5(blob).hexdigest()))


def _keypair_view(kp: dict[str, Any], full: bool) -> dict[str, Any]:
    body = {"name": kp["name"], "public_key": kp["public_key"], "fingerprint": kp["fingerprint"], "type": kp["type"]}
    if full:
        body.update(
            {
                "id": kp["seq"],
                "user_id": kp["user_id"],
                "created_at": iso(kp["created"], micro=True),
                "deleted": False,
                "deleted_at": None,
                "updated_at": None,
            }
        )
    return body


@routes("/os-keypairs", "GET")
def list_keypairs(ctx: Ctx) -> Any:
    return reply(
        {"keypairs": [{"keypair": _keypair_view(k, False)} for k in ctx.store.list("keypair", parent=ctx.user)]}
    )


@routes("/os-keypairs", "POST")
def create_keypair(ctx: Ctx) -> Any:
    req = ctx.body("keypair")
    name = req.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9 _.@-]{1,255}", name or ""):
        raise ctx.bad(f"Invalid input for field/attribute name. Value: {name}. Keypair name contains unsafe characters")
    public_key, private_key = (
        validate.string(ctx, req.get("public_key"), "public_key", max_len=65535, allow_none=True),
        None,
    )
    key_type = validate.one_of(ctx, req.get("type", "ssh"), "type", ("ssh", "x509"))
    if public_key is None:
        if ctx.mv(2, 92):
            raise ctx.bad(
                f"Invalid input for field/attribute keypair. Value: {{'name': {name!r}}}. 'public_key' is a required property"
            )
        public_key, private_key = _generate()
    try:
        fingerprint = _fingerprint(public_key)
    except Exception:
        raise ctx.bad("Keypair data is invalid: failed to generate fingerprint") from None
    with ctx.store.tx():
        if ctx.store.get("keypair", f"{ctx.user}:{name}"):
            raise ctx.bad(f"Key pair '{name}' already exists.", 409)
        kp = {
            "name": name,
            "public_key": public_key,
            "fingerprint": fingerprint,
            "type": key_type,
            "user_id": ctx.user,
            "created": now(),
            "seq": ctx.store.count("keypair") + 1,
        }
        ctx.store.put("keypair", f"{ctx.user}:{name}", kp, parent=ctx.user)
    body = _keypair_view(kp, False)
    body["user_id"] = ctx.user
    if private_key:
        body["private_key"] = private_key
    return reply({"keypair": body}, 201 if ctx.mv(2, 2) else 200)


def _generate() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return public + " Generated-by-Nova", private


@routes("/os-keypairs/<name>", "GET", "DELETE")
def one_keypair(ctx: Ctx, name: str) -> Any:
    kp = ctx.store.get("keypair", f"{ctx.user}:{name}")
    if not kp:
        raise ctx.bad(f"Keypair {name} not found for user {ctx.user}", 404)
    if ctx.request.method == "DELETE":
        with ctx.store.tx():
            ctx.store.delete("keypair", f"{ctx.user}:{name}")
        return reply(None, 202 if not ctx.mv(2, 2) else 204)
    return reply({"keypair": _keypair_view(kp, True)})


# -- limits, quotas, availability zones -------------------------------------------------------


def usage(ctx: Ctx, project: str | None = None) -> dict[str, int]:
    project = project or ctx.project
    mine = ctx.store.find("server", project_id=project)
    return {
        "instances": len(mine),
        "cores": sum(s["flavor"]["vcpus"] for s in mine),
        "ram": sum(s["flavor"]["ram"] for s in mine),
        "key_pairs": ctx.store.count("keypair", parent=ctx.user) if project == ctx.project else 0,
        "server_groups": len(ctx.store.find("server_group", project_id=project)),
        "server_group_members": sum(len(g["members"]) for g in ctx.store.find("server_group", project_id=project)),
    }


@routes("/limits", "GET")
def limits(ctx: Ctx) -> Any:
    other = ctx.request.args.get("tenant_id")
    if other and other != ctx.project and not ctx.is_admin:
        raise ctx.bad("Policy doesn't allow os_compute_api:limits:other_project to be performed.", 403)
    q, u = catalog_data.project_quota(), usage(ctx, other or None)
    absolute = {
        "maxTotalCores": q["cores"],
        "totalCoresUsed": u["cores"],
        "maxTotalRAMSize": q["ram"],
        "totalRAMUsed": u["ram"],
        "maxTotalInstances": q["instances"],
        "totalInstancesUsed": u["instances"],
        "maxServerMeta": 128,
        "maxTotalKeypairs": q["key_pairs"],
        "maxServerGroups": SERVER_GROUPS,
        "maxServerGroupMembers": SERVER_GROUP_MEMBERS,
        "totalServerGroupsUsed": u["server_groups"],
    }
    if not ctx.mv(2, 36):
        absolute.update(
            {
                "maxTotalFloatingIps": q["floatingip"],
                "totalFloatingIpsUsed": ctx.store.count("floatingip"),
                "maxSecurityGroups": q["security_group"],
                "totalSecurityGroupsUsed": ctx.store.count("security_group"),
            }
        )
    return reply({"limits": {"rate": [], "absolute": absolute}})


@routes("/os-quota-sets/<pid>", "GET")
@routes("/os-quota-sets/<pid>/detail", "GET")
def quota_set(ctx: Ctx, pid: str) -> Any:
    if pid != ctx.project and not ctx.is_admin:  # Nova's default policy: a member reads only its own project's quota
        raise ctx.bad("Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.", 403)
    q, u = catalog_data.project_quota(), usage(ctx, pid)
    names = {
        "cores": q["cores"],
        "ram": q["ram"],
        "instances": q["instances"],
        "key_pairs": q["key_pairs"],
        "metadata_items": 128,
        "server_groups": SERVER_GROUPS,
        "server_group_members": SERVER_GROUP_MEMBERS,
    }
    detail = ctx.request.path.endswith("/detail") or ctx.request.args.get("usage") in ("True", "true", "1")
    body: dict[str, Any] = {"id": pid}
    for k, v in names.items():
        body[k] = {"limit": v, "in_use": u.get(k, 0), "reserved": 0} if detail else v
    return reply({"quota_set": body})


@routes("/os-availability-zone", "GET")
@routes("/os-availability-zone/detail", "GET")
def availability_zones(ctx: Ctx) -> Any:
    hosts = None
    if ctx.request.path.endswith("/detail"):
        ctx.forbid_non_admin("os_compute_api:os-availability-zone:detail")
        hosts = {
            h.name: {"nova-compute": {"available": True, "active": True, "updated_at": iso(now(), micro=True)}}
            for h in catalog_data.hosts()
        }
    return reply({"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": hosts}]})


# -- hypervisors (admin only, as on JS2) -------------------------------------------------------
def _hypervisor(ctx: Ctx, row: dict[str, Any], detail: bool, with_servers: bool) -> dict[str, Any]:
    h = row["host"]
    body: dict[str, Any] = {"id": h.id, "hypervisor_hostname": h.name, "state": "up", "status": "enabled"}
    if detail:
        # The usage fields left Nova's API at 2.88; the sandbox keeps them so a lab can draw the host.
        body.update(
            {
                "hypervisor_type": "QEMU",
                "hypervisor_version": 6002000,
                "host_ip": f"10.1.0.{catalog_data.hosts().index(h) + 11}",
                "service": {"host": h.name, "id": h.id, "disabled_reason": None},
                "uptime": None,
                "vcpus": h.vcpus,
                "vcpus_used": row["vcpus_used"],
                "memory_mb": h.ram_mb,
                "memory_mb_used": row["ram_mb_used"] + h.reserved_ram_mb,
                "local_gb": h.disk_gb,
                "local_gb_used": row["disk_gb_used"],
                "running_vms": len(row["servers"]),
                "free_ram_mb": h.ram_mb - h.reserved_ram_mb - row["ram_mb_used"],
                "free_disk_gb": h.disk_gb - row["disk_gb_used"],
                "current_workload": 0,
                "disk_available_least": h.disk_gb - row["disk_gb_used"],
                "cpu_info": {
                    "model": h.cpu,
                    "vendor": "AMD",
                    "topology": {"sockets": 2, "cores": h.vcpus // 4, "threads": 2},
                },
                "gpus": h.gpus,
                "gpus_used": row["gpus_used"],
                "node_type": h.type,
            }
        )
    if with_servers:
        body["servers"] = row["servers"]
    return body


@routes("/os-hypervisors", "GET")
@routes("/os-hypervisors/detail", "GET")
def list_hypervisors(ctx: Ctx) -> Any:
    ctx.forbid_non_admin("os_compute_api:os-hypervisors:list")
    detail = ctx.request.path.endswith("/detail")
    with_servers = ctx.request.args.get("with_servers") in ("True", "true", "1")
    table = placement.usage(ctx.store)
    return reply({"hypervisors": [_hypervisor(ctx, table[h.name], detail, with_servers) for h in catalog_data.hosts()]})


@routes("/os-hypervisors/<hid>", "GET")
def show_hypervisor(ctx: Ctx, hid: str) -> Any:
    ctx.forbid_non_admin("os_compute_api:os-hypervisors:show")
    table = placement.usage(ctx.store)
    for h in catalog_data.hosts():
        if hid in (h.id, h.name):
            return reply(
                {
                    "hypervisor": _hypervisor(
                        ctx, table[h.name], True, ctx.request.args.get("with_servers") in ("True", "true", "1")
                    )
                }
            )
    raise ctx.bad(f"Hypervisor with ID {hid} could not be found.", 404)
