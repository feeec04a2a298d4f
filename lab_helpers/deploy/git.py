"""The course's git forge from a notebook: make a repository, clone it, commit, push, revert.

The forge (a GitHub-like host in the sandbox, served by the real ``git http-backend``) answers at
``forge_url()``. A clone made here is a plain git repository a terminal can use too: its identity is set
in the repository only, ``git push`` finds the forge token through a credential helper that prints a
0600 file of the sandbox's state folder (the token never appears on screen or in ``.git/config``), and a
``pre-push`` hook runs the forge's own secret scanner before anything leaves the machine.
A refused push is a value (``Pushed.ok`` False, ``Pushed.refused`` the forge's reason), not a traceback.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ServiceError, UsageError
from ..sandbox.forge.scan import Finding
from ..sandbox.service import ensure_running

__all__ = [
    "Pushed",
    "Repo",
    "clone",
    "commit",
    "create_repo",
    "delete_repo",
    "forge_url",
    "head",
    "push",
    "remote_head",
    "revert",
    "revert_facts",
    "scan_file",
    "scan_history",
]

LEARNER = "learner"
ZERO = "0" * 40


@dataclass(frozen=True)
class Repo:
    """A repository on the forge, as its API describes it."""

    id: int
    name: str
    full_name: str
    owner: str
    clone_url: str
    default_branch: str
    private: bool
    empty: bool

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Repo:
        return cls(
            int(doc["id"]),
            doc["name"],
            doc["full_name"],
            doc["owner"]["login"],
            doc["clone_url"],
            doc["default_branch"],
            bool(doc["private"]),
            bool(doc["empty"]),
        )


@dataclass(frozen=True)
class Pushed:
    """What a push did: ``ok``, the commit pushed (``sha``), and when refused, the forge's reason."""

    ok: bool
    sha: str
    refused: str = ""

    def __str__(self) -> str:
        return f"pushed {self.sha[:7]}" if self.ok else f"push of {self.sha[:7]} refused:\n{self.refused}"


def forge_url() -> str:
    """The forge's base URL (``http://127.0.0.1:<port>/git``); the sandbox starts if need be."""
    return f"{ensure_running().base_url}/git"


def _credentials(user: str) -> Path:
    """The user's credential file (0600), made with the user's forge token when missing."""
    from ..sandbox.forge import tokens

    try:
        return tokens.ensure_credentials(ensure_running().state_dir, user)
    except KeyError:
        raise UsageError(
            f"{user!r} is not a sandbox user.", hint="Use 'learner', or make the user first: kube.add_user(name)."
        ) from None


def _helper(user: str) -> str:
    """git's credential helper: prints the user's credential file when git asks for it (``get``)."""
    path = shlex.quote(str(_credentials(user)))
    return f'!f() {{ test "$1" = get && cat {path}; }}; f'


