"""Keystone's directory as a member sees it: its one project, the two users, the learner's
application credential, and EC2-style credentials (the S3 API's access key and secret). Projects
and users belong to the admin: a member may not create, change or delete them."""

from __future__ import annotations

import secrets
from typing import Any

from ... import errors
from ...api import Ctx, Routes, reply
from ..identity import PROJECT_NAME, ROLES

routes = Routes()


def _project(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": ctx.project,
        "name": PROJECT_NAME,
        "domain_id": "default",
        "enabled": True,
        "is_domain": False,
        "parent_id": "default",
        "description": "The sandbox's Startup/Research CPU allocation",
        "tags": [],
        "options": {},
        "links": {"self": f"{ctx.base}/identity/v3/projects/{ctx.project}"},
    }


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
    raise errors.keystone(
        501,
        f"The sandbox cloud has one project and two users; it does not {verb} {kind}s. "
        "Use `lab sandbox reset` to start over.",
    )


@routes("/v3/users/<uid>", "GET")
def show_user(ctx: Ctx, uid: str) -> Any:
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("get_user")
    name = "admin" if uid == ctx.store.meta("admin_id") else "learner"
    return reply(
        {
            "user": {
                "id": uid,
                "name": name,
                "domain_id": "default",
                "enabled": True,
                "password_expires_at": None,
                "options": {},
                "links": {"self": f"{ctx.base}/identity/v3/users/{uid}"},
            }
        }
    )


@routes("/v3/users/<uid>/application_credentials", "GET")
def list_app_creds(ctx: Ctx, uid: str) -> Any:
    """The learner's one application credential (its secret is never shown again, as in Keystone)."""
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("list_application_credentials")
    creds = []
    if uid == ctx.store.meta("user_id"):
        creds.append(
            {
                "id": ctx.store.meta("app_cred_id"),
                "name": "sandbox",
                "description": "The sandbox's clouds.yaml credential",
                "expires_at": None,
                "project_id": ctx.project,
                "unrestricted": False,
                "access_rules": [],
                "roles": [{"id": ROLES["member"], "name": "member"}, {"id": ROLES["reader"], "name": "reader"}],
                "links": {
                    "self": f"{ctx.base}/identity/v3/users/{uid}/application_credentials/{ctx.store.meta('app_cred_id')}"
                },
            }
        )
    return reply(
        {"application_credentials": creds, "links": {"self": ctx.request.base_url, "next": None, "previous": None}}
    )


# -- EC2-style credentials (the S3 API's access key and secret) -----------------------------
def _ec2(ctx: Ctx, cred: dict[str, Any]) -> dict[str, Any]:
    return dict(
        cred, links={"self": f"{ctx.base}/identity/v3/users/{cred['user_id']}/credentials/OS-EC2/{cred['access']}"}
    )


@routes("/v3/users/<uid>/credentials/OS-EC2", "POST")
def create_ec2(ctx: Ctx, uid: str) -> Any:
    if uid != ctx.user:
        raise errors.keystone(
            403, "You are not authorized to perform the requested action: identity:ec2_create_credential."
        )
    body = ctx.body()
    tenant = body.get("tenant_id") or body.get("project_id") or ctx.project
    if not isinstance(tenant, str) or len(tenant) > 64:
        raise errors.keystone(400, "Invalid input for field 'tenant_id': expecting a project id.")
    if tenant != ctx.project and not ctx.is_admin:
        raise _deny("ec2_create_credential")
    cred: dict[str, Any] = {
        "user_id": uid,
        "tenant_id": tenant,
        "access": secrets.token_hex(16),
        "secret": secrets.token_hex(16),
        "trust_id": None,
    }
    with ctx.store.tx():
        ctx.store.put("ec2", cred["access"], cred, parent=uid)
    return reply({"credential": _ec2(ctx, cred)}, 201)


@routes("/v3/users/<uid>/credentials/OS-EC2", "GET")
def list_ec2(ctx: Ctx, uid: str) -> Any:
    if uid != ctx.user and not ctx.is_admin:
        raise _deny("ec2_list_credentials")
    return reply(
        {
            "credentials": [_ec2(ctx, c) for c in ctx.store.list("ec2", parent=uid)],
            "links": {"self": ctx.request.base_url},
        }
    )


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
