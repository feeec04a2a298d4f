"""Multipart uploads: initiate, upload a part (or copy one from an object), list parts, complete
(the parts in order, each but the last at least 5 MiB, S3's ``-N`` ETag) and abort. Parts wait in
the sandbox's state directory until the upload completes."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from ...api import Ctx
from ...store import now
from .chunked import body
from .common import element, endpoint, error, iso, multipart_etag, parse_xml, read_object, sub, vhost_bucket, xml
from .objects import DEFAULT_TYPE, copy_source, request_meta
from .storage import bucket, check_key, write_object

MIN_PART = 5 * 1024 * 1024
MAX_PARTS = 10000


def _dir(ctx: Ctx, upload_id: str) -> Path:
    return Path(ctx.state_dir) / "s3-multipart" / upload_id


def _upload(ctx: Ctx, name: str, key: str, upload_id: str) -> dict[str, Any]:
    up = ctx.store.get("s3upload", upload_id[:64]) if re.fullmatch(r"[0-9a-f]{1,64}", upload_id) else None
    if not up or up["bucket"] != name or up["key"] != key:
        raise error(
            404,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the "
            "upload may have been aborted or completed.",
            UploadId=upload_id[:64],
        )
    return up


def initiate(ctx: Ctx, name: str, key: str) -> Response:
    check_key(key)
    bucket(ctx, name)
    upload_id = secrets.token_hex(16)
    doc = {
        "id": upload_id,
        "bucket": name,
        "key": key,
        "initiated": now(),
        "meta": request_meta(ctx),
        "parts": {},
        "content_type": ctx.request.headers.get("Content-Type") or DEFAULT_TYPE,
    }
    with ctx.store.tx():
        ctx.store.put("s3upload", upload_id, doc, parent=name)
    root = element("InitiateMultipartUploadResult")
    sub(root, "Bucket", name)
    sub(root, "Key", key)
    sub(root, "UploadId", upload_id)
    return xml(root)


def _part_number(ctx: Ctx) -> int:
    given = ctx.request.args.get("partNumber", "")
    if not given.isdigit() or not 1 <= int(given) <= MAX_PARTS:
        raise error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
    return int(given)


def upload_part(ctx: Ctx, name: str, key: str) -> Response:
    up = _upload(ctx, name, key, ctx.request.args.get("uploadId", ""))
    number = _part_number(ctx)
    copying = "x-amz-copy-source" in ctx.request.headers
    if copying:
        src_bucket, _, so = copy_source(ctx)
        data = read_object(ctx, src_bucket, so)
        rng = ctx.request.headers.get("x-amz-copy-source-range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d+)", rng.strip())
            if not m or int(m[1]) > int(m[2]) or int(m[2]) >= len(data):
                raise error(
                    400,
                    "InvalidArgument",
                    "The x-amz-copy-source-range value must be of the form "
                    "bytes=first-last where first and last are the zero-based offsets of the first and last "
                    "bytes to copy",
                )
            data = data[int(m[1]) : int(m[2]) + 1]
    else:
        data = body(ctx)
    etag = hashlib.md5(data).hexdigest()
    upload_id = ctx.request.args["uploadId"]
    path = _dir(ctx, upload_id) / str(number)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    with ctx.store.tx():
        up = _upload(ctx, name, key, upload_id)
        os.replace(tmp, path)
        up["parts"][str(number)] = {"etag": etag, "size": len(data), "modified": now()}
        ctx.store.put("s3upload", upload_id, up, parent=name)
    if copying:
        root = element("CopyPartResult")
        sub(root, "LastModified", iso(now()))
        sub(root, "ETag", f'"{etag}"')
        return xml(root)
    return Response(status=200, headers={"ETag": f'"{etag}"'})


def list_parts(ctx: Ctx, name: str, key: str) -> Response:
    upload_id = ctx.request.args.get("uploadId", "")
    up = _upload(ctx, name, key, upload_id)
    root = element("ListPartsResult")
    for tag, text in (("Bucket", name), ("Key", key), ("UploadId", upload_id)):
        sub(root, tag, text)
    marker = ctx.request.args.get("part-number-marker", "0")
    after = int(marker) if marker.isdigit() else 0
    given = ctx.request.args.get("max-parts", "1000")
    limit = min(int(given), 1000) if given.isdigit() else 1000
    numbers = sorted(int(n) for n in up["parts"] if int(n) > after)
    shown = numbers[:limit]
    sub(root, "PartNumberMarker", after)
    sub(root, "NextPartNumberMarker", shown[-1] if shown else after)
    sub(root, "MaxParts", limit)
    sub(root, "IsTruncated", len(numbers) > limit)
    sub(root, "StorageClass", "STANDARD")
    for n in shown:
        p = up["parts"][str(n)]
        el = sub(root, "Part")
        sub(el, "PartNumber", n)
        sub(el, "LastModified", iso(p["modified"]))
        sub(el, "ETag", f'"{p["etag"]}"')
        sub(el, "Size", p["size"])
    return xml(root)


def list_uploads(ctx: Ctx, name: str) -> Response:
    bucket(ctx, name)
    root = element("ListMultipartUploadsResult")
    sub(root, "Bucket", name)
    sub(root, "IsTruncated", False)
    for up in sorted(ctx.store.list("s3upload", parent=name), key=lambda u: (u["key"], u["initiated"])):
        el = sub(root, "Upload")
        sub(el, "Key", up["key"])
        sub(el, "UploadId", up["id"])
        sub(el, "Initiated", iso(up["initiated"]))
    return xml(root)


def complete(ctx: Ctx, name: str, key: str) -> Response:
    upload_id = ctx.request.args.get("uploadId", "")
    up = _upload(ctx, name, key, upload_id)
    root = parse_xml(ctx.request.get_data(cache=True))
    if root.tag != "CompleteMultipartUpload":
        raise error(400, "MalformedXML", "The XML you provided was not well-formed.")
    listed: list[tuple[int, str]] = []
    for el in root.findall("Part"):
        given = el.findtext("PartNumber") or ""
        if not given.isdigit():
            raise error(400, "MalformedXML", "The XML you provided was not well-formed.")
        listed.append((int(given), (el.findtext("ETag") or "").strip().strip('"')))
    if not listed:
        raise error(400, "MalformedXML", "You must specify at least one part")
    if [n for n, _ in listed] != sorted({n for n, _ in listed}):
        raise error(
            400,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        )
    chunks: list[bytes] = []
    md5s: list[bytes] = []
    for i, (number, etag) in enumerate(listed):
        part = up["parts"].get(str(number))
        if part is None or part["etag"] != etag:
            raise error(
                400,
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may "
                "not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                PartNumber=str(number),
            )
        if i < len(listed) - 1 and part["size"] < MIN_PART:
            raise error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
        chunks.append((_dir(ctx, upload_id) / str(number)).read_bytes())
        md5s.append(bytes.fromhex(part["etag"]))
    data = b"".join(chunks)
    etag = multipart_etag(md5s)
    o = {
        "name": key,
        "bytes": len(data),
        "etag": etag,
        "content_type": up["content_type"],
        "modified": now(),
        "meta": up["meta"],
    }
    write_object(ctx, name, key, data, o)
    _forget(ctx, upload_id)
    out = element("CompleteMultipartUploadResult")
    where = quote(key) if vhost_bucket(ctx) is not None else f"{quote(name)}/{quote(key)}"
    sub(out, "Location", f"{endpoint(ctx)}/{where}")
    for tag, text in (("Bucket", name), ("Key", key), ("ETag", f'"{etag}"')):
        sub(out, tag, text)
    return xml(out)


def _forget(ctx: Ctx, upload_id: str) -> None:
    with ctx.store.tx():
        ctx.store.delete("s3upload", upload_id)
    shutil.rmtree(_dir(ctx, upload_id), ignore_errors=True)


def abort(ctx: Ctx, name: str, key: str) -> Response:
    upload_id = ctx.request.args.get("uploadId", "")
    _upload(ctx, name, key, upload_id)
    _forget(ctx, upload_id)
    return Response(status=204)
