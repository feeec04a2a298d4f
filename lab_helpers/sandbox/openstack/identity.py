"""The sandbox's identities, which every OpenStack service reads: one project, a learner and an
admin, their secrets (made once per sandbox), and the token records Keystone issues."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from ..store import Store, now

DOMAIN = {"id": "default", "name": "Default"}
PROJECT_NAME = "sandbox"
ROLES = {
    "member": "9fe2ff9ee4384b1894a90878d3e92bab",
    "reader": "4a6f4a6d5b3c4f8e9c1d2e3f4a5b6c7d",
    "admin": "c2b7d1e0a6f94c0c8f7f2b1e3d4c5a6b",
}
# The cloud operator's project: it owns the public network and the Featured images.
ADMIN_PROJECT = "f0a4c8e2b1d34f6a9c7e5b3d1a2f4e6c"


def bootstrap(store: Store) -> dict[str, str]:
    """Create (once per sandbox) the project, the two users and their secrets."""
    ids: dict[str, str] = {}
    with store.tx():
        for key in ("project_id", "user_id", "admin_id", "app_cred_id", "app_cred_secret", "admin_password"):
            value = store.meta(key)
            if not value:
                value = secrets.token_urlsafe(24) if "secret" in key or "password" in key else uuid.uuid4().hex
                store.set_meta(key, value)
            ids[key] = value
    return ids


def check_token(store: Store, token_id: str) -> dict[str, Any] | None:
    """The token's record when it is valid now, else None."""
    if not token_id:
        return None
    tok = store.get("token", token_id)
    if not tok or tok["expires"] < now():
        return None
    return tok
