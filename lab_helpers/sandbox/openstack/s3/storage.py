"""Objects and buckets in the documents Swift's handlers write (``container`` and ``object`` kinds,
bytes in ``files.blob_path``), so the two APIs see one store."""

from __future__ import annotations

import os
import re
from typing import Any

from ...api import Ctx
from ...files import blob_path
from ...store import now
from .common import error

MAX_KEY = 1024
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def bucket(ctx: Ctx, name: str) -> dict[str, Any]:
    cont = ctx.store.get("container", name) if name else None
    if not cont:
        raise error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=name[:255])
    return cont


def check_bucket_name(name: str) -> None:
    if not BUCKET_NAME.fullmatch(name) or ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        raise error(400, "InvalidBucketName", "The specified bucket is not valid.", BucketName=name[:255])


def check_key(key: str) -> None:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY:
        raise error(400, "KeyTooLongError", "Your key is too long")


def get_object(ctx: Ctx, bucket_name: str, key: str) -> dict[str, Any]:
    bucket(ctx, bucket_name)
    o = ctx.store.get("object", f"{bucket_name}/{key}") if key else None
    if not o:
        raise error(404, "NoSuchKey", "The specified key does not exist.", Key=key[:1024], BucketName=bucket_name)
    return o


def stored_bytes(o: dict[str, Any]) -> int:
    return int(o.get("stored_bytes", o["bytes"]))


def write_object(ctx: Ctx, bucket_name: str, key: str, data: bytes, o: dict[str, Any]) -> None:
    """Write the bytes and the document; keep the container's object count and bytes used right."""
    with ctx.store.tx():
        cont = bucket(ctx, bucket_name)
        path = blob_path(ctx.state_dir, bucket_name, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        old = ctx.store.get("object", f"{bucket_name}/{key}")
        ctx.store.put("object", f"{bucket_name}/{key}", o, parent=bucket_name)
        cont["count"] += 0 if old else 1
        cont["bytes"] += stored_bytes(o) - (stored_bytes(old) if old else 0)
        cont["modified"] = o["modified"]
        ctx.store.put("container", bucket_name, cont)


def delete_object(ctx: Ctx, bucket_name: str, key: str) -> bool:
    with ctx.store.tx():
        cont = bucket(ctx, bucket_name)
        old = ctx.store.get("object", f"{bucket_name}/{key}")
        if old is None:
            return False
        ctx.store.delete("object", f"{bucket_name}/{key}")
        cont["count"] -= 1
        cont["bytes"] -= stored_bytes(old)
        cont["modified"] = now()
        ctx.store.put("container", bucket_name, cont)
        blob_path(ctx.state_dir, bucket_name, key).unlink(missing_ok=True)
        return True
