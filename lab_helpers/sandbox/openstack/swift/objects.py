"""Swift objects: PUT (with the ETag check and Swift's name and metadata limits), GET (with
Range as swob reads it), HEAD, POST (metadata), DELETE; Dynamic Large Objects (a prefix named by
``X-Object-Manifest``) here, Static Large Object manifests in ``slo``."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import secrets
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from ... import errors
from ...api import Ctx, Routes
from ...store import now
from . import slo
from .common import blob, check_account, check_meta, get_container, http_date, object_key, plain, request_meta, resp

routes = Routes()
MAX_OBJECT_NAME = 1024
MAX_FILE_SIZE = 5368709122


def _head(o: dict[str, Any]) -> dict[str, str]:
    head = {
        "ETag": o["etag"],
        "Last-Modified": http_date(o["modified"]),
        "X-Timestamp": f"{o['modified']:.5f}",
        "Accept-Ranges": "bytes",
    }
    head.update({f"X-Object-Meta-{k.title()}": v for k, v in o["meta"].items()})
    return head


def _stored_bytes(o: dict[str, Any]) -> int:
    """What an object counts in its container's bytes used (a manifest: its JSON, not the segments)."""
    return o.get("stored_bytes", o["bytes"])


@routes("/v1/<account>/<container>/<path:name>", "PUT", "GET", "HEAD", "DELETE", "POST")
def obj(ctx: Ctx, account: str, container: str, name: str) -> Any:
    check_account(ctx, account)
    method = ctx.request.method
    size = len(name.encode("utf-8"))
    if size > MAX_OBJECT_NAME:
        raise plain(400, f"Object name length of {size} longer than {MAX_OBJECT_NAME}")
    mm = ctx.request.args.get("multipart-manifest")
    if method == "PUT":
        check_meta(ctx.request.headers, "X-Object-Meta-")
        if mm == "put":
            return _put_manifest(ctx, container, name)
        return _put(ctx, container, name)
    o = ctx.store.get("object", object_key(container, name))
    if not o:
        get_container(ctx, container)
        raise errors.swift(404)
    if method == "DELETE":
        return _delete(ctx, container, name, o, with_segments=(mm == "delete" and bool(o.get("slo"))))
    if method == "POST":
        check_meta(ctx.request.headers, "X-Object-Meta-")
        with ctx.store.tx():
            o["meta"] = {k: v for k, v in request_meta(ctx, "X-Object-Meta-").items() if v}
            ctx.store.put("object", object_key(container, name), o, parent=container)
        return resp(202)
    head, ctype = _head(o), o["content_type"]
    if o.get("dlo") and mm != "get":
        data, etag = _dlo(ctx, o["dlo"])
        head.update({"ETag": f'"{etag}"', "X-Object-Manifest": o["dlo"]})
        if method == "HEAD":
            answer = resp(200, headers=head, ctype=ctype)
            answer.headers["Content-Length"] = str(len(data))
            return answer
        return _ranged(data, head, ctype, ctx.request.headers.get("Range"))
    if o.get("slo"):
        head["X-Static-Large-Object"] = "True"
        if mm == "get":
            head["ETag"] = o["etag"]
            ctype = "application/json; charset=utf-8"
        else:
            head["ETag"] = f'"{o["slo_etag"]}"'
    if method == "HEAD":
        length = o["stored_bytes"] if o.get("slo") and mm == "get" else o["bytes"]
        answer = resp(200, headers=head, ctype=ctype)
        answer.headers["Content-Length"] = str(length)  # after the body, or werkzeug counts the empty body
        return answer
    if o.get("slo"):
        if mm == "get":
            raw = ctx.request.args.get("format") == "raw"
            data = (slo.raw_listing(o) if raw else slo.stored_listing(o)).encode()
        else:
            data = slo.assemble(ctx, o)
    else:
        data = blob(ctx, container, name).read_bytes()
    return _ranged(data, head, ctype, ctx.request.headers.get("Range"))


