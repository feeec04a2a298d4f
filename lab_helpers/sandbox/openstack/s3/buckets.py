"""The service and its buckets: ListBuckets, CreateBucket, HeadBucket, DeleteBucket (S3's
``BucketNotEmpty``), GetBucketLocation, ListObjects (v1 and v2: prefix, delimiter, markers and
continuation tokens, ``encoding-type=url``) and DeleteObjects."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from ...api import Ctx
from ...store import now
from .common import element, error, iso, parse_xml, sub, xml
from .constants import REGION
from .storage import bucket, check_bucket_name, delete_object

MAX_KEYS = 1000


def _owner(ctx: Ctx, parent: Any) -> None:
    owner = sub(parent, "Owner")
    sub(owner, "ID", ctx.project)
    sub(owner, "DisplayName", "sandbox")


def list_buckets(ctx: Ctx) -> Response:
    root = element("ListAllMyBucketsResult")
    _owner(ctx, root)
    buckets = sub(root, "Buckets")
    for c in sorted(ctx.store.list("container"), key=lambda c: c["name"]):
        b = sub(buckets, "Bucket")
        sub(b, "Name", c["name"])
        sub(b, "CreationDate", iso(c["created"]))
    return xml(root)


def create_bucket(ctx: Ctx, name: str) -> Response:
    check_bucket_name(name)
    data = ctx.request.get_data(cache=True)
    if data.strip():
        parse_xml(data)  # a CreateBucketConfiguration; RadosGW takes any LocationConstraint of its zone group
    with ctx.store.tx():
        if ctx.store.get("container", name) is None:
            t = now()
            ctx.store.put(
                "container", name, {"name": name, "count": 0, "bytes": 0, "created": t, "modified": t, "meta": {}}
            )
    return Response(status=200, headers={"Location": f"/{name}"})


def head_bucket(ctx: Ctx, name: str) -> Response:
    bucket(ctx, name)
    return Response(status=200, headers={"x-amz-bucket-region": REGION})


def delete_bucket(ctx: Ctx, name: str) -> Response:
    with ctx.store.tx():
        bucket(ctx, name)
        if ctx.store.count("object", parent=name):
            raise error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", BucketName=name)
        ctx.store.delete("container", name)
    return Response(status=204)


def location(ctx: Ctx, name: str) -> Response:
    bucket(ctx, name)
    root = element("LocationConstraint")
    root.text = REGION
    return xml(root)


def _encode(text: str, url: bool) -> str:
    return quote(text, safe="/") if url else text


def _int(value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range")
    return min(int(value), MAX_KEYS)


def _token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        raise error(400, "InvalidArgument", "The continuation token provided is incorrect") from None


def list_objects(ctx: Ctx, name: str) -> Response:
    args = ctx.request.args
    v2 = args.get("list-type") == "2"
    bucket(ctx, name)
    prefix, delim = args.get("prefix", ""), args.get("delimiter", "")
    url = args.get("encoding-type") == "url"
    if args.get("encoding-type") not in (None, "url"):
        raise error(400, "InvalidArgument", "Invalid Encoding Method specified in Request")
    limit = _int(args.get("max-keys"), MAX_KEYS)
    if v2:
        token = args.get("continuation-token")
        after = _token(token) if token is not None else args.get("start-after", "")
    else:
        after = args.get("marker", "")
    rows = ctx.store.list("object", parent=name)  # in name order
    contents: list[dict[str, Any]] = []
    prefixes: list[str] = []
    truncated, last = False, ""
    for o in rows:
        key = o["name"]
        if not key.startswith(prefix) or key <= after:
            continue
        entry: str | None = None
        if delim:
            cut = key.find(delim, len(prefix))
            if cut >= 0:
                entry = key[: cut + len(delim)]
                if entry <= after or (prefixes and prefixes[-1] == entry):
                    continue
        if len(contents) + len(prefixes) >= limit:
            truncated = True
            break
        if entry is not None:
            prefixes.append(entry)
            last = entry + "\U0010ffff"  # skip the rest of this common prefix on the next page
        else:
            contents.append(o)
            last = key
    root = element("ListBucketResult")
    sub(root, "Name", name)
    sub(root, "Prefix", _encode(prefix, url))
    if v2:
        if "continuation-token" in args:
            sub(root, "ContinuationToken", args["continuation-token"])
        if "start-after" in args:
            sub(root, "StartAfter", _encode(args["start-after"], url))
        sub(root, "KeyCount", len(contents) + len(prefixes))
    else:
        sub(root, "Marker", _encode(after, url))
    sub(root, "MaxKeys", limit)
    if delim:
        sub(root, "Delimiter", _encode(delim, url))
    if url:
        sub(root, "EncodingType", "url")
    sub(root, "IsTruncated", truncated)
    if truncated and v2:
        sub(root, "NextContinuationToken", base64.urlsafe_b64encode(last.encode("utf-8")).decode("ascii"))
    elif truncated and delim:
        sub(root, "NextMarker", _encode(last.rstrip("\U0010ffff"), url))
    for o in contents:
        c = sub(root, "Contents")
        sub(c, "Key", _encode(o["name"], url))
        sub(c, "LastModified", iso(o["modified"]))
        sub(c, "ETag", f'"{o.get("slo_etag") or o["etag"]}"')
        sub(c, "Size", o["bytes"])
        sub(c, "StorageClass", "STANDARD")
        if not v2 or args.get("fetch-owner") == "true":
            _owner(ctx, c)
    for p in prefixes:
        sub(sub(root, "CommonPrefixes"), "Prefix", _encode(p, url))
    return xml(root)


def delete_objects(ctx: Ctx, name: str) -> Response:
    bucket(ctx, name)
    root = parse_xml(ctx.request.get_data(cache=True))
    if root.tag != "Delete":
        raise error(400, "MalformedXML", "The XML you provided was not well-formed.")
    quiet = (root.findtext("Quiet") or "").lower() == "true"
    keys = [el.findtext("Key") or "" for el in root.findall("Object")]
    if len(keys) > MAX_KEYS:
        raise error(400, "MalformedXML", "The request may delete at most 1000 objects.")
    out = element("DeleteResult")
    for key in keys:
        delete_object(ctx, name, key)  # a key that is not there is deleted as far as S3 is concerned
        if not quiet:
            sub(sub(out, "Deleted"), "Key", key)
    return xml(out)
