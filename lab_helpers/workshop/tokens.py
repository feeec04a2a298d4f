"""The workshop's two tokens, kept in its state folder (owner-only files).

- the instructor token signs the instructor in to the dashboard (printed at start, kept across
  restarts so a bookmarked link keeps working);
- the join token lets a learner's first result in; rotating it stops new learners joining with
  the old one, while learners who already joined go on with their own learner keys.

The dashboard's cookie holds an HMAC of the instructor token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

__all__ = ["Tokens"]

COOKIE = "workshop_session"


def _read_or_create(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    return _write(path, secrets.token_urlsafe(24))


def _write(path: Path, value: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    os.replace(tmp, path)
    return value


class Tokens:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.instructor = _read_or_create(self.folder / "instructor-token")
        self.join = _read_or_create(self.folder / "join-token")

    def rotate_join(self) -> str:
        """A new join token; the old one stops working for learners who have not joined yet."""
        self.join = _write(self.folder / "join-token", secrets.token_urlsafe(24))
        return self.join

    def session_value(self) -> str:
        return hmac.new(self.instructor.encode(), b"workshop dashboard session", hashlib.sha256).hexdigest()

    def is_instructor(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), self.instructor.encode())

    def is_session(self, cookie: str | None) -> bool:
        return bool(cookie) and hmac.compare_digest(str(cookie).encode(), self.session_value().encode())

    def is_join(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), self.join.encode())
