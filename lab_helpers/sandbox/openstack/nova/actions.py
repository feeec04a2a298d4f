"""Nova server actions (stop, start, reboot, suspend, shelve, console output) and the
metadata and tag subresources."""

from __future__ import annotations

from typing import Any

from ... import validate
from ...api import Ctx, Routes, reply
from ...events import add_event, since, status_at
from ...store import now
from .. import catalog_data
from ..neutron import model as network
from . import placement
from .common import VM_STATE, get_server
from .instance_actions import record

routes = Routes()

# action -> (states it may start from, the state it goes to, the verb Nova names in a conflict)
ACTIONS = {
    "os-stop": ({"ACTIVE", "REBOOT", "HARD_REBOOT", "SUSPENDED"}, "SHUTOFF", "stop"),
    "os-start": ({"SHUTOFF"}, "ACTIVE", "start"),
    "suspend": ({"ACTIVE"}, "SUSPENDED", "suspend"),
    "resume": ({"SUSPENDED"}, "ACTIVE", "resume"),
    "shelve": ({"ACTIVE", "SHUTOFF", "SUSPENDED"}, "SHELVED_OFFLOADED", "shelve"),
    "unshelve": ({"SHELVED_OFFLOADED"}, "ACTIVE", "unshelve"),
}


def _conflict(ctx: Ctx, s: dict[str, Any], verb: str, status: str) -> Exception:
    return ctx.bad(
        f"Cannot '{verb}' instance {s['id']} while it is in vm_state {VM_STATE.get(status, status.lower())}", 409
    )


def console_log(ctx: Ctx, s: dict[str, Any], t: float) -> list[str]:
    started = since(s, "ACTIVE", t)
    if not started:
        return []
    addrs = [a["addr"] for nets in network.server_addresses(ctx.store, s).values() for a in nets]
    name = s["name"].lower()
    return [
        "[    0.000000] Linux version 5.15.0-125-generic (buildd@lcy02-amd64) #135-Ubuntu SMP",
        "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=LABEL=cloudimg-rootfs ro console=ttyS0",
        f"[    0.412345] smpboot: Allowing {s['flavor']['vcpus']} CPUs, 0 hotplug CPUs",
        f"[    0.523456] Memory: {s['flavor']['ram'] * 1024} K available",
        "[    2.100000] EXT4-fs (vda1): mounted filesystem with ordered data mode.",
        "[  OK  ] Started OpenBSD Secure Shell server.",
        "cloud-init[812]: Cloud-init v. 24.1 running 'init' at boot. Up 6.42 seconds.",
        f"cloud-init[812]: ci-info: | ens3 | True | {addrs[0] if addrs else '-'} | 255.255.255.0 | global |",
        f"cloud-init[812]: Set hostname to <{name}>",
        "cloud-init[950]: Cloud-init v. 24.1 finished. Datasource DataSourceOpenStackLocal. Up 14.08 seconds",
        "",
        f"Ubuntu 22.04.5 LTS {name} ttyS0",
        "",
        f"{name} login: ",
    ]


@routes("/servers/<sid>/action", "POST")
def server_action(ctx: Ctx, sid: str) -> Any:
    body = ctx.body()
    if not isinstance(body, dict) or len(body) != 1:
        raise ctx.bad("Invalid action: exactly one action is expected in the body.")
    ((action, arg),) = body.items()
    if (
        arg is not None
        and not isinstance(arg, dict)
        and action not in ("os-stop", "os-start", "suspend", "resume", "shelve", "unshelve")
    ):
        raise validate.invalid(ctx, action, arg, f"{validate.show(arg)} is not of type 'object'")
    t = now()
    if action == "os-getConsoleOutput":
        s = get_server(ctx, sid)
        lines = console_log(ctx, s, t)
        length = (arg or {}).get("length")
        if length not in (None, -1, "-1"):
            try:
                lines = lines[-int(length) :] if int(length) > 0 else []
            except (TypeError, ValueError):
                raise ctx.bad(f"Invalid input for field/attribute length. Value: {length}.") from None
        return reply({"output": "\n".join(lines)})
    headers: dict[str, str] = {}
    with ctx.store.tx():
        s = get_server(ctx, sid)
        status = status_at(s, t)
        if action in ACTIONS:
            allowed, target, verb = ACTIONS[action]
            if status not in allowed:
                raise _conflict(ctx, s, verb, status)
            if action == "unshelve":  # back on a host, perhaps another one: Nova schedules it again
                flavor = catalog_data.flavor(s["flavor"]["original_name"])
                host = placement.pick_host(ctx.store, flavor) if flavor is not None else None
                if host is None:
                    raise ctx.bad(placement.no_valid_host(None), 409)
                s["host"] = host.name
            if action == "shelve":  # offloaded: it holds no host, so it shows no hostId
                s["host"] = None
            add_event(s, target, t)
            headers = record(ctx, s, verb)
        elif action == "reboot":
            kind = (arg or {}).get("type", "SOFT")
            if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
                raise ctx.bad(f"Invalid input for field/attribute type. Value: {kind}. 'SOFT' or 'HARD' expected")
            if status not in ("ACTIVE", "SHUTOFF", "REBOOT", "HARD_REBOOT"):
                raise _conflict(ctx, s, "reboot", status)
            add_event(s, "REBOOT" if kind.upper() == "SOFT" else "HARD_REBOOT", t, max(0.1, ctx.boot_s / 2), "ACTIVE")
            headers = record(ctx, s, "reboot", max(0.1, ctx.boot_s / 2))
        elif action in ("addSecurityGroup", "removeSecurityGroup"):
            validate.string(ctx, (arg or {}).get("name"), "name", min_len=1, max_len=255)
            group = network.find_security_group(ctx.store, ctx.project, (arg or {}).get("name", ""))
            if not group:
                raise ctx.bad(f"Security group {(arg or {}).get('name')} not found for project {ctx.project}.", 404)
            names = set(s["security_groups"])
            names = names | {group["name"]} if action == "addSecurityGroup" else names - {group["name"]}
            s["security_groups"] = sorted(names)
            network.set_port_groups(
                ctx.store, sid, [g["id"] for g in ctx.store.list("security_group") if g["name"] in names]
            )
        else:
            raise ctx.bad(f"There is no such action: {action}")
        s["updated"] = t
        ctx.store.put("server", sid, s)
    return reply(None, 202, headers)