def _api(method: str, path: str, user: str | None, body: dict[str, Any] | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if user is not None:
        fields = dict(line.split("=", 1) for line in _credentials(user).read_text().splitlines() if "=" in line)
        raw = f"{fields['username']}:{fields['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{forge_url()}/api/v1{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("message", "")
        except ValueError:
            message = exc.reason
        raise _ForgeError(exc.code, str(message)) from None


class _ForgeError(ServiceError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the forge answered {status}: {message}")
        self.status = status


def create_repo(name: str, *, private: bool = False, exist_ok: bool = True, user: str = LEARNER) -> Repo:
    """The repository ``<user>/<name>`` on the forge, made now (or the existing one when ``exist_ok``)."""
    try:
        return Repo.from_json(_api("POST", "/user/repos", user, {"name": name, "private": private}))
    except _ForgeError as exc:
        if exc.status == 409 and exist_ok:
            return Repo.from_json(_api("GET", f"/repos/{user}/{name}", user))
        if exc.status == 422:
            raise UsageError(str(exc), hint="Use letters, digits, '.', '_' or '-' (at most 100), no '.git'.") from None
        raise


def _git(workdir: Path | str, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    run_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    out = subprocess.run(
        ["git", *args], cwd=workdir, capture_output=True, text=True, timeout=300, env=run_env, stdin=subprocess.DEVNULL
    )
    if check and out.returncode != 0:
        raise UsageError(
            f"git {args[0]} failed in {workdir}: {out.stderr.strip()[-600:]}",
            hint="Read git's message above; `git status` in that folder shows where the clone stands.",
        )
    return out.stdout.strip()


PRE_PUSH = """#!/bin/sh
# The course's forge: scan what this push sends for secrets before it leaves the machine.
exec {python} -m lab_helpers.deploy.git pre-push "$@"
"""


def clone(
    repo_or_url: Repo | str,
    dest: Path | str,
    *,
    name: str = "Learner",
    email: str = "learner@example.org",
    user: str = LEARNER,
) -> Path:
    """Clone a forge repository into ``dest`` (a new or empty folder), ready to commit and push as ``user``.
    A clone of the same repository already there is returned as it is (a cell run twice)."""
    url = repo_or_url.clone_url if isinstance(repo_or_url, Repo) else str(repo_or_url)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        if (dest / ".git").is_dir():
            if _git(dest, "config", "--get", "remote.origin.url", check=False) == url:
                return dest
            raise UsageError(
                f"{dest} is a clone of another repository.", hint="Pick another folder, or delete this one first."
            )
        raise UsageError(f"{dest} is not empty.", hint="Clone into a new folder.")
    helper = _helper(user)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(
        dest.parent, "-c", "credential.helper=", "-c", f"credential.helper={helper}", "clone", "--quiet", url, str(dest)
    )
    for key, value in (
        ("user.name", name),
        ("user.email", email),
        ("credential.helper", ""),
        ("init.defaultBranch", "main"),
    ):
        _git(dest, "config", key, value)
    _git(dest, "config", "--add", "credential.helper", helper)
    if not _git(dest, "rev-parse", "--verify", "--quiet", "HEAD", check=False):
        _git(dest, "symbolic-ref", "HEAD", "refs/heads/main")
    hook = dest / ".git" / "hooks" / "pre-push"
    hook.write_text(PRE_PUSH.format(python=shlex.quote(sys.executable)))
    hook.chmod(0o755)
    return dest


def head(workdir: Path | str) -> str:
    """The commit checked out in ``workdir``."""
    return _git(workdir, "rev-parse", "HEAD")


def commit(workdir: Path | str, message: str, paths: list[str] | None = None) -> str:
    """Commit ``paths`` (default: every change, new files included) and return the new commit's sha."""
    _git(workdir, "add", "--all", "--", *(paths or ["."]))
    if not _git(workdir, "diff", "--cached", "--name-only"):
        raise UsageError(f"nothing to commit in {workdir}.", hint="Change or add a file first, then commit.")
    _git(workdir, "commit", "--quiet", "-m", message)
    return head(workdir)


def _reason(stderr: str) -> str:
    """The forge's (or the pre-push hook's) words from git's output, without git's own noise."""
    kept = []
    for line in stderr.splitlines():
        text = line.rstrip()
        if text.startswith("remote:"):
            text = text[len("remote:") :].strip()
            text = text[len("error: ") :] if text.startswith("error: ") else text
        elif text.startswith(("To ", "error: failed to push", "hint:")):
            continue
        kept.append(text)
    return "\n".join(kept).strip()


def push(workdir: Path | str, branch: str = "main") -> Pushed:
    """Push the checked-out commit to ``branch`` on the forge; a refusal comes back in ``Pushed.refused``."""
    sha = head(workdir)
    out = subprocess.run(
        ["git", "push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        stdin=subprocess.DEVNULL,
    )
    if out.returncode == 0:
        return Pushed(True, sha)
    status = [line for line in out.stdout.splitlines() if line.startswith("!")]
    reason = _reason(out.stderr) or "\n".join(status) or "the push failed"
    return Pushed(False, sha, reason)


def revert(workdir: Path | str, sha: str) -> str:
    """A new commit undoing ``sha`` (history kept, as the protected branch wants); returns its sha."""
    _git(workdir, "revert", "--no-edit", sha)
    return head(workdir)


def revert_facts(workdir: Path | str, sha: Any, bad: str) -> dict[str, Any]:
    """What git says of ``sha`` as a revert of ``bad`` in the clone ``workdir``: whether it is a commit, comes
    after ``bad``, and undoes every file ``bad`` changed (the tree of those files as before ``bad``); and whether
    it is the branch's newest commit. Read in the kernel while the clone exists: the grader judges it later."""
    facts: dict[str, Any] = {"commit": False, "after": False, "undone": False, "newest": False, "changed": []}
    if not isinstance(sha, str) or not sha.strip() or not Path(workdir).is_dir():
        return facts
    sha = sha.strip()
    facts["commit"] = bool(_git(workdir, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False))
    if not facts["commit"]:
        return facts
    facts["changed"] = _git(workdir, "diff", "--name-only", f"{bad}^", bad, check=False).split()
    ancestor = subprocess.run(
        ["git", "merge-base", "--is-ancestor", bad, sha], cwd=workdir, capture_output=True, timeout=60
    )
    facts["after"] = ancestor.returncode == 0 and not sha.startswith(bad) and not bad.startswith(sha)
    same = _git(workdir, "diff", "--name-only", f"{bad}^", sha, "--", *facts["changed"], check=False)
    facts["undone"] = bool(facts["changed"]) and same == ""
    facts["newest"] = head(workdir).startswith(sha) or sha.startswith(head(workdir))
    return facts


def _commit_findings(cwd: Path | str, sha: str) -> list[Finding]:
    """What the forge's scanner finds in the files commit ``sha`` adds or changes."""
    from ..sandbox.forge.scan import scan_text

    found = []
    changed = _git(cwd, "diff-tree", "--no-commit-id", "-r", "--root", "--name-only", "--diff-filter=AM", sha)
    for path in changed.splitlines():
        text = subprocess.run(["git", "show", f"{sha}:{path}"], cwd=cwd, capture_output=True, timeout=60).stdout
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            continue
        found += scan_text(path, decoded)
    return found


def _pre_push(remote: str, lines: list[str]) -> int:
    """The pre-push hook: scan the files added or changed by the commits this push sends."""
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) != 4 or parts[1] == ZERO:
            continue
        local = parts[1]
        commits = _git(".", "rev-list", local, "--not", f"--remotes={remote}", check=False).split()
        for sha in commits:
            found += [(f, sha) for f in _commit_findings(".", sha)]
    if not found:
        return 0
    print("Push stopped before it left this machine: the commits hold secrets.", file=sys.stderr)
    for finding, sha in sorted(set(found)):
        print(f"  - {finding.type}: {finding.path}:{finding.line} (commit {sha[:7]})", file=sys.stderr)
    print(
        "Remove the secret from those commits (git commit --amend, or commit again from a clean state), keep it in a\n"
        "Kubernetes Secret or an environment variable instead, and revoke it if it ever left this machine.",
        file=sys.stderr,
    )
    return 1


def remote_head(name: str, branch: str = "main", *, owner: str = LEARNER) -> str | None:
    """The commit ``branch`` of ``<owner>/<name>`` points to on the forge (None: no such repository or branch)."""
    url = f"{forge_url()}/{owner}/{name}.git"
    out = subprocess.run(
        ["git", "ls-remote", url, f"refs/heads/{branch}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        stdin=subprocess.DEVNULL,
    )
    return out.stdout.split()[0] if out.returncode == 0 and out.stdout.strip() else None


def scan_history(name: str, branch: str = "main", *, owner: str = LEARNER) -> list[Finding]:
    """What the forge's secret scanner finds in every commit of ``branch`` of ``<owner>/<name>`` on the forge
    (read from a fresh bare clone: what anyone who clones the repository gets)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="forge-scan-") as folder:
        bare = Path(folder) / "repo.git"
        _git(
            folder,
            "clone",
            "--quiet",
            "--bare",
            "--single-branch",
            "-b",
            branch,
            f"{forge_url()}/{owner}/{name}.git",
            str(bare),
        )
        return sorted({f for sha in _git(bare, "rev-list", branch).split() for f in _commit_findings(bare, sha)})


def scan_file(path: Path | str) -> list[str]:
    """What the forge's secret scanner finds in one file of a working copy (``path:line type``; never the value)."""
    from ..sandbox.forge.scan import scan_text

    file = Path(path)
    return [f"{file.name}:{f.line} {f.type}" for f in scan_text(file.name, file.read_text(encoding="utf-8"))]


def delete_repo(name: str, *, user: str = LEARNER) -> bool:
    """Delete ``<user>/<name>`` from the forge; False when it was not there."""
    try:
        _api("DELETE", f"/repos/{user}/{name}", user)
    except _ForgeError as exc:
        if exc.status == 404:
            return False
        raise
    return True


if __name__ == "__main__":
    if sys.argv[1:2] == ["pre-push"]:
        sys.exit(_pre_push(sys.argv[2] if len(sys.argv) > 2 else "origin", sys.stdin.read().splitlines()))
    print("usage: python -m lab_helpers.deploy.git pre-push REMOTE URL", file=sys.stderr)
    sys.exit(2)
