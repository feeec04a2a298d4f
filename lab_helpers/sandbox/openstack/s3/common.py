"""What S3's handlers share: XML bodies and S3's XML errors, request ids, timestamps, where the
bucket and key of a request are (path-style or virtual-hosted), and reading an object's bytes."""

from __future__ import annotations

import email.utils
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

from werkzeug.wrappers import Response

from ...api import Ctx
from ...errors import ApiError
from ...files import blob_path
from .constants import PREFIX

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
VHOST_SUFFIX = ".localhost"
# What the dispatcher's generic errors are called in S3's words.
CODES = {
    "HTTPNotFound": "NoSuchKey",
    "HTTPMethodNotAllowed": "MethodNotAllowed",
    "RequestEntityTooLarge": "EntityTooLarge",
    "HTTPInternalServerError": "InternalError",
    "BadRequest": "InvalidRequest",
}


def request_id() -> str:
    """A RadosGW-shaped transaction id."""
    return f"tx{secrets.token_hex(10)}-{int(time.time()):x}-default"


def stamp(response: Response) -> None:
    rid = request_id()
    response.headers.setdefault("x-amz-request-id", rid)
    response.headers.setdefault("x-amz-id-2", rid.rsplit("-", 1)[0])


def xml(root: ET.Element, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return Response(body, status=status, headers=headers or {}, content_type="application/xml")


def element(tag: str) -> ET.Element:
    return ET.Element(tag, xmlns=NS)


def sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text).lower() if isinstance(text, bool) else str(text)
    return el


def error(status: int, code: str, message: str = "", **fields: str) -> ApiError:
    """S3's XML error (an empty body for HEAD is werkzeug's doing: it sends no body for HEAD)."""
    root = ET.Element("Error")
    sub(root, "Code", CODES.get(code, code))
    sub(root, "Message", message)
    for k, v in fields.items():
        sub(root, k, v)
    rid = request_id()
    sub(root, "RequestId", rid)
    sub(root, "HostId", rid.rsplit("-", 1)[0])
    return ApiError(xml(root, status, {"x-amz-request-id": rid}))


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d}Z"


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def raw_path(ctx: Ctx) -> str:
    """The path exactly as the client sent it (percent-encoded), which is what it signed."""
    env = ctx.request.environ
    raw = env.get("RAW_URI") or env.get("REQUEST_URI") or ctx.request.full_path
    return str(raw).split("?", 1)[0]


def vhost_bucket(ctx: Ctx) -> str | None:
    host = ctx.request.host.rsplit(":", 1)[0].lower() if ctx.request.host else ""
    if host.endswith(VHOST_SUFFIX) and len(host) > len(VHOST_SUFFIX):
        return host[: -len(VHOST_SUFFIX)]
    return None


def on_own_port(ctx: Ctx) -> bool:
    """Whether the request came to S3's own port (served at its root) rather than to ``/s3`` of the main one.

    The port the request reached tells: a path cannot (a bucket may be called ``s3`` or ``s3-logs``).
    """
    own = urlsplit(ctx.urls.get("s3", "")).port
    return own is not None and str(ctx.request.environ.get("SERVER_PORT", "")) == str(own)


def mount(ctx: Ctx) -> str:
    """The path S3 is mounted under for this request: nothing on its own port, ``/s3`` on the main one."""
    return "" if on_own_port(ctx) else PREFIX


def endpoint(ctx: Ctx) -> str:
    """The S3 endpoint as this request's client reached it (host as it sent it, with the mount)."""
    return f"{ctx.request.scheme}://{ctx.request.host}{mount(ctx)}"


def locate(ctx: Ctx) -> tuple[str, str]:
    """(bucket, key) of the request; either may be empty (the service, a bucket)."""
    path, prefix = raw_path(ctx), mount(ctx)
    rest = path[len(prefix) :] if prefix and (path == prefix or path.startswith(prefix + "/")) else path
    rest = unquote(rest[1:] if rest.startswith("/") else rest)
    bucket = vhost_bucket(ctx)
    if bucket is not None:
        return bucket, rest
    name, _, key = rest.partition("/")
    return name, key


def etag_header(o: dict[str, Any]) -> str:
    return f'"{o.get("slo_etag") or o["etag"]}"'


def read_object(ctx: Ctx, bucket: str, o: dict[str, Any]) -> bytes:
    """An object's bytes, a Swift large object's assembled from its segments."""
    if o.get("slo"):
        from ..swift import slo

        return slo.assemble(ctx, o)
    if o.get("dlo"):
        cont, _, prefix = str(o["dlo"]).partition("/")
        segs = [s for s in ctx.store.list("object", parent=cont) if s["name"].startswith(prefix)]
        return b"".join(blob_path(ctx.state_dir, cont, s["name"]).read_bytes() for s in segs if not s.get("dlo"))
    return blob_path(ctx.state_dir, bucket, o["name"]).read_bytes()


def multipart_etag(md5s: list[bytes]) -> str:
    return hashlib.md5(b"".join(md5s)).hexdigest() + f"-{len(md5s)}"


def parse_xml(data: bytes) -> ET.Element:
    """A request's XML body, or S3's MalformedXML."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise error(400, "MalformedXML", "The XML you provided was not well-formed.") from None
    for el in root.iter():  # drop namespaces: clients send them or not
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root
