"""The forge family as the sandbox serves it: the JSON API and git's smart HTTP under ``/git`` on the main port,
a token per user made once, each user's credential file written when the port is known, and the background
work started once the service listens (push events handed to subscribers; the workflow runner)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from ..api import Family
from ..kubernetes.apiserver.auth import known_users
from ..store import Store
from . import actions, events, repos
from .routes import API, GIT
from .tokens import ensure_token, write_credentials


def prepare(store: Store) -> None:
    """A forge token for each sandbox user (made once; later users get theirs on first use)."""
    for user in known_users(store):
        ensure_token(store, user)


def announce(store: Store, state_dir: Path, urls: Mapping[str, str]) -> Path:
    """Each user's credential file (0600), which clones' credential helper prints to git; the hooks of every
    repository written again (so they run this install's Python after an upgrade)."""
    for user in known_users(store):
        write_credentials(store, state_dir, user)
    for info in repos.list_for(state_dir):
        repos.install_hooks(info.path)
    return repos.forge_dir(state_dir)


def start(store: Store, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
    """Push events recorded from now on go to subscribers; the workflow runner starts here."""
    events.start_publishing(store)
    actions.start(store, state_dir, urls)

    def stop_when_asked() -> None:
        stopping.wait()
        stop()

    threading.Thread(target=stop_when_asked, name="forge-stop", daemon=True).start()


def stop() -> None:
    """The forge's background work ends with the service."""
    actions.stop()


FORGE = Family("forge", (API, GIT), GIT, prepare, announce, start=start)
