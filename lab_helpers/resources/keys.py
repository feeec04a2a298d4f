"""A keypair's private half: the cloud hands it out once, at creation; keep it, never print it."""

from __future__ import annotations

import os
from pathlib import Path

from ..config import state_dir

__all__ = ["save_private_key"]


def _keys_dir() -> Path:
    path = state_dir() / "keys"
    path.mkdir(parents=True, exist_ok=True)
    if os.name != "nt":
        path.chmod(0o700)
    return path


def private_key_path(name: str) -> Path | None:
    """Where the private key of keypair ``name`` was saved, or None if this machine never got it."""
    path = _keys_dir() / f"{name}.pem"
    return path if path.exists() else None


def save_private_key(keypair) -> Path | None:
    """Save the private key a fresh ``create_keypair`` returned (mode 0600); None when there was none."""
    secret = getattr(keypair, "private_key", None)
    if not secret:
        return private_key_path(keypair.name)
    path = _keys_dir() / f"{keypair.name}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return path


def forget_private_key(name: str) -> None:
    """Delete the saved private key of a keypair that cleanup removed."""
    path = private_key_path(name)
    if path is not None:
        path.unlink(missing_ok=True)
