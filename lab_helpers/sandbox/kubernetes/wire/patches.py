"""PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and Kubernetes strategic merge
patch, applied to the live object as the API server applies them. Server-side apply
(``application/apply-patch+yaml``) is :mod:`.apply`."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import jsonpointer

from ..status import status_error
from . import strategic
from .definitions import node_for

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY_YAML = "application/apply-patch+yaml"
PREFIX = "the server rejected our request due to an error in our request"
ACCEPTED = (JSON_PATCH, MERGE_PATCH, APPLY_YAML, "application/apply-patch+cbor", STRATEGIC)


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def unsupported(content_type: str) -> Exception:
    return status_error(
        415,
        "the body of the request was in an unknown format - accepted media types include: " + ", ".join(ACCEPTED),
        "UnsupportedMediaType",
    )


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise status_error(400, f"error decoding patch: {exc}", "BadRequest") from None


def _short(exc: Exception) -> str:
    """The first words of a library's message (some quote the whole document)."""
    text = str(exc).split(" in {", 1)[0]
    return text if len(text) <= 200 else text[:200] + "..."


def _invalid(message: str) -> Exception:
    return status_error(422, message, "Invalid")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def apply_patch(content_type: str, live: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The object ``live`` becomes under a PATCH body of this content type (``live`` is not changed).
    A body that does not parse is 400, one that does not apply 422, an unknown content type 415."""
    kind = media_type(content_type)
    if kind not in (JSON_PATCH, MERGE_PATCH, STRATEGIC):
        raise unsupported(content_type)
    patch = _parse(body)
    base = copy.deepcopy(live)
    if kind == JSON_PATCH:
        if not isinstance(patch, list):
            raise status_error(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch", "BadRequest")
        try:
            out = jsonpatch.JsonPatch(patch).apply(base)
        except jsonpatch.JsonPatchTestFailed:
            failed = next((op.get("path") for op in patch if isinstance(op, dict) and op.get("op") == "test"), "")
            raise _invalid(f"{PREFIX}: testing value {failed} failed: test failed") from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _invalid(f"{PREFIX}: {_short(exc)}") from None
        except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
            raise _invalid(f"{PREFIX}: {_short(exc)}") from None
    elif not isinstance(patch, dict):
        raise status_error(
            400,
            f"json: cannot unmarshal {type(patch).__name__} into Go value of type map[string]interface {{}}",
            "BadRequest",
        )
    elif kind == MERGE_PATCH:
        out = merge_patch(base, patch)
    else:
        node = node_for(str(live.get("apiVersion", "")), str(live.get("kind", "")))
        if node is None:
            raise status_error(415, "strategic merge patch format is not supported", "UnsupportedMediaType")
        try:
            out = strategic.apply(base, patch, node)
        except strategic.PatchError as exc:
            raise _invalid(str(exc)) from None
    if not isinstance(out, dict):
        raise _invalid("the patch does not leave an object")
    return out
