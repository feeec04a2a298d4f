"""A request's object bytes, with ``aws-chunked`` framing (``STREAMING-...`` payloads) removed.

Each chunk is ``<hex size>[;chunk-signature=...]\\r\\n<bytes>\\r\\n``, ending with a zero-size chunk
and optional trailers. The sandbox checks the framing and the decoded length, not the per-chunk
signatures (see the package docstring)."""

from __future__ import annotations

from ...api import Ctx
from .common import error


def _bad() -> Exception:
    return error(400, "IncompleteBody", "The request body's aws-chunked encoding is malformed.")


def decode(raw: bytes) -> bytes:
    out: list[bytes] = []
    pos = 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            raise _bad()
        head = raw[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(head, 16)
        except ValueError:
            raise _bad() from None
        if size < 0:
            raise _bad()
        start = end + 2
        if size == 0:
            return b"".join(out)
        if raw[start + size : start + size + 2] != b"\r\n":
            raise _bad()
        out.append(raw[start : start + size])
        pos = start + size + 2


def body(ctx: Ctx) -> bytes:
    data = ctx.request.get_data(cache=True)
    declared = ctx.request.headers.get("X-Amz-Content-SHA256", "")
    encoding = ctx.request.headers.get("Content-Encoding", "")
    if not declared.startswith("STREAMING-") and "aws-chunked" not in encoding:
        return data
    decoded = decode(data)
    length = ctx.request.headers.get("x-amz-decoded-content-length")
    if length is not None and (not length.isdigit() or int(length) != len(decoded)):
        raise _bad()
    return decoded
