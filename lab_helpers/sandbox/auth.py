"""Keystone v3: version documents, tokens (application credential and password), the service
catalog, and EC2-style credentials for the object store's S3 use."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from . import errors
from .api import Ctx, Routes, reply
from .store import Store, iso, now

routes = Routes("/identity", style="keystone")
TOKEN_TTL_S = 12 * 3600
DOMAIN = {"id": "default", "name": "Default"}
PROJECT_NAME = "sandbox"
ROLES = {"member": "9fe2ff9ee4384b1894a90878d3e92bab", "reader": "4a6f4a6d5b3c4f8e9c1d2e3f4a5b6c7d", "admin": "c2b7d1e0a6f94c0c8f7f2b1e3d4c5a6b"}


def bootstrap(store: Store) -> dict[str, str]:
    """Create (once per sandbox) the project, the two users and their secrets."""
    with store.tx():
        ids = {k: store.meta(k) for k in ("project_id", "user_id", "admin_id", "app_cred_id", "app_cred_secret", "admin_password")}
        for key in ids:
            if not ids[key]:
                value = secrets.token_urlsafe(24) if "secret" in key or "password" in key else uuid.uuid4().hex
                store.set_meta(key, value)
                ids[key] = value
    return ids  # type: ignore[return-value]


def catalog(base: str, project: str) -> list[dict[str, Any]]:
    services = [
        ("identity", "keystone", f"{base}/identity/v3/"),
        ("compute", "nova", f"{base}/compute/v2.1"),
        ("image", "glance", f"{base}/image"),
        ("network", "neutron", f"{base}/network"),
        ("block-storage", "cinder", f"{base}/volume/v3/{project}"),
        ("volumev3", "cinderv3", f"{base}/volume/v3/{project}"),
        ("object-store", "swift", f"{base}/swift/v1/AUTH_{project}"),
    ]
    out = []
    for stype, name, url in services:
        eps = [
            {"id": hashlib.md5(f"{stype}{iface}".encode()).hexdigest(), "interface": iface, "region": "IU", "region_id": "IU", "url": url}
            for iface in ("public", "internal")
        ]
        out.append({"type": stype, "name": name, "id": hashlib.md5(stype.encode()).hexdigest(), "endpoints": eps})
    return out


def _version(base: str) -> dict[str, Any]:
    return {
        "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


@routes("/", "GET", public=True)
def versions(ctx: Ctx) -> Any:
    return reply({"versions": {"values": [_version(ctx.base)]}}, 300)


@routes("/v3/", "GET", public=True)
def version(ctx: Ctx) -> Any:
    return reply({"version": _version(ctx.base)})


def _same(given: Any, secret: str | None) -> bool:
    """A constant-time comparison that takes any JSON value (non-ASCII text included)."""
    return secrets.compare_digest(str(given).encode("utf-8", "replace"), (secret or "").encode())


def _identify(ctx: Ctx, auth: dict[str, Any]) -> tuple[str, list[str], str]:
    """Check the credential: (user id, methods, role set name). Raises Keystone's 401."""
    ident = auth.get("identity") or {}
    methods = ident.get("methods") if isinstance(ident, dict) else None
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise errors.keystone(400, "Invalid input for field 'identity': expecting an object with a list of 'methods'.")
    for method in methods:
        if method in ident and not isinstance(ident[method], dict):
            raise errors.keystone(400, f"Invalid input for field 'identity/{method[:40]}': expecting an object.")
    meta = {k: ctx.store.meta(k) for k in ("user_id", "admin_id", "app_cred_id", "app_cred_secret", "admin_password")}
    if "application_credential" in methods:
        cred = ident.get("application_credential") or {}
        if cred.get("id") == meta["app_cred_id"] and _same(cred.get("secret", ""), meta["app_cred_secret"]):
            return meta["user_id"], ["application_credential"], "member"
        raise errors.keystone(401, "The request you have made requires authentication.")
    if "password" in methods:
        user = (ident.get("password") or {}).get("user") or {}
        if not isinstance(user, dict):
            raise errors.keystone(400, "Invalid input for field 'identity/password/user': expecting an object.")
        who = user.get("name") or user.get("id")
        if who in ("admin", meta["admin_id"]) and _same(user.get("password", ""), meta["admin_password"]):
            return meta["admin_id"], ["password"], "admin"
        raise errors.keystone(401, "The request you have made requires authentication.")
    if "token" in methods:
        old = ctx.store.get("token", str((ident.get("token") or {}).get("id", ""))[:512])
        if old and old["expires"] > now():
            return old["user_id"], ["token"], "admin" if "admin" in old["roles"] else "member"
        raise errors.keystone(401, "The request you have made requires authentication.")
    raise errors.keystone(400, "Expecting to find identity in auth. The server could not comply with the request since it is either malformed or otherwise incorrect.")


