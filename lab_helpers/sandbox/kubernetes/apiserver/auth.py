"""Who is calling, and what they may do.

Authentication: a bearer token the sandbox made (store meta ``k8s_token:<user>``; the users beyond the
learner and the admin are listed in meta ``k8s_users``), else 401. ``sandbox-admin`` is in the group
``system:masters``; every user is in ``system:authenticated``. A caller allowed to ``impersonate``
users (and groups) may act as another with the ``Impersonate-User`` / ``Impersonate-Group`` headers
(``kubectl --as``, ``--as-group``); others get the API server's 403.

Authorization is RBAC (``rbac``): the Roles, ClusterRoles and their bindings in the store, seeded
with the real default roles and the sandbox's own policy (``rbac_defaults``). ``system:masters`` is
allowed everything before RBAC is asked, as the API server's privileged-group authorizer does.
A refusal is the API server's 403, worded as RBAC words it.
"""

from __future__ import annotations

import contextvars
import hmac
import json

from ...api import Ctx
from ...store import Store
from .. import status
from ..objects import Objects
from ..resources import Resource, by_plural
from . import rbac

LEARNER = "learner"
ADMIN = "sandbox-admin"
USERS = (LEARNER, ADMIN)
USERS_META = "k8s_users"  # JSON list of the users made beyond LEARNER and ADMIN
OWNER_ANNOTATION = "sandbox.visualizing-compute/namespace-owner"
READ_VERBS = ("get", "list", "watch")
NAMESPACES = by_plural("namespaces")
ANONYMOUS = "system:anonymous"

# The user and groups the current request authenticated as (set by ``authenticate``), so that
# ``authorize(objects, user, ...)`` called without groups judges the request's own groups.
_IDENTITY: contextvars.ContextVar[tuple[str, tuple[str, ...]] | None] = contextvars.ContextVar(
    "k8s_identity", default=None
)


def known_users(store: Store) -> list[str]:
    """Every user with a token: the learner, the admin, then those added (``family.add_user``)."""
    try:
        extra = json.loads(store.meta(USERS_META) or "[]")
    except ValueError:
        extra = []
    return [*USERS, *(str(u) for u in extra if isinstance(u, str) and u not in USERS)]


def user_for_token(store: Store, token: str) -> str | None:
    for user in known_users(store):
        known = store.meta(f"k8s_token:{user}")
        if known and hmac.compare_digest(known.encode(), token.encode()):
            return user
    return None


def groups_of(user: str) -> tuple[str, ...]:
    """The groups a token's user is in."""
    if user == ADMIN:
        return (rbac.MASTERS, rbac.AUTHENTICATED)
    return (rbac.AUTHENTICATED,)


def _impersonated_groups(user: str, asked: list[str]) -> tuple[str, ...]:
    groups = list(asked)
    if not groups and user.startswith(rbac.SA_PREFIX):
        namespace = user[len(rbac.SA_PREFIX) :].partition(":")[0]
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    if user != ANONYMOUS and rbac.AUTHENTICATED not in groups:
        groups.append(rbac.AUTHENTICATED)
    return tuple(groups)


def _check_impersonation(objects: Objects, user: str, groups: tuple[str, ...], target: str, asked: list[str]) -> None:
    """The 403 the API server gives a caller without ``impersonate`` on the user, service account or groups."""
    policy = rbac.policy(objects)

    def need(resource: str, name: str, namespace: str = "", shown: str = "") -> None:
        req = rbac.Request("impersonate", "", resource, namespace=namespace, name=name)
        if not policy.decide(user, groups, req)[0]:
            raise status.forbidden(user, "impersonate", shown or resource, namespace, name)

    if target.startswith(rbac.SA_PREFIX) and target.count(":") == 3:
        namespace, _, name = target[len(rbac.SA_PREFIX) :].partition(":")
        need("serviceaccounts", name, namespace)
    else:
        need("users", target)
    for group in asked:
        need("groups", group)


def authenticate(ctx: Ctx) -> None:
    """Set ``ctx.token`` from the bearer token (and the impersonation headers), or raise the API server's 401."""
    header = ctx.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(ctx.store, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise status.unauthorized()
    groups = groups_of(user)
    target = ctx.request.headers.get("Impersonate-User", "").strip()
    asked = [g.strip() for g in ctx.request.headers.getlist("Impersonate-Group") if g.strip()]
    if asked and not target:
        raise status.bad_request("requested impersonation of groups without impersonating a user")
    if target:
        from ..objects import objects_for

        _check_impersonation(objects_for(ctx.store), user, groups, target, asked)
        user, groups = target, _impersonated_groups(target, asked)
    _IDENTITY.set((user, groups))
    roles = ["admin"] if rbac.MASTERS in groups else []
    ctx.token = {"user_id": user, "project_id": "", "roles": roles, "groups": list(groups)}


def in_request() -> bool:
    """Whether a client's request is being served (not a controller's or the seeding's own write)."""
    return _IDENTITY.get() is not None


def request_groups(user: str) -> tuple[str, ...]:
    """The groups of the request being served when it is ``user``'s, else the groups ``user``'s token carries."""
    identity = _IDENTITY.get()
    if identity is not None and identity[0] == user:
        return identity[1]
    return groups_of(user)


def allowed(
    objects: Objects,
    user: str,
    verb: str,
    res: Resource,
    namespace: str,
    name: str = "",
    sub: str = "",
    *,
    groups: tuple[str, ...] | None = None,
) -> bool:
    """Whether RBAC allows the request (the answer ``authorize`` acts on)."""
    groups = request_groups(user) if groups is None else groups
    if rbac.MASTERS in groups:
        return True
    if res.kind == "Namespace" and name:
        namespace = name  # the API server files a request for a namespace under that namespace
        if verb == "patch" and not sub and objects.get(NAMESPACES, "", name) is None:
            verb = "create"  # a server-side apply that creates it
    req = rbac.Request(verb, res.group, res.plural, sub, namespace if res.namespaced or res.kind == "Namespace" else "",
                       name)  # fmt: skip
    return rbac.policy(objects).decide(user, groups, req)[0]


def authorize(
    objects: Objects,
    user: str,
    verb: str,
    res: Resource,
    namespace: str,
    name: str = "",
    sub: str = "",
    *,
    groups: tuple[str, ...] | None = None,
) -> None:
    """Raise the 403 the API server's RBAC would give ``user`` for ``verb`` on this resource."""
    if not allowed(objects, user, verb, res, namespace, name, sub, groups=groups):
        where = name if res.kind == "Namespace" and name else (namespace if res.namespaced else "")
        raise status.forbidden(user, verb, res.group_resource, where, name, sub)
