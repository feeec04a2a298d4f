"""What a user may do, asked of the API server itself, answered from the same RBAC policy as every request
(``rbac.policy``); nothing is stored.

- ``kubectl auth can-i`` sends a SelfSubjectAccessReview (``--list``: a SelfSubjectRulesReview), for the
  caller (``--as``: the impersonated user); ``kubectl auth whoami`` a SelfSubjectReview;
- a SubjectAccessReview asks for any user and groups (who may ``create subjectaccessreviews``: the admin),
  a LocalSubjectAccessReview the same within one namespace (a namespace ``admin`` may).

An allowed review's reason names the binding, as RBAC words it (``RBAC: allowed by RoleBinding
"admin/team" of ClusterRole "admin" to User "learner"``); ``system:masters`` is allowed with no reason.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, Routes, reply
from .. import status
from ..objects import objects_for
from . import bodies, rbac
from .auth import request_groups

routes = Routes()
AUTHZ = "/apis/authorization.k8s.io/v1"
AUTHN = "/apis/authentication.k8s.io/v1"

_RESOURCE_ATTRS = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
_PATH_ATTRS = {1: "path", 2: "verb"}


def _proto_fields(buf: Any) -> list[tuple[int, bytes]]:
    from ..wire import protobuf

    if not isinstance(buf, bytes):
        return []
    return [(n, v) for n, _, v in protobuf.fields(buf) if isinstance(v, bytes)]


def _first(buf: bytes, number: int) -> bytes | None:
    return next((v for n, v in _proto_fields(buf) if n == number), None)


def _strings(buf: bytes, names: dict[int, str]) -> dict[str, str]:
    return {names[n]: v.decode() for n, v in _proto_fields(buf) if n in names}


def _proto_spec(raw: bytes, kind: str) -> dict[str, Any]:
    """The spec of a review sent as protobuf (``kubectl auth can-i`` sends it so): the string fields of
    ``k8s.io/api/authorization/v1``'s review messages (a SubjectAccessReview's user and groups too)."""
    from ..wire import protobuf

    if not raw.startswith(protobuf.MAGIC):
        raise status.bad_request("the protobuf body does not start with the Kubernetes magic number")
    try:
        envelope = _first(raw[len(protobuf.MAGIC) :], 2) or b""
        spec = _first(envelope, 2) or b""
        if kind == "SelfSubjectRulesReview":
            ns = _first(spec, 1)
            return {"namespace": ns.decode()} if ns is not None else {}
        out: dict[str, Any] = {}
        for number, value in _proto_fields(spec):
            if number == 1:
                out["resourceAttributes"] = _strings(value, _RESOURCE_ATTRS)
            elif number == 2:
                out["nonResourceAttributes"] = _strings(value, _PATH_ATTRS)
            elif number == 3:
                out["user"] = value.decode()
            elif number == 4:
                out.setdefault("groups", []).append(value.decode())
            elif number == 6:
                out["uid"] = value.decode()
        return out
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
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


def _review(kind: str, group: str, spec: dict[str, Any], status_: dict[str, Any], namespace: str = "") -> Response:
    meta: dict[str, Any] = {"creationTimestamp": None}
    if namespace:
        meta["namespace"] = namespace
    body = {"kind": kind, "apiVersion": f"{group}/v1", "metadata": meta, "spec": spec, "status": status_}
    return reply(body, 201)


def _identity(ctx: Ctx) -> tuple[str, tuple[str, ...]]:
    groups = (ctx.token or {}).get("groups")
    return ctx.user, tuple(groups) if isinstance(groups, list) else request_groups(ctx.user)


def _may_create(ctx: Ctx, group: str, resource: str, namespace: str = "") -> None:
    """The 403 for a caller RBAC does not let create this review (``system:basic-user`` lets everyone ask about
    themselves)."""
    user, groups = _identity(ctx)
    if not rbac.policy(objects_for(ctx.store)).decide(user, groups, rbac.Request("create", group, resource,
                                                                                  namespace=namespace))[0]:  # fmt: skip
        raise status.forbidden(user, "create", f"{resource}.{group}", namespace)


def _decide(ctx: Ctx, kind: str, spec: dict[str, Any], user: str, groups: tuple[str, ...]) -> dict[str, Any]:
    """The review's status: whether ``user`` with ``groups`` may do what ``spec`` asks, and why."""
    policy = rbac.policy(objects_for(ctx.store))
    attrs = spec.get("resourceAttributes")
    path_attrs = spec.get("nonResourceAttributes")
    if isinstance(attrs, dict):
        req = rbac.Request(
            str(attrs.get("verb") or ""), str(attrs.get("group") or ""), str(attrs.get("resource") or ""),
            str(attrs.get("subresource") or ""), str(attrs.get("namespace") or ""), str(attrs.get("name") or ""),
        )  # fmt: skip
        if req.resource == "namespaces" and req.name and not req.subresource:
            req = rbac.Request(req.verb, req.api_group, req.resource, "", req.name, req.name)
    elif isinstance(path_attrs, dict):
        req = rbac.Request(str(path_attrs.get("verb") or ""), path=str(path_attrs.get("path") or "/"))
    else:
        cause = {"reason": "FieldValueRequired", "message": "Required value: exactly one of nonResourceAttributes or "
                 "resourceAttributes must be specified", "field": "spec.resourceAttributes"}  # fmt: skip
        raise status.invalid(kind, "authorization.k8s.io", "", [cause])
    allowed, reason = policy.decide(user, groups, req)
    out: dict[str, Any] = {"allowed": allowed}
    if reason:
        out["reason"] = reason
    return out


