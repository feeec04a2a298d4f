"""What must never be published: this machine's home folder, host name, checkout, temp folder and login
name, and anything that reads as a credential. Used on executed labs and on the built website alike.
A page (a notebook) must also carry no cell of the grader's key (tagged ``hidden-check`` or ``rubric``)."""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import tempfile
from pathlib import Path

from ..notebooks.authoring import KEY_TAGS

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
            text = path.read_text(encoding="utf-8", errors="replace")
            leaks = find_leaks(text)
            if path.suffix == ".ipynb":
                leaks += _notebook_key_cells(text)
            if leaks:
                found[str(path.relative_to(folder))] = leaks
    return found


def key_cells(nb: dict) -> list[str]:
    """The cells of a page's notebook that belong to the grader's key, e.g. ``cell 3f2a (rubric)``."""
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        tags = sorted(KEY_TAGS & set(cell.get("metadata", {}).get("tags", [])))
        if tags:
            found.append(f"cell {cell.get('id', index)} ({', '.join(tags)})")
    return found


def _notebook_key_cells(text: str) -> list[str]:
    try:
        nb = json.loads(text)
    except ValueError:
        return []
    return key_cells(nb) if isinstance(nb, dict) else []
