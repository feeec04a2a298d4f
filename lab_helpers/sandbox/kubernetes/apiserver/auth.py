"""Who is calling, and what they may do.

Authentication: a bearer token the sandbox made (store meta ``k8s_token:<user>``), else 401.
Authorization, a small fixed policy in place of RBAC:

- ``sandbox-admin`` may do everything;
- the learner may read everything but Secrets outside the namespaces it may write in;
- it may create namespaces (each records its owner in an annotation), and do anything in the
  namespaces it owns and in ``default``;
- it may not write nodes, nor anything in ``kube-system``, ``kube-public`` or ``kube-node-lease``.

A refusal is the API server's 403, worded as RBAC words it.
"""

from __future__ import annotations

import hmac

from ...api import Ctx
from ...store import Store
from .. import status
from ..objects import Objects
from ..resources import Resource, by_plural

LEARNER = "learner"
ADMIN = "sandbox-admin"
USERS = (LEARNER, ADMIN)
OWNER_ANNOTATION = "sandbox.visualizing-compute/namespace-owner"
READ_VERBS = ("get", "list", "watch")
SHARED_NAMESPACES = ("default",)  # the learner writes here too, as in a fresh cluster's kubeconfig context
NAMESPACES = by_plural("namespaces")


def user_for_token(store: Store, token: str) -> str | None:
    for user in USERS:
        known = store.meta(f"k8s_token:{user}")
        if known and hmac.compare_digest(known.encode(), token.encode()):
            return user
    return None


def authenticate(ctx: Ctx) -> None:
    """Set ``ctx.token`` from the bearer token, or raise the API server's 401."""
    header = ctx.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(ctx.store, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise status.unauthorized()
    ctx.token = {"user_id": user, "project_id": "", "roles": ["admin"] if user == ADMIN else []}


def owns_namespace(objects: Objects, user: str, namespace: str) -> bool:
    """Whether ``user`` may write in ``namespace`` (the admin everywhere)."""
    if user == ADMIN or namespace in SHARED_NAMESPACES:
        return True
    ns = objects.get(NAMESPACES, "", namespace)
    if ns is None:
        return False
    return (ns["metadata"].get("annotations") or {}).get(OWNER_ANNOTATION) == user


def authorize(
    objects: Objects, user: str, verb: str, res: Resource, namespace: str, name: str = "", sub: str = ""
) -> None:
    """Raise the 403 the API server's RBAC would give ``user`` for ``verb`` on this resource."""
    if user == ADMIN:
        return
    if res.kind == "Namespace":
        if verb in READ_VERBS or verb == "create" or (name and owns_namespace(objects, user, name)):
            return
        if verb == "patch" and name and objects.get(NAMESPACES, "", name) is None:
            return  # a server-side apply that creates it
    elif res.kind == "Node":
        if verb in READ_VERBS:
            return
    elif not res.namespaced:
        if verb in READ_VERBS:
            return
    elif verb in READ_VERBS and (res.kind != "Secret" or (namespace and owns_namespace(objects, user, namespace))):
        return
    elif namespace and owns_namespace(objects, user, namespace):
        return
    raise status.forbidden(user, verb, res.group_resource, namespace, name, sub)