@routes("/servers/<sid>/ips", "GET")
def server_ips(ctx: Ctx, sid: str) -> Any:
    s = get_server(ctx, sid)
    return reply(
        {
            "addresses": {
                k: [{"version": a["version"], "addr": a["addr"]} for a in v]
                for k, v in network.server_addresses(ctx.store, s).items()
            }
        }
    )


# -- metadata --------------------------------------------------------------------------------


@routes("/servers/<sid>/metadata", "GET", "PUT", "POST")
def server_metadata(ctx: Ctx, sid: str) -> Any:
    if ctx.request.method == "GET":
        return reply({"metadata": get_server(ctx, sid)["metadata"]})
    meta = validate.metadata(ctx, ctx.body().get("metadata"))
    with ctx.store.tx():
        s = get_server(ctx, sid)
        s["metadata"] = meta if ctx.request.method == "PUT" else {**s["metadata"], **meta}
        ctx.store.put("server", sid, s)
    return reply({"metadata": s["metadata"]})


@routes("/servers/<sid>/metadata/<key>", "GET", "PUT", "DELETE")
def server_metadata_item(ctx: Ctx, sid: str, key: str) -> Any:
    with ctx.store.tx():
        s = get_server(ctx, sid)
        if ctx.request.method == "PUT":
            meta = validate.metadata(ctx, ctx.body().get("meta"))
            if list(meta) != [key]:
                raise ctx.bad("Request body and URI mismatch")
            s["metadata"][key] = meta[key]
            ctx.store.put("server", sid, s)
            return reply({"meta": meta})
        if key not in s["metadata"]:
            raise ctx.bad("Metadata item was not found", 404)
        if ctx.request.method == "DELETE":
            del s["metadata"][key]
            ctx.store.put("server", sid, s)
            return reply(None, 204)
        return reply({"meta": {key: s["metadata"][key]}})


# -- tags (2.26) -----------------------------------------------------------------------------
@routes("/servers/<sid>/tags", "GET", "PUT", "DELETE")
def server_tags(ctx: Ctx, sid: str) -> Any:
    if ctx.request.method == "GET":
        return reply({"tags": get_server(ctx, sid)["tags"]})
    with ctx.store.tx():
        s = get_server(ctx, sid)
        tags = [] if ctx.request.method == "DELETE" else ctx.body().get("tags")
        if (
            not isinstance(tags, list)
            or len(tags) > 50
            or not all(isinstance(x, str) and 0 < len(x) <= 60 and "," not in x and "/" not in x for x in tags)
        ):
            raise ctx.bad(f"Invalid input for field/attribute tags. Value: {tags}.")
        s["tags"] = list(dict.fromkeys(tags))
        ctx.store.put("server", sid, s)
    return reply(None, 204) if ctx.request.method == "DELETE" else reply({"tags": s["tags"]})


@routes("/servers/<sid>/tags/<tag>", "GET", "PUT", "DELETE")
def server_tag(ctx: Ctx, sid: str, tag: str) -> Any:
    with ctx.store.tx():
        s = get_server(ctx, sid)
        if ctx.request.method == "PUT":
            if "," in tag or "/" in tag or len(tag) > 60:
                raise ctx.bad(f"Invalid input for field/attribute tag. Value: {tag}.")
            created = tag not in s["tags"]
            if created:
                s["tags"].append(tag)
                ctx.store.put("server", sid, s)
            return reply(
                None, 201 if created else 204, {"Location": f"{ctx.base}/compute/v2.1/servers/{sid}/tags/{tag}"}
            )
        if tag not in s["tags"]:
            raise ctx.bad(f"Tag '{tag}' could not be found.", 404)
        if ctx.request.method == "DELETE":
            s["tags"].remove(tag)
            ctx.store.put("server", sid, s)
        return reply(None, 204)
