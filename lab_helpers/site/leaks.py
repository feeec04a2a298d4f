"""What must never be published: this machine's home folder, host name, checkout, temp folder and login
name, and anything that reads as a credential. Used on executed labs and on the built website alike."""

from __future__ import annotations

import getpass
import os
import re
import socket
import tempfile
from pathlib import Path

# Words a lab may say on its own, so a login name that is one of them is not searched for.
GENERIC_USERS = frozenset({"root", "user", "jovyan", "runner", "learner"})
CREDENTIAL = re.compile(r"application_credential_secret|BEGIN [A-Z ]*PRIVATE KEY")
TEXT_SUFFIXES = (".html", ".js", ".json", ".txt", ".ipynb", ".md", ".css", ".svg", ".inv")


def _needles() -> set[str]:
    from ..paths import course_root

    checkout_parent = str(course_root().resolve().parent)
    return {str(Path.home()), socket.gethostname(), checkout_parent + os.sep, tempfile.gettempdir() + os.sep}


def find_leaks(text: str) -> list[str]:
    """The leaked things found in ``text`` (empty when it is clean), each named by what leaked."""
    found = [needle for needle in sorted(_needles()) if needle and len(needle) > 3 and needle in text]
    user = getpass.getuser()
    if len(user) > 3 and user not in GENERIC_USERS and re.search(rf"\b{re.escape(user)}\b", text):
        found.append(user)
    if CREDENTIAL.search(text):
        found.append("a credential")
    return found


def scan_folder(folder: Path) -> dict[str, list[str]]:
    """Every text file under ``folder`` that leaks something: {path relative to the folder: what leaked}."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name.endswith(TEXT_SUFFIXES):
            leaks = find_leaks(path.read_text(encoding="utf-8", errors="replace"))
            if leaks:
                found[str(path.relative_to(folder))] = leaks
    return found
