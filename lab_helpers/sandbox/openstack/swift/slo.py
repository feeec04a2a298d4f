"""Swift's Static Large Objects and byte ranges.

A manifest PUT (``?multipart-manifest=put``) names segments already uploaded; each is checked
(exists, size, ETag) as Swift's SLO middleware does, with its error lines. A GET or HEAD of the
manifest serves the concatenation, with the SLO ETag (the MD5 of the segments' ETags, quoted)
and ``X-Static-Large-Object: True``; ``?multipart-manifest=get`` returns the stored manifest and
``DELETE ?multipart-manifest=delete`` removes the segments with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from ...api import Ctx
from ...files import blob_path
from .common import plain, stamp

MAX_MANIFEST_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
MAX_RANGES = 50
INFO = {
    "max_manifest_segments": MAX_MANIFEST_SEGMENTS,
    "max_manifest_size": MAX_MANIFEST_SIZE,
    "min_segment_size": MIN_SEGMENT_SIZE,
    "yield_frequency": 10,
    "allow_async_delete": True,
}


# -- byte ranges (swob's rules) ----------------------------------------------------------------
def parse_ranges(header: str | None) -> list[tuple[int | None, int | None]] | None:
    """The ranges of a ``Range`` header, or None when Swift would ignore the header (bad syntax)."""
    if not header:
        return None
    units, sep, spec = header.partition("=")
    if not sep or units.strip().lower() != "bytes":
        return None
    out: list[tuple[int | None, int | None]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        lo, dash, hi = part.partition("-")
        lo, hi = lo.strip(), hi.strip()
        if not dash or (lo and not lo.isdigit()) or (hi and not hi.isdigit()) or (not lo and not hi):
            return None
        start, end = (int(lo) if lo else None), (int(hi) if hi else None)
        if start is not None and end is not None and end < start:
            return None
        out.append((start, end))
    if not out or len(out) > MAX_RANGES:
        return None
    return out


def satisfiable(ranges: list[tuple[int | None, int | None]], length: int) -> list[tuple[int, int]]:
    """Half-open byte spans of ``ranges`` that fall inside ``length`` bytes (empty: 416)."""
    spans = []
    for start, end in ranges:
        if start is None:
            if end:
                spans.append((max(0, length - end), length))
        elif start < length:
            spans.append((start, length if end is None else min(end + 1, length)))
    return spans


# -- manifests ----------------------------------------------------------------------------------------
def _segment_target(ctx: Ctx, path: str) -> tuple[str, str, dict[str, Any] | None]:
    cont, _, name = path.lstrip("/").partition("/")
    return cont, name, ctx.store.get("object", f"{cont}/{name}")


def _seg_etag(o: dict[str, Any]) -> str:
    return o.get("slo_etag") or o["etag"]


def _check_entry(i: int, seg: Any) -> str | None:
    if not isinstance(seg, dict):
        return f"Index {i}: not a JSON object"
    extra = set(seg) - {"path", "etag", "size_bytes", "range", "data"}
    if extra:
        return f"Index {i}: extraneous keys {', '.join(repr(k) for k in sorted(extra))}"
    if "data" in seg:
        if set(seg) != {"data"}:
            return f"Index {i}: data segments may not have other keys"
        try:
            if not isinstance(seg["data"], str) or not base64.b64decode(seg["data"], validate=True):
                raise ValueError
        except (binascii.Error, ValueError):
            return f"Index {i}: data must be valid non-empty base64"
        return None
    path = seg.get("path")
    if not isinstance(path, str) or "/" not in path.lstrip("/") or not path.startswith("/") or path.endswith("/"):
        return f"Index {i}: path does not refer to an object. Path must be of the form /container/object."
    size = seg.get("size_bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        return f"Index {i}: invalid size_bytes"
    if seg.get("etag") is not None and not isinstance(seg["etag"], str):
        return f"Index {i}: invalid etag"
    if "range" in seg and (
        not isinstance(seg["range"], str)
        or parse_ranges("bytes=" + seg["range"]) is None
        or len(parse_ranges("bytes=" + seg["range"]) or []) != 1
    ):
        return f"Index {i}: invalid range"
    return None


def build_manifest(ctx: Ctx, container: str, name: str, raw: bytes) -> tuple[list[dict[str, Any]], int, str]:
    """Check a manifest as Swift does; returns (stored segments, total size, SLO ETag)."""
    if len(raw) > MAX_MANIFEST_SIZE:
        raise plain(413, f"Manifest File > {MAX_MANIFEST_SIZE} bytes")
    try:
        entries = json.loads(raw)
    except ValueError:
        raise plain(400, "Manifest must be valid JSON.\n") from None
    if not isinstance(entries, list):
        raise plain(400, "Manifest must be a list.\n")
    if len(entries) > MAX_MANIFEST_SEGMENTS:
        raise plain(413, f"Too many segments; a manifest may have at most {MAX_MANIFEST_SEGMENTS}.\n")
    if not entries:
        raise plain(400, "Manifest must have at least one segment.\n")
    shape = [msg for msg in (_check_entry(i, seg) for i, seg in enumerate(entries)) if msg]
    if shape:
        raise plain(400, "\n".join(shape) + "\n")
    problems: list[str] = []
    stored: list[dict[str, Any]] = []
    total, digest = 0, hashlib.md5()
    for i, seg in enumerate(entries):
        if "data" in seg:
            data = base64.b64decode(seg["data"])
            stored.append({"data": seg["data"]})
            total += len(data)
            digest.update(hashlib.md5(data).hexdigest().encode())
            continue
        cont, obj_name, o = _segment_target(ctx, seg["path"])
        if (cont, obj_name) == (container, name):
            problems.append(f"{seg['path']}, Segment cannot be the manifest itself")
            continue
        if o is None:
            problems.append(f"{seg['path']}, 404 Not Found")
            continue
        etag = _seg_etag(o)
        if seg.get("size_bytes") is not None and seg["size_bytes"] != o["bytes"]:
            problems.append(f"{seg['path']}, Size Mismatch")
        if seg.get("etag") is not None and seg["etag"].strip('"').lower() != etag:
            problems.append(f"{seg['path']}, Etag Mismatch")
        length = o["bytes"]
        row = {
            "name": seg["path"],
            "bytes": o["bytes"],
            "hash": etag,
            "content_type": o["content_type"],
            "last_modified": stamp(o["modified"]),
        }
        if o.get("slo"):
            row["sub_slo"] = True
        if "range" in seg:
            spans = satisfiable(parse_ranges("bytes=" + seg["range"]) or [], o["bytes"])
            if not spans:
                problems.append(f"{seg['path']}, Unsatisfiable Range")
                continue
            row["range"] = f"{spans[0][0]}-{spans[0][1] - 1}"
            length = spans[0][1] - spans[0][0]
            digest.update(f"{etag}:{row['range']};".encode())
        else:
            digest.update(etag.encode())
        if length < MIN_SEGMENT_SIZE and i < len(entries) - 1:
            problems.append(f"{seg['path']}, Too small; each segment must be at least {MIN_SEGMENT_SIZE} byte.")
        total += length
        stored.append(row)
    if problems:
        raise plain(400, "Errors:\n" + "\n".join(problems) + "\n")
    return stored, total, digest.hexdigest()


def assemble(ctx: Ctx, manifest: dict[str, Any], depth: int = 0) -> bytes:
    """The bytes of an SLO: its segments read now; a segment gone or changed is Swift's 409."""
    if depth > 10:
        raise plain(409, "Max recursion depth exceeded")
    parts: list[bytes] = []
    for seg in manifest["slo"]:
        if "data" in seg:
            parts.append(base64.b64decode(seg["data"]))
            continue
        cont, name, o = _segment_target(ctx, seg["name"])
        if o is None or _seg_etag(o) != seg["hash"]:
            raise plain(409, f"Object segment no longer valid: {seg['name']} is missing or has changed.\n")
        data = assemble(ctx, o, depth + 1) if o.get("slo") else blob_path(ctx.state_dir, cont, name).read_bytes()
        if "range" in seg:
            lo, _, hi = seg["range"].partition("-")
            data = data[int(lo) : int(hi) + 1]
        parts.append(data)
    return b"".join(parts)


def stored_listing(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest["slo"])


def raw_listing(manifest: dict[str, Any]) -> str:
    """``?multipart-manifest=get&format=raw``: the manifest in the form a PUT takes."""
    rows = []
    for seg in manifest["slo"]:
        if "data" in seg:
            rows.append({"data": seg["data"]})
        else:
            row = {"path": seg["name"], "etag": seg["hash"], "size_bytes": seg["bytes"]}
            if "range" in seg:
                row["range"] = seg["range"]
            rows.append(row)
    return json.dumps(rows)


def segment_paths(manifest: dict[str, Any]) -> list[str]:
    return [seg["name"] for seg in manifest["slo"] if "name" in seg]