def _ranged(data: bytes, head: dict[str, str], ctype: str, header: str | None) -> Response:
    """200 with the whole body, 206 with one range or multipart/byteranges, or 416, as swob answers."""
    ranges = slo.parse_ranges(header)
    if ranges is None:  # absent, or a header Swift ignores
        return resp(200, data, head, ctype)
    spans = slo.satisfiable(ranges, len(data))
    if not spans:
        return resp(
            416,
            "<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not available.</p></html>",
            {"Content-Range": f"bytes */{len(data)}"},
        )
    if len(spans) == 1:
        lo, hi = spans[0]
        return resp(206, data[lo:hi], {**head, "Content-Range": f"bytes {lo}-{hi - 1}/{len(data)}"}, ctype)
    boundary = secrets.token_hex(16)
    parts = []
    for lo, hi in spans:
        parts.append(
            f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {lo}-{hi - 1}/{len(data)}\r\n\r\n".encode()
            + data[lo:hi]
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--".encode()
    head = {k: v for k, v in head.items() if k != "Content-Length"}
    return resp(206, body, head, f"multipart/byteranges;boundary={boundary}")


def _dlo(ctx: Ctx, manifest: str) -> tuple[bytes, str]:
    """A Dynamic Large Object: every object under the manifest's prefix, in name order, and its ETag."""
    cont, _, prefix = manifest.partition("/")
    parts, etags = [], []
    for seg in ctx.store.list("object", parent=cont):
        if seg["name"].startswith(prefix) and not seg.get("dlo") and not seg.get("slo"):
            parts.append(blob(ctx, cont, seg["name"]).read_bytes())
            etags.append(seg["etag"])
    return b"".join(parts), hashlib.md5("".join(etags).encode()).hexdigest()


def _container_and_name(path: str) -> tuple[str, str]:
    """A segment path ``/container/object`` as its two parts (ValueError when it has no object part)."""
    cont_name, obj_name = path.lstrip("/").split("/", 1)
    return cont_name, obj_name


def _delete(ctx: Ctx, container: str, name: str, o: dict[str, Any], with_segments: bool) -> Any:
    gone, missing = 0, 0
    targets = [(container, name)]
    if with_segments:
        targets = [_container_and_name(p) for p in slo.segment_paths(o)] + targets
    with ctx.store.tx():
        for cont_name, obj_name in targets:
            doc = ctx.store.get("object", object_key(cont_name, obj_name))
            cont = ctx.store.get("container", cont_name)
            if doc is None or cont is None or not ctx.store.delete("object", object_key(cont_name, obj_name)):
                missing += 1
                continue
            gone += 1
            cont["count"] -= 1
            cont["bytes"] -= _stored_bytes(doc)
            cont["modified"] = now()
            ctx.store.put("container", cont_name, cont)
            blob(ctx, cont_name, obj_name).unlink(missing_ok=True)
    if not with_segments:
        return resp(204)
    report = {
        "Number Deleted": gone,
        "Number Not Found": missing,
        "Response Body": "",
        "Response Status": "200 OK",
        "Errors": [],
    }
    if "json" in ctx.request.headers.get("Accept", ""):
        return resp(200, json.dumps(report), ctype="application/json; charset=utf-8")
    text = "".join(f"{k}: {v if k != 'Errors' else ''}\n" for k, v in report.items())
    return resp(200, text, ctype="text/plain; charset=utf-8")


def _content_type(ctx: Ctx, name: str) -> str:
    ctype = ctx.request.headers.get("Content-Type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("application/x-www-form-urlencoded"):
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return ctype


def _store(ctx: Ctx, container: str, name: str, data: bytes, o: dict[str, Any]) -> None:
    """Write the bytes and the document; keep the container's count and bytes used right."""
    with ctx.store.tx():
        cont = get_container(ctx, container)
        path = blob(ctx, container, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        old = ctx.store.get("object", object_key(container, name))
        ctx.store.put("object", object_key(container, name), o, parent=container)
        cont["count"] += 0 if old else 1
        cont["bytes"] += _stored_bytes(o) - (_stored_bytes(old) if old else 0)
        cont["modified"] = o["modified"]
        ctx.store.put("container", container, cont)


def _put(ctx: Ctx, container: str, name: str) -> Any:
    src = ctx.request.headers.get("X-Copy-From")
    if src:
        scont, _, sname = src.lstrip("/").partition("/")
        if not scont or not sname:
            raise plain(412, "X-Copy-From header must be of the form <container name>/<object name>")
        so = ctx.store.get("object", object_key(scont, sname))
        if not so:
            raise errors.swift(404)
        data = slo.assemble(ctx, so) if so.get("slo") else blob(ctx, scont, sname).read_bytes()
    else:
        if (ctx.request.content_length or 0) > MAX_FILE_SIZE:
            raise plain(413, "Your request is too large.")
        data = ctx.request.get_data()
    if "X-Delete-At" in ctx.request.headers and not ctx.request.headers["X-Delete-At"].isdigit():
        raise plain(400, "Non-integer X-Delete-At")
    if "X-Delete-After" in ctx.request.headers and not ctx.request.headers["X-Delete-After"].isdigit():
        raise plain(400, "Non-integer X-Delete-After")
    dlo = ctx.request.headers.get("X-Object-Manifest")
    if dlo is not None:
        dlo = unquote(dlo)
        if "/" not in dlo.lstrip("/") or dlo.startswith("/"):
            raise plain(400, "X-Object-Manifest must be in the format container/prefix")
    etag = hashlib.md5(data).hexdigest()
    sent = ctx.request.headers.get("ETag", "").strip('"')
    if sent and sent.lower() != etag:
        raise errors.swift(422)
    t = now()
    o = {
        "name": name,
        "bytes": len(data),
        "etag": etag,
        "content_type": _content_type(ctx, name),
        "modified": t,
        "meta": {k: v for k, v in request_meta(ctx, "X-Object-Meta-").items() if v},
    }
    if dlo:
        o["dlo"] = dlo
    _store(ctx, container, name, data, o)
    return resp(201, headers={"ETag": etag, "Last-Modified": http_date(t), "Content-Length": "0"})


def _put_manifest(ctx: Ctx, container: str, name: str) -> Any:
    get_container(ctx, container)
    segments, total, slo_etag = slo.build_manifest(ctx, container, name, ctx.request.get_data())
    sent = ctx.request.headers.get("ETag", "").strip('"')
    if sent and sent.lower() != slo_etag:
        raise errors.swift(422)
    listing = json.dumps(segments).encode()
    t = now()
    o = {
        "name": name,
        "bytes": total,
        "etag": hashlib.md5(listing).hexdigest(),
        "slo_etag": slo_etag,
        "slo": segments,
        "stored_bytes": len(listing),
        "content_type": _content_type(ctx, name),
        "modified": t,
        "meta": {k: v for k, v in request_meta(ctx, "X-Object-Meta-").items() if v},
    }
    _store(ctx, container, name, listing, o)
    return resp(201, headers={"ETag": f'"{slo_etag}"', "Last-Modified": http_date(t), "Content-Length": "0"})
