"""Swift's account and containers: ``/info``, listings (prefix, delimiter, marker, limit), metadata,
and the 409 for deleting a container that still holds objects. Objects are in ``objects``."""

from __future__ import annotations

import json
from typing import Any

from ... import errors
from ...api import Ctx, Routes
from ...store import now
from .common import MAX_NAME, check_account, check_meta, get_container, http_date, request_meta, resp, stamp
from .slo import INFO

routes = Routes()


@routes("/info", "GET", public=True)
def info(ctx: Ctx) -> Any:
    doc = {
        "swift": {
            "version": "2.33.0",
            "max_file_size": 5368709122,
            "container_listing_limit": 10000,
            "max_object_name_length": 1024,
            "max_container_name_length": MAX_NAME,
            "max_meta_name_length": 128,
            "max_meta_value_length": 256,
            "max_meta_count": 90,
            "max_meta_overall_size": 4096,
            "max_header_size": 8192,
            "extra_header_count": 0,
            "account_listing_limit": 10000,
            "max_account_name_length": 256,
            "valid_api_versions": ["v1", "v1.0"],
            "strict_cors_mode": True,
            "policies": [{"name": "Policy-0", "default": True}],
        },
        "slo": INFO,
        "bulk_delete": {"max_deletes_per_request": 10000, "max_failed_deletes": 1000},
    }
    return resp(200, json.dumps(doc), ctype="application/json; charset=utf-8")


@routes("/v1/<account>", "GET", "HEAD", "POST")
def account(ctx: Ctx, account: str) -> Any:
    check_account(ctx, account)
    if ctx.request.method == "POST":
        check_meta(ctx.request.headers, "X-Account-Meta-")
    conts = ctx.store.list("container")
    objs = sum(c["count"] for c in conts)
    head = {
        "X-Account-Container-Count": str(len(conts)),
        "X-Account-Object-Count": str(objs),
        "X-Account-Bytes-Used": str(sum(c["bytes"] for c in conts)),
        "X-Timestamp": f"{float(ctx.store.meta('created', '0') or 0):.5f}",
    }
    if ctx.request.method != "GET":
        return resp(204, headers=head)
    rows = [
        {"name": c["name"], "count": c["count"], "bytes": c["bytes"], "last_modified": stamp(c["modified"])}
        for c in conts
    ]
    return _listing(ctx, sorted(rows, key=lambda r: r["name"]), head)


def _listing(ctx: Ctx, rows: list[dict[str, Any]], head: dict[str, str]) -> Any:
    args = ctx.request.args
    prefix, delim = args.get("prefix", ""), args.get("delimiter")
    marker, end = args.get("marker", ""), args.get("end_marker")
    given = args.get("limit", "")
    limit = int(given) if given.isdigit() else 10000  # Swift ignores a limit that is not a whole number
    if limit > 10000:
        raise errors.ApiError(resp(412, "Maximum limit is 10000", ctype="text/plain; charset=UTF-8"))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        name = row["name"]
        if not name.startswith(prefix) or (marker and name <= marker) or (end and name >= end):
            continue
        if delim:
            cut = name.find(delim, len(prefix))
            if cut >= 0:
                sub = name[: cut + len(delim)]
                if sub not in seen and (not marker or sub > marker):
                    seen.add(sub)
                    out.append({"subdir": sub})
                if len(out) >= limit:
                    break
                continue
        out.append(row)
        if len(out) >= limit:
            break
    if args.get("reverse", "").lower() in ("true", "1", "on", "yes"):
        out.reverse()
    if args.get("format") == "json" or "json" in ctx.request.headers.get("Accept", ""):
        return resp(200, json.dumps(out), head, "application/json; charset=utf-8")
    if not out:
        return resp(204, headers=head)
    text = "".join((r.get("subdir") or r["name"]) + "\n" for r in out)
    return resp(200, text, head, "text/plain; charset=utf-8")


def _container_head(c: dict[str, Any]) -> dict[str, str]:
    head = {
        "X-Container-Object-Count": str(c["count"]),
        "X-Container-Bytes-Used": str(c["bytes"]),
        "X-Timestamp": f"{c['created']:.5f}",
        "X-Storage-Policy": "Policy-0",
        "Last-Modified": http_date(c["modified"]),
        "Accept-Ranges": "bytes",
    }
    head.update({f"X-Container-Meta-{k.title()}": v for k, v in c["meta"].items()})
    for key in ("read", "write"):
        if c.get(key):
            head[f"X-Container-{key.title()}"] = c[key]
    return head


@routes("/v1/<account>/<container>", "PUT", "POST", "GET", "HEAD", "DELETE")
def container(ctx: Ctx, account: str, container: str) -> Any:
    check_account(ctx, account)
    method = ctx.request.method
    if method in ("PUT", "POST"):
        size = len(container.encode("utf-8"))
        if size > MAX_NAME:
            return resp(
                400, f"Container name length of {size} longer than {MAX_NAME}", ctype="text/plain; charset=UTF-8"
            )
        check_meta(ctx.request.headers, "X-Container-Meta-")
        with ctx.store.tx():
            cont = ctx.store.get("container", container)
            if cont is None and method == "POST":
                raise errors.swift(404)
            created = cont is None
            cont = cont or {"name": container, "count": 0, "bytes": 0, "created": now(), "modified": now(), "meta": {}}
            for k, v in request_meta(ctx, "X-Container-Meta-").items():
                cont["meta"][k] = v
                if not v:
                    cont["meta"].pop(k)
            for k in request_meta(ctx, "X-Remove-Container-Meta-"):
                cont["meta"].pop(k, None)
            for key in ("read", "write"):
                if f"X-Container-{key.title()}" in ctx.request.headers:
                    cont[key] = ctx.request.headers[f"X-Container-{key.title()}"]
            ctx.store.put("container", container, cont)
        return resp(201 if created else (202 if method == "PUT" else 204))
    cont = get_container(ctx, container)
    if method == "HEAD":
        return resp(204, headers=_container_head(cont))
    if method == "DELETE":
        with ctx.store.tx():
            cont = get_container(ctx, container)
            if ctx.store.count("object", parent=container):
                raise errors.swift(409)
            ctx.store.delete("container", container)
        return resp(204)
    rows = [
        {
            "name": o["name"],
            "hash": o["etag"],
            "bytes": o["bytes"],
            "content_type": o["content_type"],
            "last_modified": stamp(o["modified"]),
            **({"slo_etag": f'"{o["slo_etag"]}"'} if o.get("slo_etag") else {}),
        }
        for o in ctx.store.list("object", parent=container)
    ]
    return _listing(ctx, rows, _container_head(cont))