@routes(AUTHZ + "/selfsubjectaccessreviews", "POST")
def access_review(ctx: Ctx) -> Response:
    _may_create(ctx, "authorization.k8s.io", "selfsubjectaccessreviews")
    spec = _spec(ctx, "SelfSubjectAccessReview")
    user, groups = _identity(ctx)
    return _review("SelfSubjectAccessReview", "authorization.k8s.io", spec,
                   _decide(ctx, "SelfSubjectAccessReview", spec, user, groups))  # fmt: skip


def _subject(spec: dict[str, Any], kind: str) -> tuple[str, tuple[str, ...]]:
    user = str(spec.get("user") or "")
    groups = tuple(str(g) for g in spec.get("groups") or [] if isinstance(g, str))
    if not user and not groups:
        cause = {"reason": "FieldValueInvalid", "message": 'Invalid value: "": at least one of user or group must be '
                 "specified", "field": "spec.user"}  # fmt: skip
        raise status.invalid(kind, "authorization.k8s.io", "", [cause])
    return user, groups


@routes(AUTHZ + "/subjectaccessreviews", "POST")
def subject_review(ctx: Ctx) -> Response:
    _may_create(ctx, "authorization.k8s.io", "subjectaccessreviews")
    spec = _spec(ctx, "SubjectAccessReview")
    user, groups = _subject(spec, "SubjectAccessReview")
    return _review("SubjectAccessReview", "authorization.k8s.io", spec,
                   _decide(ctx, "SubjectAccessReview", spec, user, groups))  # fmt: skip


@routes(AUTHZ + "/namespaces/<namespace>/localsubjectaccessreviews", "POST")
def local_subject_review(ctx: Ctx, namespace: str) -> Response:
    _may_create(ctx, "authorization.k8s.io", "localsubjectaccessreviews", namespace)
    spec = _spec(ctx, "LocalSubjectAccessReview")
    attrs = spec.get("resourceAttributes")
    if isinstance(attrs, dict):
        if attrs.get("namespace") and attrs["namespace"] != namespace:
            raise status.bad_request(
                f'namespace: Invalid value: "{attrs["namespace"]}": spec.resourceAttributes.namespace must match '
                f"namespace: {namespace}"
            )
        attrs["namespace"] = namespace
    elif spec.get("nonResourceAttributes") is not None:
        raise status.bad_request("disallowed on this kind of request: spec.nonResourceAttributes")
    user, groups = _subject(spec, "LocalSubjectAccessReview")
    return _review("LocalSubjectAccessReview", "authorization.k8s.io", spec,
                   _decide(ctx, "LocalSubjectAccessReview", spec, user, groups), namespace)  # fmt: skip


@routes(AUTHZ + "/selfsubjectrulesreviews", "POST")
def rules_review(ctx: Ctx) -> Response:
    _may_create(ctx, "authorization.k8s.io", "selfsubjectrulesreviews")
    spec = _spec(ctx, "SelfSubjectRulesReview")
    namespace = str(spec.get("namespace") or "")
    user, groups = _identity(ctx)
    resource_rules: list[dict[str, Any]] = []
    path_rules: list[dict[str, Any]] = []
    for grant in rbac.policy(objects_for(ctx.store)).grants(user, groups, namespace):
        rule = grant.rule
        if rule.resources:
            shown: dict[str, Any] = {"verbs": list(rule.verbs), "apiGroups": list(rule.api_groups),
                                     "resources": list(rule.resources)}  # fmt: skip
            if rule.resource_names:
                shown["resourceNames"] = list(rule.resource_names)
            if shown not in resource_rules:
                resource_rules.append(shown)
        if rule.urls:
            paths = {"verbs": list(rule.verbs), "nonResourceURLs": list(rule.urls)}
            if paths not in path_rules:
                path_rules.append(paths)
    status_ = {"resourceRules": resource_rules, "nonResourceRules": path_rules, "incomplete": False}
    return _review("SelfSubjectRulesReview", "authorization.k8s.io", spec, status_)


@routes(AUTHN + "/selfsubjectreviews", "POST")
def whoami(ctx: Ctx) -> Response:
    _may_create(ctx, "authentication.k8s.io", "selfsubjectreviews")
    user, groups = _identity(ctx)
    body = {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": {"username": user, "groups": list(groups)}}}  # fmt: skip
    return reply(body, 201)
