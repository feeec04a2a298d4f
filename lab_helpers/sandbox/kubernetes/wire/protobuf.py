"""Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``), decoded into the
dict the same request's JSON body would be.

kubectl's ``create namespace|secret|configmap|deployment|job|serviceaccount|service`` and Helm's
release Secrets are sent this way, with no JSON fallback. The body is the 4 bytes ``k8s\\0`` and a
``runtime.Unknown`` message: ``typeMeta`` (apiVersion, kind), ``raw`` (the object's own message),
``contentEncoding``, ``contentType``. A small reader of the protobuf wire format walks the object's
message with the field table of :mod:`.protobuf_fields`; fields it does not know are skipped.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..status import status_error
from . import protobuf_fields_access, protobuf_fields_network, protobuf_fields_storage, protobuf_fields_workloads
from .protobuf_fields import TABLE

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
SCALARS = ("string", "bytes", "int32", "int64", "bool")
MAX_DEPTH = 64


class ProtoError(ValueError):
    """A body that is not well-formed protobuf."""


@dataclass(frozen=True)
class Field:
    json: str
    type: str
    repeated: bool = False
    inline: bool = False
    keep: bool = False


def _tables() -> list[str]:
    """Part 1's table and each area's (``protobuf_fields_<area>.py``)."""
    return [TABLE, protobuf_fields_access.TABLE, protobuf_fields_network.TABLE, protobuf_fields_storage.TABLE,
            protobuf_fields_workloads.TABLE]  # fmt: skip


@functools.cache
def messages() -> dict[str, dict[int, Field]]:
    out: dict[str, dict[int, Field]] = {}
    current: dict[int, Field] = {}
    for line in "\n".join(_tables()).splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("["):
            current = out.setdefault(line.strip("[]"), {})
            continue
        number, name, type_, *flags = line.split()
        current[int(number)] = Field(name, type_, "[]" in flags, "inline" in flags, "keep" in flags)
    return out


# --- the wire format -------------------------------------------------------------------------


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` for each field: an int for varints, bytes otherwise."""
    i, end = 0, len(buf)
    while i < end:
        tag, i = _varint(buf, i)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            if i + length > end:
                raise ProtoError("truncated field")
            value, i = buf[i : i + length], i + length
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ProtoError(f"unsupported wire type {wire}")
        if i > end or number == 0:
            raise ProtoError("malformed field")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtoError("expected a length-delimited field")
    return value


def _scalar(type_: str, wire: int, value: int | bytes) -> Any:
    if type_ == "string":
        return _bytes(value).decode("utf-8", errors="replace")
    if type_ == "bytes":
        return base64.b64encode(_bytes(value)).decode("ascii")
    if isinstance(value, bytes):
        raise ProtoError(f"expected a varint for {type_}")
    if type_ == "bool":
        return value != 0
    return _signed(value)


def _packed(type_: str, value: bytes) -> list[Any]:
    out, i = [], 0
    while i < len(value):
        v, i = _varint(value, i)
        out.append(_scalar(type_, 0, v))
    return out


# --- apimachinery's own types ----------------------------------------------------------------


def _time(buf: bytes, micro: bool) -> str | None:
    seconds = nanos = 0
    for number, _, value in fields(buf):
        if number == 1 and isinstance(value, int):
            seconds = _signed(value)
        elif number == 2 and isinstance(value, int):
            nanos = _signed(value)
    if not seconds and not nanos:
        return None  # Go's zero time: null in JSON
    when = datetime.fromtimestamp(seconds, tz=timezone.utc)
    if micro:
        return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(buf: bytes) -> str:
    nanos = next((_signed(v) for n, _, v in fields(buf) if n == 1 and isinstance(v, int)), 0)
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    seconds = nanos / 1e9
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:g}s"
    if hours or minutes:
        text = f"{int(minutes)}m" + text
    if hours:
        text = f"{int(hours)}h" + text
    return sign + text


