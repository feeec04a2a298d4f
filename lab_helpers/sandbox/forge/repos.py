"""The forge's repositories on disk: ``<sandbox state>/forge/repos/<owner>/<repo>.git``, bare, default branch
``main``, each with the forge's hooks and a ``forge.json`` (id, visibility, creation time). The disk is the
truth, so repositories survive restarts (and a sandbox reset, like the sandbox's tokens)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import Store

__all__ = [
    "DEFAULT_BRANCH",
    "RepoInfo",
    "create",
    "delete",
    "find",
    "forge_dir",
    "git_env",
    "install_hooks",
    "list_for",
    "repo_path",
    "valid_name",
]

DEFAULT_BRANCH = "main"
NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
OWNER = re.compile(r"^[a-z0-9]([-a-z0-9]{0,46}[a-z0-9])?$")
META = "forge.json"
ZERO = "0" * 40


def valid_name(name: str) -> str | None:
    """Why ``name`` cannot name a repository, or None when it can."""
    if not NAME.match(name or ""):
        return "a repository name is 1 to 100 letters, digits, '.', '_' or '-'"
    if name.lower().endswith(".git"):
        return "a repository name cannot end in '.git' (the clone URL adds it)"
    if name in (".", ".."):
        return "'.' and '..' cannot name a repository"
    return None


def forge_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "forge"


def repo_path(state_dir: Path, owner: str, repo: str) -> Path:
    """Where a repository's bare directory is; ValueError for an owner or name that could leave the forge's folder."""
    if not OWNER.match(owner or "") or valid_name(repo):
        raise ValueError(f"{owner}/{repo} is not a repository name")
    return forge_dir(state_dir) / "repos" / owner / f"{repo}.git"


def git_env(state_dir: Path) -> dict[str, str]:
    """A clean environment for the forge's own git commands: nothing of the caller's, no global or system config,
    HOME and TMPDIR in the forge's folder (so the forge writes nothing outside it)."""
    home = forge_dir(state_dir)
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }


def git(state_dir: Path, repo: Path, *args: str, check: bool = True) -> str:
    out = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=git_env(state_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check and out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {out.stderr.strip()[-400:]}")
    return out.stdout


HOOK = """#!/bin/sh
# Installed by the course's forge: {what}
exec {python} -m lab_helpers.sandbox.forge.hook {name}
"""


def install_hooks(path: Path) -> None:
    """The forge's ``pre-receive`` (protected ``main``, secret scanning) and ``post-receive`` (push events)."""
    hooks = path / "hooks"
    hooks.mkdir(exist_ok=True)
    for sample in hooks.glob("*.sample"):
        sample.unlink()
    what = {
        "pre-receive": "protected main branch, secret scanning",
        "post-receive": "records one push event per updated ref",
    }
    for name, text in what.items():
        hook = hooks / name
        hook.write_text(HOOK.format(what=text, python=sys.executable, name=name))
        hook.chmod(0o755)


@dataclass(frozen=True)
class RepoInfo:
    id: int
    owner: str
    name: str
    private: bool
    created_at: float
    path: Path

    def has_commits(self) -> bool:
        heads = self.path / "refs" / "heads"
        return any(heads.rglob("*")) or (self.path / "packed-refs").exists()

    def json(self, base: str) -> dict[str, Any]:
        """Gitea's repository object (the fields the course uses)."""
        return {
            "id": self.id,
            "name": self.name,
            "full_name": f"{self.owner}/{self.name}",
            "owner": {"login": self.owner, "username": self.owner},
            "clone_url": f"{base}/git/{self.owner}/{self.name}.git",
            "html_url": f"{base}/git/{self.owner}/{self.name}",
            "default_branch": DEFAULT_BRANCH,
            "private": self.private,
            "empty": not self.has_commits(),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at)),
        }


def find(state_dir: Path, owner: str, name: str) -> RepoInfo | None:
    try:
        path = repo_path(state_dir, owner, name)
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    return RepoInfo(int(meta["id"]), owner, name, bool(meta.get("private")), float(meta["created_at"]), path)


def create(store: Store, state_dir: Path, owner: str, name: str, *, private: bool = False) -> RepoInfo | None:
    """A new bare repository, or None when it exists. ValueError for a bad name."""
    problem = valid_name(name)
    if problem:
        raise ValueError(problem)
    path = repo_path(state_dir, owner, name)
    with store.tx():
        if path.exists():
            return None
        next_id = int(store.meta("forge_next_repo_id") or 1)
        store.set_meta("forge_next_repo_id", str(next_id + 1))
        tmp = path.with_name(f".{name}.creating")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        git(state_dir, tmp.parent, "init", "--quiet", "--bare", f"--initial-branch={DEFAULT_BRANCH}", tmp.name)
        git(state_dir, tmp, "config", "receive.denyDeleteCurrent", "false")
        git(state_dir, tmp, "config", "http.receivepack", "true")
        install_hooks(tmp)
        meta = {"id": next_id, "owner": owner, "name": name, "private": private, "created_at": time.time()}
        (tmp / META).write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, path)
    return find(state_dir, owner, name)


def delete(state_dir: Path, owner: str, name: str) -> bool:
    info = find(state_dir, owner, name)
    if info is None:
        return False
    trash = info.path.with_name(f".{name}.deleting")
    os.replace(info.path, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return True


def list_for(state_dir: Path, owner: str | None = None) -> list[RepoInfo]:
    """Every repository (of ``owner``), by id."""
    root = forge_dir(state_dir) / "repos"
    found: list[RepoInfo] = []
    if not root.is_dir():
        return found
    for owner_dir in sorted(root.iterdir()):
        if owner is not None and owner_dir.name != owner:
            continue
        for path in sorted(owner_dir.glob("*.git")):
            info = find(state_dir, owner_dir.name, path.name[: -len(".git")])
            if info is not None:
                found.append(info)
    return sorted(found, key=lambda r: r.id)