def _token_body(ctx: Ctx, tok: dict[str, Any]) -> dict[str, Any]:
    project = ctx.store.meta("project_id")
    body = {
        "methods": tok["methods"], "audit_ids": [tok["audit"]],
        "user": {"id": tok["user_id"], "name": "admin" if "admin" in tok["roles"] else "learner", "domain": DOMAIN, "password_expires_at": None},
        "expires_at": iso(tok["expires"], micro=True) + "Z", "issued_at": iso(tok["issued"], micro=True) + "Z",
        "project": {"id": project, "name": PROJECT_NAME, "domain": DOMAIN}, "is_domain": False,
        "roles": [{"id": ROLES[r], "name": r} for r in tok["roles"]],
        "catalog": catalog(ctx.base, project),
    }
    if "application_credential" in tok["methods"]:
        body["application_credential"] = {"id": ctx.store.meta("app_cred_id"), "name": "sandbox", "restricted": True}
    return {"token": body}


@routes("/v3/auth/tokens", "POST", public=True)
def issue_token(ctx: Ctx) -> Any:
    auth = ctx.body("auth")
    user_id, methods, role = _identify(ctx, auth)
    roles = ["admin", "member", "reader"] if role == "admin" else ["member", "reader"]
    token_id = "gAAAAA" + secrets.token_urlsafe(96)
    t = now()
    tok = {"user_id": user_id, "project_id": ctx.store.meta("project_id"), "roles": roles, "methods": methods,
           "issued": t, "expires": t + TOKEN_TTL_S, "audit": secrets.token_urlsafe(16)}
    with ctx.store.tx():
        ctx.store.put("token", token_id, tok)
    return reply(_token_body(ctx, tok), 201, {"X-Subject-Token": token_id})


@routes("/v3/auth/tokens", "GET", "HEAD")
def validate_token(ctx: Ctx) -> Any:
    tok = ctx.store.get("token", ctx.request.headers.get("X-Subject-Token", ""))
    if not tok or tok["expires"] < now():
        raise errors.keystone(404, "Could not recognize Fernet token")
    return reply(_token_body(ctx, tok), 200, {"X-Subject-Token": ctx.request.headers["X-Subject-Token"]})


@routes("/v3/auth/tokens", "DELETE")
def revoke_token(ctx: Ctx) -> Any:
    with ctx.store.tx():
        ctx.store.delete("token", ctx.request.headers.get("X-Subject-Token", ""))
    return reply(None, 204)


@routes("/v3/auth/catalog", "GET")
def get_catalog(ctx: Ctx) -> Any:
    return reply({"catalog": catalog(ctx.base, ctx.project)})


def _project(ctx: Ctx) -> dict[str, Any]:
    return {"id": ctx.project, "name": PROJECT_NAME, "domain_id": "default", "enabled": True, "is_domain": False,
            "parent_id": "default", "description": "The sandbox's Startup/Research CPU allocation", "tags": [], "options": {},
            "links": {"self": f"{ctx.base}/identity/v3/projects/{ctx.project}"}}


@routes("/v3/projects", "GET")
@routes("/v3/auth/projects", "GET")
def list_projects(ctx: Ctx) -> Any:
    return reply({"projects": [_project(ctx)], "links": {"self": ctx.request.base_url, "next": None, "previous": None}})


def _deny(action: str) -> errors.ApiError:
    """Keystone's 403 for a project member asking about what is not its own."""
    return errors.keystone(403, f"You are not authorized to perform the requested action: identity:{action}.")


@routes("/v3/projects/<pid>", "GET")
def show_project(ctx: Ctx, pid: str) -> Any:
    """A member reads only its own project; another one (existing or not) is a 403, as in Keystone."""
    if pid not in (ctx.project, PROJECT_NAME):
        if not ctx.is_admin:
            raise _deny("get_project")
        raise errors.keystone(404, f"Could not find project: {pid[:80]}.")
    return reply({"project": _project(ctx)})


