"""The forge's JSON API, a Gitea-like subset under ``/git/api/v1``: create, list, show and delete
repositories, list branches, read a file or folder at a ref. Errors are Gitea's ``{"message", "url"}``."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

from werkzeug.wrappers import Response

from ..api import Ctx, Routes, reply
from . import repos
from .common import need_user, readable, writable
from .tokens import ADMIN

routes = Routes()


@routes("/user", "GET")
def whoami(ctx: Ctx) -> Response:
    user = need_user(ctx)
    return reply({"id": 0, "login": user, "username": user, "is_admin": user == ADMIN})


def _create(ctx: Ctx, owner: str) -> Response:
    body = ctx.body()
    name = body.get("name")
    private = body.get("private", False)
    if not isinstance(name, str):
        raise ctx.bad("'name' is required: the new repository's name.", 422)
    if not isinstance(private, bool):
        raise ctx.bad("'private' must be true or false.", 422)
    problem = repos.valid_name(name)
    if problem:
        raise ctx.bad(f"Invalid repository name {name[:120]!r}: {problem}.", 422)
    info = repos.create(ctx.store, ctx.state_dir, owner, name, private=private)
    if info is None:
        raise ctx.bad(f"The repository {owner}/{name} already exists. Use it, or pick another name.", 409)
    return reply(info.json(ctx.base), 201)


@routes("/user/repos", "POST")
def create_own(ctx: Ctx) -> Response:
    return _create(ctx, need_user(ctx))


@routes("/admin/users/<owner>/repos", "POST")
def create_for(ctx: Ctx, owner: str) -> Response:
    if need_user(ctx) != ADMIN:
        raise ctx.bad("Only the sandbox admin may create repositories for another user.", 403)
    if not repos.OWNER.match(owner):
        raise ctx.bad(f"{owner!r} is not a user name.", 422)
    return _create(ctx, owner)


@routes("/users/<owner>/repos", "GET")
@routes("/orgs/<owner>/repos", "GET")
def list_repos(ctx: Ctx, owner: str) -> Response:
    shown = [
        r.json(ctx.base)
        for r in repos.list_for(ctx.state_dir, owner)
        if not r.private or ctx.user == owner or ctx.is_admin
    ]
    return reply(shown)


@routes("/repos/<owner>/<repo>", "GET")
def show(ctx: Ctx, owner: str, repo: str) -> Response:
    return reply(readable(ctx, owner, repo).json(ctx.base))


@routes("/repos/<owner>/<repo>", "DELETE")
def delete(ctx: Ctx, owner: str, repo: str) -> Response:
    writable(ctx, owner, repo)
    repos.delete(ctx.state_dir, owner, repo)
    return reply(status=204)


def _git(ctx: Ctx, info: repos.RepoInfo, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", *args], cwd=info.path, env=repos.git_env(ctx.state_dir), capture_output=True, timeout=60
    )


@routes("/repos/<owner>/<repo>/branches", "GET")
def branches(ctx: Ctx, owner: str, repo: str) -> Response:
    info = readable(ctx, owner, repo)
    fmt = "%(refname:short)%00%(objectname)%00%(committerdate:iso-strict)%00%(subject)"
    out = _git(ctx, info, "for-each-ref", f"--format={fmt}", "refs/heads/").stdout.decode("utf-8", "replace")
    found = []
    for line in out.splitlines():
        name, sha, when, subject = (line.split("\0") + ["", "", ""])[:4]
        found.append(
            {
                "name": name,
                "commit": {"id": sha, "message": subject, "timestamp": when},
                "protected": name == repos.DEFAULT_BRANCH,
            }
        )
    return reply(found)


def _resolve(ctx: Ctx, info: repos.RepoInfo, ref: str) -> str:
    if ref.startswith("-") or len(ref) > 255:
        raise ctx.bad(f"Not a ref: {ref[:80]!r}.", 404)
    out = _git(ctx, info, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if out.returncode != 0:
        raise ctx.bad(f"The ref {ref!r} does not exist in {info.owner}/{info.name}.", 404)
    return out.stdout.decode().strip()


def _entry(info: repos.RepoInfo, path: str, kind: str, sha: str, size: int) -> dict[str, Any]:
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "type": "dir" if kind == "tree" else "file",
        "size": size,
    }


@routes("/repos/<owner>/<repo>/contents", "GET")
@routes("/repos/<owner>/<repo>/contents/<path:path>", "GET")
def contents(ctx: Ctx, owner: str, repo: str, path: str = "") -> Response:
    info = readable(ctx, owner, repo)
    commit = _resolve(ctx, info, ctx.request.args.get("ref") or repos.DEFAULT_BRANCH)
    path = path.strip("/")
    if any(part in ("", ".", "..") for part in path.split("/")) and path:
        raise ctx.bad(f"Not a path in the repository: {path[:120]!r}.", 404)
    target = f"{commit}:{path}"
    kind = _git(ctx, info, "cat-file", "-t", target)
    if kind.returncode != 0:
        raise ctx.bad(f"{path or '/'} does not exist in {owner}/{repo} at {commit[:7]}.", 404)
    if kind.stdout.decode().strip() == "tree":
        listing = _git(ctx, info, "ls-tree", "-l", "-z", commit, f"{path}/" if path else ".").stdout.split(b"\0")
        entries = []
        for row in filter(None, listing):
            meta, _, name = row.decode("utf-8", "replace").partition("\t")
            _, obj_kind, sha, size = meta.split()
            entries.append(_entry(info, name, obj_kind, sha, int(size) if size.isdigit() else 0))
        return reply(entries)
    data = _git(ctx, info, "cat-file", "blob", target).stdout
    sha = _git(ctx, info, "rev-parse", target).stdout.decode().strip()
    doc = _entry(info, path, "blob", sha, len(data))
    doc.update({"encoding": "base64", "content": base64.b64encode(data).decode(), "last_commit_sha": commit})
    return reply(doc)