def _raw_json(buf: bytes) -> Any:
    raw = next((v for n, _, v in fields(buf) if n == 1 and isinstance(v, bytes)), b"")
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode(raw)
    try:
        return json.loads(raw)
    except ValueError:
        raise ProtoError("embedded raw object is neither JSON nor protobuf") from None


def _int_or_string(buf: bytes) -> int | str:
    kind, number, text = 0, 0, ""
    for n, _, value in fields(buf):
        if n == 1 and isinstance(value, int):
            kind = value
        elif n == 2 and isinstance(value, int):
            number = _signed(value)
        elif n == 3 and isinstance(value, bytes):
            text = value.decode("utf-8", errors="replace")
    return text if kind == 1 else number


def _special(type_: str, buf: bytes, depth: int) -> Any:
    if type_ == "Time":
        return _time(buf, micro=False)
    if type_ == "MicroTime":
        return _time(buf, micro=True)
    if type_ == "Quantity":
        return next((v.decode() for n, _, v in fields(buf) if n == 1 and isinstance(v, bytes)), "0")
    if type_ == "IntOrString":
        return _int_or_string(buf)
    if type_ in ("FieldsV1", "RawExtension"):
        return _raw_json(buf)
    if type_ == "Duration":
        return _duration(buf)
    return message(buf, type_, depth + 1)


SPECIAL = ("Time", "MicroTime", "Quantity", "IntOrString", "FieldsV1", "RawExtension", "Duration")


def _value(type_: str, wire: int, value: int | bytes, depth: int) -> Any:
    if type_ in SCALARS:
        return _scalar(type_, wire, value)
    if type_ in SPECIAL or type_ in messages():
        return _special(type_, _bytes(value), depth)
    return None


def _map_entry(type_: str, buf: bytes, depth: int) -> tuple[str, Any]:
    _, key_type, value_type = type_.split(":")
    key: Any = ""
    value: Any = None
    for number, wire, raw in fields(buf):
        if number == 1:
            key = _value(key_type, wire, raw, depth)
        elif number == 2:
            value = _value(value_type, wire, raw, depth)
    if value is None:
        value = {"string": "", "bytes": "", "Quantity": "0"}.get(value_type, {})
    return str(key), value


def _zero(value: Any) -> bool:
    return value is None or (not isinstance(value, (dict, list)) and not value)


def message(buf: bytes, name: str, depth: int = 0) -> dict[str, Any]:
    """One message of the table as its JSON object."""
    if depth > MAX_DEPTH:
        raise ProtoError("nested too deeply")
    table = messages().get(name, {})
    out: dict[str, Any] = {}
    for number, wire, raw in fields(buf):
        field = table.get(number)
        if field is None:
            continue
        if field.type.startswith("map:"):
            key, value = _map_entry(field.type, _bytes(raw), depth)
            out.setdefault(field.json, {})[key] = value
        elif field.repeated:
            items = out.setdefault(field.json, [])
            if wire == 2 and field.type in ("int32", "int64", "bool"):
                items.extend(_packed(field.type, _bytes(raw)))
            else:
                items.append(_value(field.type, wire, raw, depth))
        elif field.inline:
            inner = _value(field.type, wire, raw, depth)
            if isinstance(inner, dict):
                out.update(inner)
        else:
            out[field.json] = _value(field.type, wire, raw, depth)
    for field in table.values():
        if field.json in out and not field.keep and not field.repeated and not field.type.startswith("map:"):
            value = out[field.json]
            if value is None or (_zero(value) and (field.type in SCALARS or field.type == "IntOrString")):
                del out[field.json]
    return out


