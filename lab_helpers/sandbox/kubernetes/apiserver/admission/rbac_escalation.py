"""RBAC's escalation prevention, as the API server's storage of the RBAC kinds applies it: a user may write
only a Role or ClusterRole whose rules it holds itself (where the role applies), and bind only a role whose
rules it holds, unless RBAC grants it ``escalate`` on the role (for roles) or ``bind`` on the role a
binding names. ``system:masters`` may do anything; only it (or a user with ``escalate``) may give a
ClusterRole an ``aggregationRule``; the control plane's own writes are not checked. The refusal is the
API server's 403: ``... is attempting to grant RBAC permissions not currently held:`` and one line per
missing rule."""

from __future__ import annotations

from typing import Any

from ... import status
from .. import rbac
from ..auth import in_request, request_groups
from .request import Request

Obj = dict[str, Any]


def mutate(req: Request) -> None:
    return None


def _unchanged(req: Request, *fields: str) -> bool:
    return req.old is not None and all(req.old.get(f) == req.obj.get(f) for f in fields)


def validate(req: Request) -> None:
    if req.res.group != rbac.GROUP or req.sub or not in_request():
        return  # the sandbox's own writes (controllers, seeding) hold every right, as the control plane does
    user, groups = req.user, request_groups(req.user)
    if rbac.MASTERS in groups:
        return
    policy = rbac.policy(req.objects)
    meta = req.obj.get("metadata") or {}
    name = str(meta.get("name", ""))
    namespace = str(meta.get("namespace", "")) if req.res.namespaced else ""
    if req.res.kind in ("Role", "ClusterRole"):
        if _unchanged(req, "rules", "aggregationRule"):
            return
        escalate = rbac.Request("escalate", rbac.GROUP, req.res.plural, namespace=namespace, name=name)
        if policy.decide(user, groups, escalate)[0]:
            return
        if req.obj.get("aggregationRule") and not _unchanged(req, "aggregationRule"):
            raise status.forbidden_because(
                req.res.group_resource, name, "must have cluster-admin privileges to use the aggregationRule"
            )
        wanted = [rbac.Rule.of(r) for r in req.obj.get("rules") or []]
    else:
        if _unchanged(req, "roleRef", "subjects"):
            return
        ref = req.obj.get("roleRef") or {}
        kind, role = str(ref.get("kind", "")), str(ref.get("name", ""))
        plural = "clusterroles" if kind == "ClusterRole" else "roles"
        bind = rbac.Request("bind", rbac.GROUP, plural, namespace=namespace, name=role)
        if policy.decide(user, groups, bind)[0]:
            return
        rules = policy.role_rules(kind, namespace, role)
        if rules is None:
            raise status.not_found(f"{plural}.{rbac.GROUP}", role)
        wanted = list(rules)
    held = [g.rule for g in policy.grants(user, groups, namespace)]
    missing = rbac.missing_rules(held, wanted)
    if missing:
        raise status.forbidden_because(req.res.group_resource, name, rbac.escalation_message(user, groups, missing))
