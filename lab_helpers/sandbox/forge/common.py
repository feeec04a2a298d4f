"""What the forge's two services share: who is calling (HTTP Basic with a forge token, or anonymous), and
who may read or write a repository (public repositories: anyone reads; only the owner or the admin writes)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..api import Ctx, ErrorStyle
from ..errors import ApiError, json_response
from . import repos
from .tokens import ADMIN, user_for_basic

REALM = 'Basic realm="forge"'


def text_error(status: int, message: str, kind: str = "") -> ApiError:
    """git shows a text/plain error body to the learner, each line prefixed with ``remote:``."""
    response = Response(message.rstrip("\n") + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response.headers["WWW-Authenticate"] = REALM
    return ApiError(response)


def json_error(status: int, message: str, kind: str = "") -> ApiError:
    """Gitea's error body: ``{"message", "url"}``."""
    response = json_response({"message": message, "url": "https://docs.gitea.com/api/"}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = REALM
    return ApiError(response)


GIT_ERRORS = ErrorStyle(text_error)
API_ERRORS = ErrorStyle(json_error)


def authenticate(ctx: Ctx) -> None:
    """Anonymous when no credentials come; the token's user when they prove one; else 401."""
    header = ctx.request.headers.get("Authorization", "")
    if not header:
        return
    user = user_for_basic(ctx.store, header)
    if user is None:
        raise ctx.bad(
            "Invalid username or token. Use your forge token as the password "
            "(the course's clones already do: lab_helpers.deploy.git.clone).",
            401,
        )
    ctx.token = {"user_id": user, "project_id": "", "roles": ["admin"] if user == ADMIN else []}


def need_user(ctx: Ctx) -> str:
    if not ctx.user:
        raise ctx.bad("Authentication required: send your user name and forge token (HTTP Basic).", 401)
    return ctx.user


def readable(ctx: Ctx, owner: str, name: str) -> repos.RepoInfo:
    """The repository if the caller may read it; 404 otherwise (a private one is not shown to others)."""
    info = repos.find(ctx.state_dir, owner, name)
    if info is not None and info.private and not (ctx.user == owner or ctx.is_admin):
        if not ctx.user:
            raise ctx.bad("Authentication required for a private repository.", 401)
        info = None
    if info is None:
        raise ctx.bad(
            f"Repository not found: {owner}/{name}. Check the owner and the name (they are case-sensitive).", 404
        )
    return info


def writable(ctx: Ctx, owner: str, name: str) -> repos.RepoInfo:
    """The repository if the caller may change it: its owner or the admin; 401 anonymous, 403 anyone else."""
    if not ctx.user:
        info = repos.find(ctx.state_dir, owner, name)
        raise ctx.bad("Authentication required to change a repository.", 401) if info else _not_found(ctx, owner, name)
    info = readable(ctx, owner, name)
    if ctx.user != owner and not ctx.is_admin:
        raise ctx.bad(
            f"Permission to {owner}/{name}.git denied to {ctx.user}: the repository belongs to {owner}, and only its "
            f"owner may push to it or change it. Create a repository of your own (create_repo) and push there.",
            403,
        )
    return info


def _not_found(ctx: Ctx, owner: str, name: str) -> ApiError:
    return ctx.bad(
        f"Repository not found: {owner}/{name}. Check the owner and the name (they are case-sensitive).", 404
    )
