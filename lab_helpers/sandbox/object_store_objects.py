"""Swift objects: PUT (with the ETag check), GET (with Range), HEAD, POST (metadata), DELETE."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from typing import Any

from . import errors
from .api import Ctx
from .object_store import _blob, _check_account, _get_container, _http_date, _meta, _resp, routes
from .store import now


def _key(container: str, name: str) -> str:
    return f"{container}/{name}"


def _head(o: dict[str, Any]) -> dict[str, str]:
    head = {"ETag": o["etag"], "Last-Modified": _http_date(o["modified"]), "X-Timestamp": "%.5f" % o["modified"], "Accept-Ranges": "bytes"}
    head.update({f"X-Object-Meta-{k.title()}": v for k, v in o["meta"].items()})
    return head


def _range(spec: str, size: int) -> tuple[int, int] | None:
    """The first byte range of a ``Range: bytes=a-b`` header (inclusive end), or None when unsatisfiable."""
    first = spec.split("=", 1)[-1].split(",")[0].strip()
    lo, _, hi = first.partition("-")
    if lo == "":
        n = int(hi)
        return (max(0, size - n), size - 1) if n > 0 and size else None
    start = int(lo)
    end = min(int(hi), size - 1) if hi else size - 1
    return (start, end) if start < size and start <= end else None


@routes("/v1/<account>/<container>/<path:name>", "PUT", "GET", "HEAD", "DELETE", "POST")
def obj(ctx: Ctx, account: str, container: str, name: str) -> Any:
    _check_account(ctx, account)
    method = ctx.request.method
    if len(name) > 1024:
        return _resp(400, f"Object name length of {len(name)} longer than 1024")
    if method == "PUT":
        return _put(ctx, container, name)
    o = ctx.store.get("object", _key(container, name))
    if not o:
        _get_container(ctx, container)
        raise errors.swift(404)
    if method == "DELETE":
        with ctx.store.tx():
            cont = _get_container(ctx, container)
            if ctx.store.delete("object", _key(container, name)):
                cont["count"] -= 1
                cont["bytes"] -= o["bytes"]
                cont["modified"] = now()
                ctx.store.put("container", container, cont)
        _blob(ctx, container, name).unlink(missing_ok=True)
        return _resp(204)
    if method == "POST":
        with ctx.store.tx():
            o["meta"] = {k: v for k, v in _meta(ctx, "X-Object-Meta-").items() if v}
            ctx.store.put("object", _key(container, name), o, parent=container)
        return _resp(202)
    head = _head(o)
    if method == "HEAD":
        resp = _resp(200, headers=head, ctype=o["content_type"])
        resp.headers["Content-Length"] = str(o["bytes"])  # after the body, or werkzeug counts the empty body
        return resp
    data = _blob(ctx, container, name).read_bytes()
    spec = ctx.request.headers.get("Range")
    if spec:
        try:
            rng = _range(spec, len(data))
        except ValueError:
            rng = (0, len(data) - 1) if data else None
        if rng is None:
            return _resp(416, "<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not available.</p></html>",
                         {"Content-Range": f"bytes */{len(data)}"})
        lo, hi = rng
        return _resp(206, data[lo : hi + 1], {**head, "Content-Range": f"bytes {lo}-{hi}/{len(data)}"}, o["content_type"])
    return _resp(200, data, head, o["content_type"])


def _put(ctx: Ctx, container: str, name: str) -> Any:
    src = ctx.request.headers.get("X-Copy-From")
    if src:
        scont, _, sname = src.lstrip("/").partition("/")
        so = ctx.store.get("object", _key(scont, sname))
        if not so:
            raise errors.swift(404)
        data = _blob(ctx, scont, sname).read_bytes()
    else:
        data = ctx.request.get_data()
    etag = hashlib.md5(data).hexdigest()
    sent = ctx.request.headers.get("ETag", "").strip('"')
    if sent and sent.lower() != etag:
        raise errors.swift(422)
    ctype = ctx.request.headers.get("Content-Type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("application/x-www-form-urlencoded"):
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    with ctx.store.tx():
        cont = _get_container(ctx, container)
        path = _blob(ctx, container, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        old = ctx.store.get("object", _key(container, name))
        t = now()
        o = {"name": name, "bytes": len(data), "etag": etag, "content_type": ctype, "modified": t,
             "meta": {k: v for k, v in _meta(ctx, "X-Object-Meta-").items() if v}}
        ctx.store.put("object", _key(container, name), o, parent=container)
        cont["count"] += 0 if old else 1
        cont["bytes"] += len(data) - (old["bytes"] if old else 0)
        cont["modified"] = t
        ctx.store.put("container", container, cont)
    return _resp(201, headers={"ETag": etag, "Last-Modified": _http_date(t), "Content-Length": "0"})
