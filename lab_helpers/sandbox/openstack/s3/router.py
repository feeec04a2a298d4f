"""S3 routes by method, by whether the request names a bucket and a key, and by its query's
subresource (``?uploads``, ``?uploadId=``, ``?delete``, ``?location``, ``?list-type=2``), not by
path alone, so the service mounts one catch-all route and this module picks the operation."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, Routes
from . import buckets, multipart, objects
from .common import error, locate

routes = Routes()
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
# Subresources RadosGW has and the sandbox does not (the course uses none of them).
UNSUPPORTED = (
    "acl",
    "policy",
    "versioning",
    "versions",
    "lifecycle",
    "cors",
    "website",
    "tagging",
    "encryption",
    "object-lock",
    "retention",
    "legal-hold",
    "replication",
    "notification",
    "logging",
    "select",
    "restore",
    "torrent",
    "requestPayment",
    "accelerate",
    "analytics",
    "inventory",
    "metrics",
    "ownershipControls",
    "publicAccessBlock",
    "intelligent-tiering",
    "attributes",
)


def _not_implemented(what: str) -> Response:
    raise error(501, "NotImplemented", f"The sandbox's S3 API does not implement {what}.")


def _bucket_op(ctx: Ctx, name: str) -> Response:
    args, method = ctx.request.args, ctx.request.method
    if method == "GET" and "uploads" in args:
        return multipart.list_uploads(ctx, name)
    if method == "GET" and "location" in args:
        return buckets.location(ctx, name)
    if method == "POST" and "delete" in args:
        return buckets.delete_objects(ctx, name)
    table = {
        "GET": buckets.list_objects,
        "HEAD": buckets.head_bucket,
        "PUT": buckets.create_bucket,
        "DELETE": buckets.delete_bucket,
    }
    if method not in table:
        raise error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    return table[method](ctx, name)


def _object_op(ctx: Ctx, name: str, key: str) -> Response:
    args, method = ctx.request.args, ctx.request.method
    if "uploadId" in args:
        table = {
            "PUT": multipart.upload_part,
            "GET": multipart.list_parts,
            "POST": multipart.complete,
            "DELETE": multipart.abort,
        }
        if method not in table:
            raise error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        return table[method](ctx, name, key)
    if method == "POST" and "uploads" in args:
        return multipart.initiate(ctx, name, key)
    ops = {
        "PUT": objects.put_object,
        "GET": objects.get_object_,
        "HEAD": objects.get_object_,
        "DELETE": objects.delete_object_,
    }
    if method not in ops:
        raise error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    return ops[method](ctx, name, key)


@routes("", *METHODS)
@routes("/", *METHODS)
@routes("/<path:rest>", *METHODS)
def s3(ctx: Ctx, rest: str = "") -> Any:
    name, key = locate(ctx)
    for sub in UNSUPPORTED:
        if sub in ctx.request.args:
            return _not_implemented(f"the ?{sub} subresource")
    if not name:
        if ctx.request.method != "GET":
            raise error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        return buckets.list_buckets(ctx)
    if not key:
        return _bucket_op(ctx, name)
    return _object_op(ctx, name, key)
