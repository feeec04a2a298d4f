"""Keystone v3: version documents, tokens (application credential, password, token) and the
service catalog. Projects, users and EC2 credentials are in ``directory``."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from ... import errors
from ...api import Ctx, Routes, reply
from ...store import iso, now
from ..identity import DOMAIN, PROJECT_NAME, ROLES
from ..s3.constants import PREFIX as S3_PREFIX

routes = Routes()
TOKEN_TTL_S = 12 * 3600


def catalog(base: str, project: str, s3: str = "") -> list[dict[str, Any]]:
    """The service catalog; ``s3`` is the S3 API's own port when it has one (the root of it, as Jetstream2's
    8001), else S3 is listed under ``/s3`` of the main port."""
    services = [
        ("identity", "keystone", f"{base}/identity/v3/"),
        ("compute", "nova", f"{base}/compute/v2.1"),
        ("image", "glance", f"{base}/image"),
        ("network", "neutron", f"{base}/network"),
        ("block-storage", "cinder", f"{base}/volume/v3/{project}"),
        ("volumev3", "cinderv3", f"{base}/volume/v3/{project}"),
        ("object-store", "swift", f"{base}/swift/v1/AUTH_{project}"),
        ("s3", "s3", s3 or f"{base}{S3_PREFIX}"),
    ]
    out = []
    for stype, name, url in services:
        eps = [
            {
                "id": hashlib.md5(f"{stype}{iface}".encode()).hexdigest(),
                "interface": iface,
                "region": "IU",
                "region_id": "IU",
                "url": url,
            }
            for iface in ("public", "internal")
        ]
        out.append({"type": stype, "name": name, "id": hashlib.md5(stype.encode()).hexdigest(), "endpoints": eps})
    return out


def _version(base: str) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
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
        user_id = meta["user_id"]
        if (
            user_id is not None
            and cred.get("id") == meta["app_cred_id"]
            and _same(cred.get("secret", ""), meta["app_cred_secret"])
        ):
            return user_id, ["application_credential"], "member"
        raise errors.keystone(401, "The request you have made requires authentication.")
    if "password" in methods:
        user = (ident.get("password") or {}).get("user") or {}
        if not isinstance(user, dict):
            raise errors.keystone(400, "Invalid input for field 'identity/password/user': expecting an object.")
        who = user.get("name") or user.get("id")
        admin_id = meta["admin_id"]
        if (
            admin_id is not None
            and who in ("admin", admin_id)
            and _same(user.get("password", ""), meta["admin_password"])
        ):
            return admin_id, ["password"], "admin"
        raise errors.keystone(401, "The request you have made requires authentication.")
    if "token" in methods:
        old = ctx.store.get("token", str((ident.get("token") or {}).get("id", ""))[:512])
        if old and old["expires"] > now():
            return old["user_id"], ["token"], "admin" if "admin" in old["roles"] else "member"
        raise errors.keystone(401, "The request you have made requires authentication.")
    raise errors.keystone(
        400,
        "Expecting to find identity in auth. The server could not comply with the request since it is either "
        "malformed or otherwise incorrect.",
    )


def _token_body(ctx: Ctx, tok: dict[str, Any]) -> dict[str, Any]:
    project = ctx.store.meta("project_id")
    body = {
        "methods": tok["methods"],
        "audit_ids": [tok["audit"]],
        "user": {
            "id": tok["user_id"],
            "name": "admin" if "admin" in tok["roles"] else "learner",
            "domain": DOMAIN,
            "password_expires_at": None,
        },
        "expires_at": iso(tok["expires"], micro=True) + "Z",
        "issued_at": iso(tok["issued"], micro=True) + "Z",
        "project": {"id": project, "name": PROJECT_NAME, "domain": DOMAIN},
        "is_domain": False,
        "roles": [{"id": ROLES[r], "name": r} for r in tok["roles"]],
        "catalog": catalog(ctx.base, project or "", ctx.urls.get("s3", "")),
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
    tok = {
        "user_id": user_id,
        "project_id": ctx.store.meta("project_id"),
        "roles": roles,
        "methods": methods,
        "issued": t,
        "expires": t + TOKEN_TTL_S,
        "audit": secrets.token_urlsafe(16),
    }
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
    return reply({"catalog": catalog(ctx.base, ctx.project, ctx.urls.get("s3", ""))})
