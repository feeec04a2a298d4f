"""What a user may do, asked of the API server itself: ``kubectl auth can-i`` (a SelfSubjectAccessReview,
``--list`` a SelfSubjectRulesReview) and ``kubectl auth whoami`` (a SelfSubjectReview). Answered from
the same policy as every request (``auth.authorize``); nothing is stored."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, Routes, reply
from ...errors import ApiError
from .. import status
from ..objects import objects_for
from ..resources import RESOURCES, Resource
from . import bodies
from .auth import ADMIN, READ_VERBS, authorize, owns_namespace

routes = Routes()
AUTHZ = "/apis/authorization.k8s.io/v1"
AUTHN = "/apis/authentication.k8s.io/v1"
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
DISCOVERY_PATHS = ("/api", "/apis", "/openapi")


def _resource(group: str, plural: str) -> Resource | None:
    return next((r for r in RESOURCES if r.group == group and r.plural == plural), None)


def _review(kind: str, group: str, spec: dict[str, Any], status_: dict[str, Any]) -> Response:
    body = {"kind": kind, "apiVersion": f"{group}/v1", "metadata": {"creationTimestamp": None}, "spec": spec,
            "status": status_}  # fmt: skip
    return reply(body, 201)


_RESOURCE_ATTRS = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
_PATH_ATTRS = {1: "path", 2: "verb"}


def _proto_fields(buf: Any) -> dict[int, bytes]:
    from ..wire import protobuf

    if not isinstance(buf, bytes):
        return {}
    return {n: v for n, _, v in protobuf.fields(buf) if isinstance(v, bytes)}


def _strings(buf: bytes, names: dict[int, str]) -> dict[str, str]:
    return {names[n]: v.decode() for n, v in _proto_fields(buf).items() if n in names}


def _proto_spec(raw: bytes, kind: str) -> dict[str, Any]:
    """The spec of a review sent as protobuf (``kubectl auth can-i`` sends it so): the few string fields of
    ``k8s.io/api/authorization/v1``'s review messages."""
    from ..wire import protobuf

    if not raw.startswith(protobuf.MAGIC):
        raise status.bad_request("the protobuf body does not start with the Kubernetes magic number")
    try:
        envelope = _proto_fields(raw[len(protobuf.MAGIC) :])
        spec = _proto_fields(_proto_fields(envelope.get(2, b"")).get(2, b""))
        if kind == "SelfSubjectRulesReview":
            return {"namespace": spec[1].decode()} if 1 in spec else {}
        out: dict[str, Any] = {}
        if 1 in spec:
            out["resourceAttributes"] = _strings(spec[1], _RESOURCE_ATTRS)
        if 2 in spec:
            out["nonResourceAttributes"] = _strings(spec[2], _PATH_ATTRS)
        return out
    except (ValueError, IndexError) as exc:
        raise status.bad_request(f"unable to decode the protobuf body: {exc}") from None


def _spec(ctx: Ctx, kind: str) -> dict[str, Any]:
    if ctx.request.mimetype == bodies.PROTOBUF:
        return _proto_spec(ctx.request.get_data(cache=True), kind)
    body = bodies.decode(ctx.request)
    if body.get("kind") not in (None, kind):
        raise status.bad_request(f"the kind in the data ({body.get('kind')}) does not match the expected kind ({kind})")
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise status.bad_request(f"{kind}.spec must be an object")
    return spec


@routes(AUTHZ + "/selfsubjectaccessreviews", "POST")
def access_review(ctx: Ctx) -> Response:
    spec = _spec(ctx, "SelfSubjectAccessReview")
    attrs = spec.get("resourceAttributes")
    if isinstance(attrs, dict):
        res = _resource(str(attrs.get("group") or ""), str(attrs.get("resource") or ""))
        verb = str(attrs.get("verb") or "")
        if res is None:
            allowed, reason = ctx.user == ADMIN, "" if ctx.user == ADMIN else "no such resource in the sandbox"
        else:
            try:
                authorize(
                    objects_for(ctx.store), ctx.user, verb, res, str(attrs.get("namespace") or ""),
                    str(attrs.get("name") or ""), str(attrs.get("subresource") or ""),
                )  # fmt: skip
                allowed, reason = True, "the sandbox's policy allows it"
            except ApiError:
                allowed, reason = False, ""
        return _review("SelfSubjectAccessReview", "authorization.k8s.io", spec, {"allowed": allowed, "reason": reason})
    path_attrs = spec.get("nonResourceAttributes")
    if isinstance(path_attrs, dict):
        path = str(path_attrs.get("path") or "")
        public = path in PUBLIC_PATHS or path.startswith(DISCOVERY_PATHS)
        allowed = ctx.user == ADMIN or (public and path_attrs.get("verb") == "get")
        return _review("SelfSubjectAccessReview", "authorization.k8s.io", spec, {"allowed": allowed})
    cause = {"reason": "FieldValueRequired", "message": "Required value: exactly one of nonResourceAttributes or "
             "resourceAttributes must be specified", "field": "spec.resourceAttributes"}  # fmt: skip
    raise status.invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", [cause])


@routes(AUTHZ + "/selfsubjectrulesreviews", "POST")
def rules_review(ctx: Ctx) -> Response:
    spec = _spec(ctx, "SelfSubjectRulesReview")
    namespace = str(spec.get("namespace") or "")
    objects = objects_for(ctx.store)
    writes = ctx.user == ADMIN or (namespace and owns_namespace(objects, ctx.user, namespace))
    rules: list[dict[str, Any]] = []
    if writes:
        rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
    else:
        groups = sorted({r.group for r in RESOURCES})
        readable = sorted({r.plural for r in RESOURCES if r.kind != "Secret"})
        rules.append({"verbs": list(READ_VERBS), "apiGroups": groups, "resources": readable})
        rules.append({"verbs": ["create"], "apiGroups": [""], "resources": ["namespaces"]})
    non_resource = [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/openapi",
                                                          "/openapi/*", *PUBLIC_PATHS]}]  # fmt: skip
    status_ = {"resourceRules": rules, "nonResourceRules": non_resource, "incomplete": False}
    return _review("SelfSubjectRulesReview", "authorization.k8s.io", spec, status_)


@routes(AUTHN + "/selfsubjectreviews", "POST")
def whoami(ctx: Ctx) -> Response:
    groups = ["system:masters", "system:authenticated"] if ctx.user == ADMIN else ["system:authenticated"]
    body = {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": {"username": ctx.user, "groups": groups}}}  # fmt: skip
    return reply(body, 201)
