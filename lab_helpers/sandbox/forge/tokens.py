"""Forge tokens: one per sandbox user (store meta ``forge_token:<user>``, made once), used as the password
of HTTP Basic auth, as a GitHub personal access token is. The users are the sandbox's own (the learner, the
admin, and those ``lab_helpers.kube.add_user`` made)."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from pathlib import Path

from ..kubernetes.apiserver.auth import known_users
from ..store import Store

__all__ = ["ADMIN", "credentials_path", "ensure_token", "user_for_basic", "write_credentials"]

ADMIN = "sandbox-admin"


def ensure_token(store: Store, user: str) -> str:
    """The user's forge token, made on first use; KeyError for a user the sandbox does not know."""
    if user not in known_users(store):
        raise KeyError(f"{user!r} is not a sandbox user")
    key = f"forge_token:{user}"
    token = store.meta(key)
    if token:
        return token
    with store.tx():
        token = store.meta(key)
        if not token:
            token = "fgt_" + secrets.token_urlsafe(30)
            store.set_meta(key, token)
    return token


def user_for_basic(store: Store, header: str) -> str | None:
    """The user an ``Authorization: Basic`` (user + token) or ``token <t>`` header proves, else None."""
    scheme, _, value = header.partition(" ")
    value = value.strip()
    name, token = "", ""
    if scheme.lower() == "basic":
        try:
            name, _, token = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
    elif scheme.lower() in ("token", "bearer"):
        token = value
    if not token:
        return None
    for user in known_users(store):
        known = store.meta(f"forge_token:{user}")
        if known and hmac.compare_digest(known.encode(), token.encode()) and name in ("", user):
            return user
    return None


def credentials_path(state_dir: Path, user: str) -> Path:
    """The file a clone's credential helper prints (git's ``username=``/``password=`` lines), mode 0600."""
    return Path(state_dir) / "forge" / "credentials" / user


def write_credentials(store: Store, state_dir: Path, user: str) -> Path:
    """Write (again) the user's credential file, 0600 from its first byte."""
    path = credentials_path(state_dir, user)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"username={user}\npassword={ensure_token(store, user)}\n")
    os.replace(tmp, path)
    return path


def ensure_credentials(state_dir: Path, user: str) -> Path:
    """The user's credential file, written now when missing (a user added after the sandbox started); KeyError
    when the sandbox has no such user."""
    path = credentials_path(state_dir, user)
    if path.exists():
        return path
    store = Store(state_dir)
    try:
        if user not in known_users(store):
            raise KeyError(user)
        return write_credentials(store, state_dir, user)
    finally:
        store.close()
