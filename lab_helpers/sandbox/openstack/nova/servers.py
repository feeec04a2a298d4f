"""Nova's servers: create (quota, networks, security groups, placement), list with filters,
show, update and delete. What happens to a server afterwards is in ``actions``; its status is
read lazily from its events (``events.py``): BUILD for ``LAB_SANDBOX_BOOT_S`` seconds, then ACTIVE;
ERROR with Nova's fault when no host fits.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...events import add_event, status_at
from ...queries import paginate, tag_match
from ...store import iso, now
from .. import catalog_data
from ..cinder.common import mark_detached
from ..neutron import model as network
from ..neutron.checks import visible
from . import placement
from .common import get_server, view
from .groups import group_hint, join_group, leave_groups, pick_host_in_group
from .instance_actions import record
from .metering import su_used

routes = Routes()


def _quota_check(ctx: Ctx, flavor: catalog_data.Flavor) -> None:
    limits = catalog_data.project_quota()
    mine = ctx.store.find("server", project_id=ctx.project)
    used = {
        "instances": len(mine),
        "cores": sum(s["flavor"]["vcpus"] for s in mine),
        "ram": sum(s["flavor"]["ram"] for s in mine),
    }
    asked = {"instances": 1, "cores": flavor.vcpus, "ram": flavor.ram_mb}
    for res in ("cores", "ram", "instances"):
        if used[res] + asked[res] > limits[res]:
            raise ctx.bad(
                f"Quota exceeded for {res}: Requested {asked[res]}, but already used {used[res]} of {limits[res]} {res}",
                403,
            )


def _resolve_networks(ctx: Ctx, req: Any) -> list[tuple[str, str | None]]:
    """(network id, existing port id) for each NIC the request names."""
    if req in (None, "auto", []):
        return [(network.default_network(ctx.store, ctx.project)["id"], None)]
    if req == "none":
        return []
    if not isinstance(req, list):
        raise ctx.bad(f"Invalid input for field/attribute networks. Value: {req}.")
    nics = []
    for nic in req:
        if nic.get("port"):
            port = ctx.store.get("port", nic["port"])
            if not port or not visible(ctx, "port", port):  # another project's port is one that does not exist
                raise ctx.bad(f"Port {nic['port']} could not be found.", 400)
            if port.get("device_id"):
                raise ctx.bad(f"Port {nic['port']} is still in use.", 409)
            nics.append((port["network_id"], port["id"]))
        else:
            net = ctx.store.get("network", nic.get("uuid", ""))
            if not net or not visible(ctx, "network", net):  # Neutron's rule: own, shared or external
                raise ctx.bad(f"Network {nic.get('uuid')} could not be found.", 400)
            if net.get("router:external"):
                raise ctx.bad(
                    f"Network {net['id']} is not usable for a server: it is external (floating IPs only).", 400
                )
            nics.append((net["id"], None))
    return nics


def _checked_create(
    ctx: Ctx, req: dict[str, Any]
) -> tuple[str, str | None, dict[str, str], list[str], list[dict[str, str]]]:
    """Every field of a server create checked by type and length before anything is stored."""
    name = validate.name(ctx, req.get("name"))
    for key in ("flavorRef", "imageRef"):
        ref = req.get(key)
        if ref is not None and (isinstance(ref, bool) or not isinstance(ref, (str, int)) or len(str(ref)) > 255):
            raise validate.invalid(ctx, key, ref, f"{validate.show(ref)} is not a string of at most 255 characters")
    key_name = validate.string(ctx, req.get("key_name"), "key_name", max_len=255, min_len=1, allow_none=True)
    validate.string(ctx, req.get("description"), "description", max_len=255, allow_none=True)
    validate.string(ctx, req.get("user_data"), "user_data", max_len=65535, allow_none=True)
    validate.string(ctx, req.get("availability_zone"), "availability_zone", max_len=255, allow_none=True)
    meta = validate.metadata(ctx, req.get("metadata") or {})
    tags = validate.str_list(ctx, req.get("tags") or [], "tags", max_len=60, max_items=50, min_len=1)
    if any("," in t or "/" in t for t in tags):
        raise validate.invalid(ctx, "tags", tags, "a tag may not contain ',' or '/'")
    asked = req.get("security_groups") or [{"name": "default"}]
    if not isinstance(asked, list) or not all(
        isinstance(g, dict) and isinstance(g.get("name"), str) and 0 < len(g["name"]) <= 255 for g in asked
    ):
        raise validate.invalid(ctx, "security_groups", asked, "expected a list of {'name': <string>}")
    nets = req.get("networks")
    if isinstance(nets, list):
        for nic in nets:
            if not isinstance(nic, dict) or not all(
                isinstance(nic.get(k), str) for k in ("uuid", "port", "fixed_ip", "tag") if nic.get(k) is not None
            ):
                raise validate.invalid(ctx, "networks", nets, "each network is an object of string fields")
    elif nets not in (None, "auto", "none"):
        raise validate.invalid(ctx, "networks", nets, f"{validate.show(nets)} is not one of ['auto', 'none'] or a list")
    return name, key_name, meta, list(dict.fromkeys(tags)), asked


@routes("/servers", "POST")
def create_server(ctx: Ctx) -> Any:
    req = ctx.body("server")
    name, key_name, meta, tags, asked_groups = _checked_create(ctx, req)
    group = group_hint(ctx, ctx.body())
    flavor = catalog_data.flavor(str(req.get("flavorRef", "")).rsplit("/", 1)[-1])
    if not flavor:
        raise ctx.bad(f"Flavor {req.get('flavorRef')} could not be found.", 400)
    image_id = str(req.get("imageRef") or "").rsplit("/", 1)[-1]
    if image_id and not ctx.store.get("image", image_id):
        raise ctx.bad(f"Image {image_id} could not be found.", 400)
    if not image_id and not req.get("block_device_mapping_v2"):
        raise ctx.bad(
            "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid."
        )
    if key_name and not ctx.store.get("keypair", f"{ctx.user}:{key_name}"):
        raise ctx.bad("Invalid key_name provided.")
    with ctx.store.tx():
        groups: list[dict[str, Any]] = []
        for asked in asked_groups:
            g = network.find_security_group(ctx.store, ctx.project, asked["name"])
            if not g:
                raise ctx.bad(f"Security group {asked.get('name')} not found for project {ctx.project}.", 400)
            groups.append(g)
        nics = _resolve_networks(ctx, req.get("networks"))
        _quota_check(ctx, flavor)
        t = now()
        sid = str(uuid.uuid4())
        group = group_hint(ctx, ctx.body())  # again inside the transaction: room may have gone
        host = pick_host_in_group(ctx, flavor, group) if group else placement.pick_host(ctx.store, flavor)
        server = {
            "id": sid,
            "name": name,
            "project_id": ctx.project,
            "user_id": ctx.user,
            "created": t,
            "updated": t,
            "flavor": {
                "id": flavor.id,
                "original_name": flavor.name,
                "vcpus": flavor.vcpus,
                "ram": flavor.ram_mb,
                "disk": flavor.disk_gb,
                "ephemeral": 0,
                "swap": 0,
                "extra_specs": flavor.extra_specs,
                "gpu_fraction": flavor.gpu_fraction,
            },
            "su_per_hour": flavor.su_per_hour,
            "image_id": image_id,
            "key_name": key_name,
            "metadata": meta,
            "tags": tags,
            "host": host.name if host else None,
            "description": req.get("description"),
            "security_groups": [g["name"] for g in groups],
            "volumes": [],
            "events": [],
            "instance_name": "instance-%08x" % (ctx.store.count("server") + ctx.store.count("usage") + 1),
            "reservation_id": "r-" + secrets.token_hex(4),
            "user_data": req.get("user_data"),
        }
        if host:
            add_event(server, "BUILD", t, ctx.boot_s, "ACTIVE")
            for net_id, port_id in nics:
                network.bind_port(ctx.store, ctx.project, net_id, port_id, sid, [g["id"] for g in groups])
        else:
            add_event(server, "BUILD", t, min(1.0, ctx.boot_s), "ERROR")
            server["fault"] = {"code": 500, "created": iso(t), "message": placement.no_valid_host(flavor)}
        if group:
            join_group(ctx, group, server)
        headers = record(ctx, server, "create", ctx.boot_s, "Success" if host else "Error")
        ctx.store.put("server", sid, server)
    body = {
        "id": sid,
        "links": [{"rel": "self", "href": f"{ctx.base}/compute/v2.1/servers/{sid}"}],
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": g["name"]} for g in groups],
        "adminPass": secrets.token_urlsafe(9),
    }
    return reply({"server": body}, 202, headers)


def _name_matches(pattern: str, name: str) -> bool:
    """Nova treats the name filter as a regular expression; a broken one matches as text."""
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return pattern in name


def _filtered(ctx: Ctx) -> list[dict[str, Any]]:
    validate.limit(ctx)
    t = now()
    args = {k: ctx.request.args.getlist(k) for k in ctx.request.args}
    out = []
    for s in sorted(ctx.store.find("server", project_id=ctx.project), key=lambda s: s["created"], reverse=True):
        if "name" in args and not _name_matches(args["name"][0], str(s["name"])):
            continue
        if "status" in args and status_at(s, t) not in {v.upper() for v in args["status"]}:
            continue
        if "flavor" in args and s["flavor"]["id"] not in args["flavor"]:
            continue
        if "image" in args and s["image_id"] not in args["image"]:
            continue
        if "host" in args and ctx.is_admin and s.get("host") not in args["host"]:
            continue
        if not tag_match(s["tags"], args):
            continue
        out.append(s)
    return out


def _listing(ctx: Ctx, detail: bool) -> Any:
    t = now()
    page = paginate(ctx, _filtered(ctx))
    items = [
        view(ctx, s, t) if detail else {"id": s["id"], "name": s["name"], "links": view(ctx, s, t)["links"]}
        for s in page
    ]
    body: dict[str, Any] = {"servers": items}
    limit = ctx.request.args.get("limit")
    if limit and page and len(page) == int(limit):
        body["servers_links"] = [
            {"rel": "next", "href": f"{ctx.request.base_url}?limit={limit}&marker={page[-1]['id']}"}
        ]
    return reply(body)


@routes("/servers", "GET")
def list_servers(ctx: Ctx) -> Any:
    return _listing(ctx, detail=False)


@routes("/servers/detail", "GET")
def list_servers_detail(ctx: Ctx) -> Any:
    return _listing(ctx, detail=True)


@routes("/servers/<sid>", "GET")
def show_server(ctx: Ctx, sid: str) -> Any:
    return reply({"server": view(ctx, get_server(ctx, sid), now())})


@routes("/servers/<sid>", "PUT")
def update_server(ctx: Ctx, sid: str) -> Any:
    req = ctx.body("server")
    if "name" in req:
        validate.name(ctx, req["name"])
    if "description" in req:
        validate.string(ctx, req["description"], "description", max_len=255, allow_none=True)
    with ctx.store.tx():
        s = get_server(ctx, sid)
        for key in ("name", "description"):
            if key in req:
                s[key] = req[key]
        s["updated"] = now()
        ctx.store.put("server", sid, s)
    return reply({"server": view(ctx, s, now())})


@routes("/servers/<sid>", "DELETE")
def delete_server(ctx: Ctx, sid: str) -> Any:
    with ctx.store.tx():
        s = get_server(ctx, sid)
        network.release_ports(ctx.store, sid)
        for vid in s["volumes"]:
            mark_detached(ctx.store, vid, sid)
        t = now()
        ctx.store.put(
            "usage",
            sid,
            {
                "id": sid,
                "name": s["name"],
                "flavor": s["flavor"]["original_name"],
                "flavor_detail": s["flavor"],
                "su_per_hour": s["su_per_hour"],
                "su": round(su_used(s, t), 6),
                "deleted": t,
                "created": s["created"],
                "project_id": s["project_id"],
                "events": s["events"],
            },
        )
        leave_groups(ctx, s)
        headers = record(ctx, s, "delete")
        ctx.store.delete("server", sid)
    return reply(None, 204, headers)
