"""Label and field selectors, parsed and matched as the API server does.

Label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x,y)``, ``a``, ``!a``, joined
by commas. Field selectors: ``f=v``, ``f==v``, ``f!=v`` on the fields each kind supports (every kind:
``metadata.name`` and ``metadata.namespace``; pods: ``spec.nodeName``, ``status.phase``, ...; events:
``involvedObject.*``, ``reason``, ``type``, ...); any other field is the API server's 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...errors import ApiError
from .. import status
from ..resources import Resource

Obj = dict[str, Any]
Match = Callable[[Obj], bool]

_COMMON = ("metadata.name", "metadata.namespace")
FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("events.k8s.io", "events"): (
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "regarding.apiVersion",
        "regarding.resourceVersion",
        "regarding.fieldPath",
        "reason",
        "reportingController",
        "type",
    ),
    ("", "secrets"): ("type",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "namespaces"): ("status.phase",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
}
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"^{_NAME}$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _everything(obj: Obj) -> bool:
    return True


def _split_top(text: str) -> list[str]:
    """Split at commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _bad_label(text: str, why: str) -> ApiError:
    return status.bad_request(f'unable to parse requirement: {why}: couldn\'t parse the selector string "{text}"')


def _check_key(key: str, text: str) -> str:
    if not key or len(key) > 317 or not _LABEL_KEY.match(key):
        raise _bad_label(text, f'invalid label key "{key}"')
    return key


def _check_values(values: list[str], text: str) -> list[str]:
    for v in values:
        if len(v) > 63 or not _LABEL_VALUE.match(v):
            raise _bad_label(text, f'invalid label value: "{v}"')
    return values


_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$")
_EQ = re.compile(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$")


def _requirement(piece: str, text: str) -> Match:
    """One requirement of a label selector, as a predicate on an object's labels."""
    m = _SET.match(piece)
    if m:
        key = _check_key(m.group(1), text)
        values = set(_check_values([v.strip() for v in m.group(3).split(",") if v.strip()], text))
        if not values:
            raise _bad_label(text, "for 'in', 'notin' operators, values set can't be empty")
        if m.group(2) == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    m = _EQ.match(piece)
    if m:
        key = _check_key(m.group(1), text)
        value = _check_values([m.group(3)], text)[0]
        if m.group(2) == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    bare = piece.strip()
    if bare.startswith("!"):
        key = _check_key(bare[1:].strip(), text)
        return lambda labels: key not in labels
    if bare and " " not in bare:
        key = _check_key(bare, text)
        return lambda labels: key in labels
    raise _bad_label(text, f"found '{bare}', expected: in, notin, =, ==, !=, gt, lt")


def label_selector(text: str | None) -> Match:
    """A predicate on objects for a label selector (everything for an empty one)."""
    if not text or not text.strip():
        return _everything
    reqs = [_requirement(piece, text) for piece in _split_top(text) if piece.strip()]

    def match(obj: Obj) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(req(labels) for req in reqs)

    return match


def field_value(obj: Obj, field: str) -> str:
    """A field's value as field selectors compare it (booleans as ``true``/``false``, absent as "")."""
    if field == "source":
        return str((obj.get("source") or {}).get("component", ""))
    cur: Any = obj
    for part in field.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def field_selector(res: Resource, text: str | None) -> Match:
    """A predicate on objects for a field selector; a field the kind does not support is a 400."""
    if not text or not text.strip():
        return _everything
    allowed = _COMMON + FIELDS.get((res.group, res.plural), ())
    tests: list[tuple[str, bool, str]] = []
    for piece in _split_top(text):
        if not piece.strip():
            continue
        m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", piece)
        if not m:
            raise status.bad_request(f"invalid selector: '{text}'; can't understand '{piece}'")
        field, op, value = m.groups()
        if field not in allowed:
            raise status.bad_request(f"field label not supported: {field}")
        tests.append((field, op == "!=", value))

    def match(obj: Obj) -> bool:
        return all((field_value(obj, f) != v) if negate else (field_value(obj, f) == v) for f, negate, v in tests)

    return match


def matcher(res: Resource, labels: str | None, fields: str | None) -> Match:
    by_label, by_field = label_selector(labels), field_selector(res, fields)
    if by_field is _everything:
        return by_label
    if by_label is _everything:
        return by_field
    return lambda obj: by_label(obj) and by_field(obj)
