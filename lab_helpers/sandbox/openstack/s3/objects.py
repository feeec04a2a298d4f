"""Objects: PutObject (and CopyObject through ``x-amz-copy-source``), GetObject with one byte range
and the conditional headers s3transfer sends, HeadObject, DeleteObject. Metadata is Swift's
(``x-amz-meta-name`` is ``X-Object-Meta-Name``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from ...api import Ctx
from ...store import now
from ..swift.common import MAX_META_OVERALL
from .chunked import body
from .common import element, error, etag_header, http_date, iso, read_object, sub, xml
from .storage import check_key, delete_object, get_object, write_object

MAX_PUT = 5 * 1024**3  # S3's largest single PUT
DEFAULT_TYPE = "binary/octet-stream"


def request_meta(ctx: Ctx) -> dict[str, str]:
    meta = {
        k[len("x-amz-meta-") :].lower(): v
        for k, v in ctx.request.headers.items()
        if k.lower().startswith("x-amz-meta-") and len(k) > len("x-amz-meta-")
    }
    if sum(len(k) + len(v) for k, v in meta.items()) > MAX_META_OVERALL:
        raise error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
    return meta


def _check_md5(ctx: Ctx, data: bytes) -> None:
    given = ctx.request.headers.get("Content-MD5")
    if given is None:
        return
    try:
        digest = base64.b64decode(given, validate=True)
    except (ValueError, binascii.Error):
        raise error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.") from None
    if digest != hashlib.md5(data).digest():
        raise error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")


def new_doc(ctx: Ctx, key: str, data: bytes, etag: str, meta: dict[str, str], ctype: str) -> dict[str, Any]:
    return {"name": key, "bytes": len(data), "etag": etag, "content_type": ctype, "modified": now(), "meta": meta}


def put_object(ctx: Ctx, bucket: str, key: str) -> Response:
    check_key(key)
    if "x-amz-copy-source" in ctx.request.headers:
        return copy_object(ctx, bucket, key)
    if (ctx.request.content_length or 0) > MAX_PUT:
        raise error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
    data = body(ctx)
    _check_md5(ctx, data)
    meta = request_meta(ctx)
    etag = hashlib.md5(data).hexdigest()
    o = new_doc(ctx, key, data, etag, meta, ctx.request.headers.get("Content-Type") or DEFAULT_TYPE)
    write_object(ctx, bucket, key, data, o)
    return Response(status=200, headers={"ETag": f'"{etag}"'})


def copy_source(ctx: Ctx) -> tuple[str, str, dict[str, Any]]:
    """The (bucket, key, document) ``x-amz-copy-source`` names: ``[/]bucket/key[?versionId=...]``."""
    raw = unquote(ctx.request.headers.get("x-amz-copy-source", "").split("?", 1)[0]).lstrip("/")
    src_bucket, _, src_key = raw.partition("/")
    if not src_bucket or not src_key:
        raise error(
            400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
        )
    return src_bucket, src_key, get_object(ctx, src_bucket, src_key)


def copy_object(ctx: Ctx, bucket: str, key: str) -> Response:
    src_bucket, src_key, so = copy_source(ctx)
    replace = ctx.request.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
    if (src_bucket, src_key) == (bucket, key) and not replace:
        raise error(
            400,
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself without changing the "
            "object's metadata, storage class, website redirect location or encryption attributes.",
        )
    data = read_object(ctx, src_bucket, so)
    meta = request_meta(ctx) if replace else dict(so["meta"])
    ctype = (ctx.request.headers.get("Content-Type") or so["content_type"]) if replace else so["content_type"]
    etag = hashlib.md5(data).hexdigest()
    o = new_doc(ctx, key, data, etag, meta, ctype)
    write_object(ctx, bucket, key, data, o)
    root = element("CopyObjectResult")
    sub(root, "LastModified", iso(o["modified"]))
    sub(root, "ETag", f'"{etag}"')
    return xml(root)


def _headers(o: dict[str, Any]) -> dict[str, str]:
    head = {
        "ETag": etag_header(o),
        "Last-Modified": http_date(o["modified"]),
        "Accept-Ranges": "bytes",
        "x-amz-storage-class": "STANDARD",
    }
    head.update({f"x-amz-meta-{k}": v for k, v in o["meta"].items()})
    return head


def _range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` range as [lo, hi); None when the header is not one S3 honours (whole object)."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not m or (not m[1] and not m[2]):
        return None
    if not m[1]:
        n = int(m[2])
        if n == 0:
            raise error(416, "InvalidRange", "The requested range is not satisfiable", RangeRequested=header)
        return max(0, size - n), size
    lo = int(m[1])
    hi = min(int(m[2]) + 1, size) if m[2] else size
    if m[2] and int(m[2]) < lo:
        return None
    if lo >= size:
        raise error(416, "InvalidRange", "The requested range is not satisfiable", RangeRequested=header)
    return lo, hi


def _conditions(ctx: Ctx, o: dict[str, Any]) -> Response | None:
    h = ctx.request.headers
    etag = etag_header(o)
    if (
        "If-Match" in h
        and etag.strip('"') not in [t.strip().strip('"') for t in h["If-Match"].split(",")]
        and h["If-Match"].strip() != "*"
    ):
        raise error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            Condition="If-Match",
        )
    if "If-None-Match" in h and (
        h["If-None-Match"].strip() == "*"
        or etag.strip('"') in [t.strip().strip('"') for t in h["If-None-Match"].split(",")]
    ):
        return Response(status=304, headers={"ETag": etag})
    return None


def get_object_(ctx: Ctx, bucket: str, key: str) -> Response:
    o = get_object(ctx, bucket, key)
    not_modified = _conditions(ctx, o)
    if not_modified is not None:
        return not_modified
    head = _headers(o)
    ctype = o["content_type"]
    if ctx.request.method == "HEAD":
        answer = Response(status=200, headers=head, content_type=ctype)
        answer.headers["Content-Length"] = str(o["bytes"])
        return answer
    data = read_object(ctx, bucket, o)
    span = _range(ctx.request.headers["Range"], len(data)) if "Range" in ctx.request.headers else None
    if span is None:
        return Response(data, status=200, headers=head, content_type=ctype)
    lo, hi = span
    head["Content-Range"] = f"bytes {lo}-{hi - 1}/{len(data)}"
    return Response(data[lo:hi], status=206, headers=head, content_type=ctype)


def delete_object_(ctx: Ctx, bucket: str, key: str) -> Response:
    delete_object(ctx, bucket, key)  # S3 answers 204 whether or not the key was there
    return Response(status=204)
