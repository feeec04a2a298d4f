"""Glance v2: the Featured-* images JS2 keeps up to date; list (with filters) and show. They are
the operator's protected public images: a member may neither change nor delete them (403)."""

from __future__ import annotations

import hashlib
from typing import Any

from ...api import Ctx, Routes, reply
from ...queries import paginate
from ...store import Store
from .. import catalog_data
from ..identity import ADMIN_PROJECT

routes = Routes()
CREATED = "2026-10-01T00:00:00Z"


def seed(store: Store) -> None:
    for row in catalog_data.images():
        size = int(row["size_gb"] * 1024**3)
        digest = hashlib.sha512(row["name"].encode()).hexdigest()
        store.put(
            "image",
            row["id"],
            {
                "id": row["id"],
                "name": row["name"],
                "status": "active",
                "visibility": "public",
                "protected": True,
                "os_hidden": False,
                "owner": ADMIN_PROJECT,
                "container_format": "bare",
                "disk_format": "raw",
                "size": size,
                "virtual_size": size,
                "min_disk": 0,
                "min_ram": 0,
                "checksum": hashlib.md5(row["name"].encode()).hexdigest(),
                "os_hash_algo": "sha512",
                "os_hash_value": digest,
                "tags": [],
                "created_at": CREATED,
                "updated_at": CREATED,
                "os_distro": row["os_distro"],
                "os_version": str(row["os_version"]),
                "hw_disk_bus": "scsi",
                "hw_scsi_model": "virtio-scsi",
                "hw_qemu_guest_agent": "yes",
                "self": f"/v2/images/{row['id']}",
                "file": f"/v2/images/{row['id']}/file",
                "schema": "/v2/schemas/image",
                "description": "Kept up to date by the Jetstream2 team; NVIDIA drivers included.",
            },
        )


def _versions(ctx: Ctx) -> dict[str, Any]:
    ids = [("v2.16", "CURRENT")] + [(f"v2.{n}", "SUPPORTED") for n in range(15, -1, -1)]
    return {
        "versions": [
            {"id": v, "status": s, "links": [{"rel": "self", "href": f"{ctx.base}/image/v2/"}]} for v, s in ids
        ]
    }


@routes("/", "GET", public=True)
def versions(ctx: Ctx) -> Any:
    return reply(_versions(ctx), 300)


@routes("/versions", "GET", public=True)
@routes("/v2/", "GET", public=True)
def versions_v2(ctx: Ctx) -> Any:
    return reply(_versions(ctx))


@routes("/v2/images", "GET")
def list_images(ctx: Ctx) -> Any:
    args = ctx.request.args
    raw = args.get("limit")
    if raw is not None and not raw.isdigit():  # Glance: "limit param must be an integer" / "must be positive"
        raise ctx.bad(
            "limit param must be an integer" if not raw.lstrip("-").isdigit() else "limit param must be positive"
        )
    out = []
    for img in ctx.store.list("image"):
        if args.get("name") and img["name"] != args["name"]:
            continue
        if args.get("visibility") and args["visibility"] not in (img["visibility"], "all"):
            continue
        if args.get("status") and img["status"] != args["status"]:
            continue
        if args.get("owner") and img["owner"] != args["owner"]:
            continue
        if args.getlist("tag") and not set(args.getlist("tag")) <= set(img["tags"]):
            continue
        if args.get("os_distro") and img["os_distro"] != args["os_distro"]:
            continue
        out.append(img)
    out.sort(key=lambda i: i["name"])
    page = paginate(ctx, out)
    body: dict[str, Any] = {"images": page, "first": "/v2/images", "schema": "/v2/schemas/images"}
    if args.get("limit") and page and len(page) == int(args["limit"]) and page[-1] is not out[-1]:
        body["next"] = f"/v2/images?marker={page[-1]['id']}&limit={args['limit']}"
    return reply(body)


def _get_image(ctx: Ctx, iid: str) -> dict[str, Any]:
    img = ctx.store.get("image", iid)
    if not img:
        raise ctx.bad(f"No image found with ID {iid}", 404)
    return img


@routes("/v2/images/<iid>", "GET")
def show_image(ctx: Ctx, iid: str) -> Any:
    return reply(_get_image(ctx, iid))


@routes("/v2/images/<iid>", "PATCH", "DELETE")
def change_image(ctx: Ctx, iid: str) -> Any:
    """Glance's answers: another project's image is forbidden; a protected one cannot be deleted."""
    img = _get_image(ctx, iid)
    deleting = ctx.request.method == "DELETE"
    if not ctx.is_admin and img["owner"] != ctx.project:
        raise ctx.bad(f"You are not permitted to {'delete' if deleting else 'modify'} this image.", 403)
    if deleting and img["protected"]:
        raise ctx.bad(f"Image {iid} is protected and cannot be deleted.", 403)
    raise ctx.bad("The sandbox's images are Jetstream2's Featured images; they are not changed through the API.", 403)


@routes("/v2/schemas/image", "GET")
@routes("/v2/schemas/images", "GET")
def schema(ctx: Ctx) -> Any:
    return reply(
        {
            "name": "image",
            "properties": {"id": {"type": "string"}, "name": {"type": ["null", "string"]}},
            "additionalProperties": {"type": "string"},
        }
    )