@routes("/v3/projects/<pid>", "PATCH", "DELETE")
@routes("/v3/projects", "POST")
@routes("/v3/users", "POST")
@routes("/v3/users/<uid>", "PATCH", "DELETE")
def admin_only(ctx: Ctx, pid: str = "", uid: str = "") -> Any:
    """Projects and users belong to the cloud's admin: a member may not create, change or delete them."""
    path = ctx.request.path.rstrip("/")
    kind = "project" if "/projects" in path else "user"
    verb = {"POST": "create", "PATCH": "update", "DELETE": "delete"}[ctx.request.method]
    if not ctx.is_admin:
        raise _deny(f"{verb}_{kind}")
    raise errors.keystone(501, f"The sandbox cloud has one project and two users; it does not {verb} {kind}s. "
                               "Use `lab sandbox reset` to start over.")


@routes("/v3/users/<uid>", "GET")
def show_user(ctx: Ctx, uid: str) -> Any:
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("get_user")
    name = "admin" if uid == ctx.store.meta("admin_id") else "learner"
    return reply({"user": {"id": uid, "name": name, "domain_id": "default", "enabled": True, "password_expires_at": None,
                           "options": {}, "links": {"self": f"{ctx.base}/identity/v3/users/{uid}"}}})


@routes("/v3/users/<uid>/application_credentials", "GET")
def list_app_creds(ctx: Ctx, uid: str) -> Any:
    """The learner's one application credential (its secret is never shown again, as in Keystone)."""
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("list_application_credentials")
    creds = []
    if uid == ctx.store.meta("user_id"):
        creds.append({"id": ctx.store.meta("app_cred_id"), "name": "sandbox", "description": "The sandbox's clouds.yaml credential",
                      "expires_at": None, "project_id": ctx.project, "unrestricted": False, "access_rules": [],
                      "roles": [{"id": ROLES["member"], "name": "member"}, {"id": ROLES["reader"], "name": "reader"}],
                      "links": {"self": f"{ctx.base}/identity/v3/users/{uid}/application_credentials/{ctx.store.meta('app_cred_id')}"}})
    return reply({"application_credentials": creds, "links": {"self": ctx.request.base_url, "next": None, "previous": None}})


# -- EC2-style credentials (the S3 API's access key and secret) -----------------------------
def _ec2(ctx: Ctx, cred: dict[str, Any]) -> dict[str, Any]:
    return dict(cred, links={"self": f"{ctx.base}/identity/v3/users/{cred['user_id']}/credentials/OS-EC2/{cred['access']}"})


@routes("/v3/users/<uid>/credentials/OS-EC2", "POST")
def create_ec2(ctx: Ctx, uid: str) -> Any:
    if uid != ctx.user:
        raise errors.keystone(403, "You are not authorized to perform the requested action: identity:ec2_create_credential.")
    body = ctx.body()
    tenant = body.get("tenant_id") or body.get("project_id") or ctx.project
    if not isinstance(tenant, str) or len(tenant) > 64:
        raise errors.keystone(400, "Invalid input for field 'tenant_id': expecting a project id.")
    if tenant != ctx.project and not ctx.is_admin:
        raise _deny("ec2_create_credential")
    cred = {"user_id": uid, "tenant_id": tenant, "access": secrets.token_hex(16),
            "secret": secrets.token_hex(16), "trust_id": None}
    with ctx.store.tx():
        ctx.store.put("ec2", cred["access"], cred, parent=uid)
    return reply({"credential": _ec2(ctx, cred)}, 201)


@routes("/v3/users/<uid>/credentials/OS-EC2", "GET")
def list_ec2(ctx: Ctx, uid: str) -> Any:
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("ec2_list_credentials")
    return reply({"credentials": [_ec2(ctx, c) for c in ctx.store.list("ec2", parent=uid)], "links": {"self": ctx.request.base_url}})


@routes("/v3/users/<uid>/credentials/OS-EC2/<access>", "GET", "DELETE")
def one_ec2(ctx: Ctx, uid: str, access: str) -> Any:
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("ec2_get_credential" if ctx.request.method == "GET" else "ec2_delete_credential")
    cred = ctx.store.get("ec2", access)
    if not cred or cred["user_id"] != uid:
        raise errors.keystone(404, f"Could not find credential: {access}.")
    if ctx.request.method == "DELETE":
        with ctx.store.tx():
            ctx.store.delete("ec2", access)
        return reply(None, 204)
    return reply({"credential": _ec2(ctx, cred)})


def check_token(store: Store, token_id: str) -> dict[str, Any] | None:
    """The token's record when it is valid now, else None."""
    if not token_id:
        return None
    tok = store.get("token", token_id)
    if not tok or tok["expires"] < now():
        return None
    return tok
