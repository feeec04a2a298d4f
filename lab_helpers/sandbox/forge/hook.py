"""The forge's server-side git hooks, run by ``git receive-pack`` in the repository:
``python -m lab_helpers.sandbox.forge.hook pre-receive|post-receive``.

``pre-receive`` refuses, before any ref moves: a force push or a deletion of the protected default branch
(worded like GitHub's protected branch rule), and any pushed commit that adds or changes a file holding a
secret (like GitHub's push protection: file, line, kind; never the secret). ``post-receive`` records one push
event per updated ref in the sandbox store. The hooks get no credentials: only the pusher's name
(``REMOTE_USER``) and the forge's own variables.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from .repos import DEFAULT_BRANCH, ZERO
from .scan import Finding, scan_tree

__all__ = ["main", "protection_errors", "pushed_files"]

MAX_FILES = 5000
SCAN_SECONDS = 120  # a push whose files take longer to scan is refused, never let through


def _git(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], input=stdin, capture_output=True, timeout=120)


def protection_errors(ref: str, before: str, after: str) -> list[str]:
    """Why the protected default branch refuses this update (empty when it may move)."""
    if ref != f"refs/heads/{DEFAULT_BRANCH}" or before == ZERO:
        return []
    if after == ZERO:
        return [
            f"GH006: Protected branch update failed for {ref}.",
            "Cannot delete this branch: it is the repository's protected default branch.",
        ]
    if _git("merge-base", "--is-ancestor", before, after).returncode != 0:
        return [
            f"GH006: Protected branch update failed for {ref}.",
            "Cannot force-push to this branch: the push would drop commits others already have.",
            "Fetch and merge (git pull --no-rebase), or undo with a new commit (git revert), then push again.",
        ]
    return []


def pushed_files(after: str) -> dict[tuple[str, str], str]:
    """(commit, path) -> text of each file added or changed by the commits new to the repository."""
    commits = _git("rev-list", after, "--not", "--all").stdout.decode().split()
    wanted: list[tuple[str, str, str]] = []  # commit, path, blob
    for commit in commits:
        out = _git("diff-tree", "--no-commit-id", "-r", "--root", "-z", "--diff-filter=AM", commit).stdout
        fields = out.split(b"\0")
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            parts = meta.decode().split()
            if len(parts) >= 4 and parts[1] != "160000":  # not a submodule
                wanted.append((commit, path.decode("utf-8", "replace"), parts[3]))
            if len(wanted) >= MAX_FILES:
                break
    texts: dict[str, str] = {}
    blobs = sorted({blob for _, _, blob in wanted})
    if blobs:
        out = _git("cat-file", "--batch", stdin="".join(f"{b}\n" for b in blobs).encode()).stdout
        pos = 0
        for blob in blobs:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) != 3:  # "<sha> missing"
                pos = end + 1
                continue
            size = int(header[2])
            body = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
            try:
                texts[blob] = body.decode("utf-8")
            except UnicodeDecodeError:
                texts[blob] = ""  # binary: nothing to scan
    return {(commit, path): texts.get(blob, "") for commit, path, blob in wanted}


def secret_errors(ref: str, after: str) -> list[str]:
    if after == ZERO:
        return []
    files = pushed_files(after)
    found: dict[Finding, str] = {}
    by_path: dict[str, list[str]] = {}
    for (commit, path), text in files.items():
        by_path.setdefault(path, []).append(commit)
        for finding in scan_tree({path: text}):
            found.setdefault(finding, commit)
    if not found:
        return []
    lines = [
        f"GH013: Repository rule violations found for {ref}.",
        "",
        "- PUSH PROTECTION: Push cannot contain secrets",
        "",
    ]
    for finding, commit in sorted(found.items()):
        lines.append(f"  - {finding.type}: {finding.path}:{finding.line} (commit {commit[:7]})")
    lines += [
        "",
        "Remove the secret from every commit that has it (amend the commit, or start it again), keep it out of",
        "git (a Kubernetes Secret, an environment variable, a file listed in .gitignore), and treat it as leaked:",
        "revoke it and make a new one. Then push again.",
    ]
    return lines


class _ScanTimeout(Exception):
    pass


def _secret_errors_within(updates: list[tuple[str, str, str]], seconds: int) -> list[str]:
    """``secret_errors`` for every update, or a refusal if scanning outlasts ``seconds`` (a crafted file)."""

    def stop(_signum: int, _frame: object) -> None:
        raise _ScanTimeout

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return [line for _before, after, ref in updates for line in secret_errors(ref, after)]
    except _ScanTimeout:
        return [
            f"GH013: Repository rule violations found for {updates[0][2]}.",
            "",
            f"- PUSH PROTECTION: the pushed files could not be scanned for secrets within {seconds} s.",
            "",
            "Push fewer or smaller files at a time (large data belongs in object storage, not git), then push again.",
        ]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pre_receive(updates: list[tuple[str, str, str]], scan_seconds: int = SCAN_SECONDS) -> int:
    errors: list[str] = []
    for before, after, ref in updates:
        errors += protection_errors(ref, before, after)
    if not errors and updates:
        errors += _secret_errors_within(updates, scan_seconds)
    for line in errors:
        print(f"error: {line}" if line.startswith("GH0") else line, file=sys.stderr)
    return 1 if errors else 0


def post_receive(updates: list[tuple[str, str, str]]) -> int:
    from ..store import Store
    from . import events

    state = os.environ.get("FORGE_STATE_DIR", "")
    owner, repo = os.environ.get("FORGE_OWNER", ""), os.environ.get("FORGE_REPO", "")
    if not (state and owner and repo):
        return 0
    store = Store(Path(state))
    try:
        for before, after, ref in updates:
            pusher = os.environ.get("REMOTE_USER", "")
            events.record(store, events.new_event(owner, repo, ref, before, after, pusher))
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    updates = []
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append((parts[0], parts[1], parts[2]))
    if args[:1] == ["pre-receive"]:
        return pre_receive(updates)
    if args[:1] == ["post-receive"]:
        return post_receive(updates)
    print(f"usage: python -m {__spec__.name if __spec__ else 'hook'} pre-receive|post-receive", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