def decode(body: bytes) -> dict[str, Any]:
    """A ``k8s\\0`` + ``runtime.Unknown`` body as the JSON object it stands for (apiVersion and kind
    first). Raises a 400 Status for a body that is not one, 415 for a kind this table lacks."""
    if not body.startswith(MAGIC):
        raise status_error(400, "the protobuf body does not start with the Kubernetes magic number", "BadRequest")
    try:
        envelope = {n: v for n, _, v in fields(body[len(MAGIC) :])}
        type_meta = envelope.get(1, b"")
        meta = {n: v for n, _, v in fields(_bytes(type_meta))}
        api_version = _bytes(meta.get(1, b"")).decode()
        kind = _bytes(meta.get(2, b"")).decode()
        raw = _bytes(envelope.get(2, b""))
        encoding = _bytes(envelope.get(3, b"")).decode()
        if not kind:
            raise ProtoError("the envelope names no kind")
        if encoding:
            raise status_error(415, f"protobuf bodies with content encoding {encoding!r} are not supported")
        if kind not in messages():
            raise status_error(
                415,
                f"the sandbox decodes protobuf bodies of these kinds only: {', '.join(sorted(ROOT_KINDS))}; "
                f"send {kind or 'this object'} as JSON",
                "UnsupportedMediaType",
            )
        obj = message(raw, kind)
    except (ProtoError, UnicodeDecodeError) as exc:
        raise status_error(400, f"unable to decode the protobuf body: {exc}", "BadRequest") from None
    return {"apiVersion": api_version, "kind": kind, **obj}


ROOT_KINDS = (
    "ConfigMap", "DeleteOptions", "Deployment", "Endpoints", "Event", "Job", "Namespace", "Node", "Pod",
    "ReplicaSet", "Secret", "Service", "ServiceAccount",
    *protobuf_fields_access.ROOT_KINDS, *protobuf_fields_network.ROOT_KINDS, *protobuf_fields_storage.ROOT_KINDS,
    *protobuf_fields_workloads.ROOT_KINDS,
)  # fmt: skip


# --- encoding, for tests and for answering in kind -------------------------------------------


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _delimited(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _encode_varint(len(payload)) + payload


def encode_message(obj: dict[str, Any], name: str) -> bytes:
    """The inverse of :func:`message` for the table's messages (used to build test bodies)."""
    table = messages().get(name, {})
    out = bytearray()
    for number, field in sorted(table.items()):
        value = obj if field.inline else obj.get(field.json)
        if value is None:
            continue
        if field.type.startswith("map:"):
            _, _, value_type = field.type.split(":")
            for key, item in value.items():
                entry = _delimited(1, key.encode()) + _encode_value(2, value_type, item)
                out += _delimited(number, entry)
        elif field.repeated:
            for item in value:
                out += _encode_value(number, field.type, item)
        elif field.inline:
            inner = encode_message(obj, field.type)
            if inner:
                out += _delimited(number, inner)
        else:
            out += _encode_value(number, field.type, value)
    return bytes(out)


def _encode_value(number: int, type_: str, value: Any) -> bytes:
    if type_ == "string":
        return _delimited(number, str(value).encode())
    if type_ == "bytes":
        return _delimited(number, base64.b64decode(value))
    if type_ in ("int32", "int64", "bool"):
        return _key(number, 0) + _encode_varint(int(value))
    if type_ in ("Time", "MicroTime"):
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        seconds = int(when.timestamp())
        return _delimited(number, _key(1, 0) + _encode_varint(seconds))
    if type_ == "Quantity":
        return _delimited(number, _delimited(1, str(value).encode()))
    if type_ == "IntOrString":
        if isinstance(value, str):
            return _delimited(number, _key(1, 0) + _encode_varint(1) + _delimited(3, value.encode()))
        return _delimited(number, _key(1, 0) + _encode_varint(0) + _key(2, 0) + _encode_varint(int(value)))
    if type_ in ("FieldsV1", "RawExtension"):
        return _delimited(number, _delimited(1, json.dumps(value, separators=(",", ":")).encode()))
    return _delimited(number, encode_message(value, type_))


def encode(obj: dict[str, Any]) -> bytes:
    """An object as a typed client's protobuf body (``k8s\\0`` + ``runtime.Unknown``)."""
    type_meta = _delimited(1, str(obj["apiVersion"]).encode()) + _delimited(2, str(obj["kind"]).encode())
    raw = encode_message(obj, str(obj["kind"]))
    return MAGIC + _delimited(1, type_meta) + _delimited(2, raw) + _delimited(4, MEDIA_TYPE.encode())
