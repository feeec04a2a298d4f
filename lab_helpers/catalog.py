"""The labs: found from the notebooks under ``labs/``, whose names start with two digits.

A lab's title, minutes and objectives live in the notebook's metadata
(``metadata.visualizing_compute``) so that the notebook is the single source.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError
from .paths import labs_dir

_NAME = re.compile(r"^(\d\d)-([a-z0-9-]+)\.ipynb$")
META_KEY = "visualizing_compute"


@dataclass(frozen=True)
class Lab:
    number: str
    slug: str
    title: str
    minutes: int
    path: Path
    objectives: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.number}-{self.slug}"


def _read(path: Path) -> Lab:
    m = _NAME.match(path.name)
    assert m, path
    with open(path, encoding="utf-8") as fh:
        meta = json.load(fh).get("metadata", {}).get(META_KEY, {})
    return Lab(
        number=m.group(1),
        slug=m.group(2),
        title=meta.get("title", m.group(2).replace("-", " ").capitalize()),
        minutes=int(meta.get("minutes", 0)),
        path=path,
        objectives=tuple(meta.get("objectives", ())),
    )


def all_labs(directory: Path | None = None) -> list[Lab]:
    folder = directory or labs_dir()
    return [_read(p) for p in sorted(folder.glob("*.ipynb")) if _NAME.match(p.name)]


def find_lab(key: str, directory: Path | None = None) -> Lab:
    """A lab by number ('1', '01'), full name ('01-one-a40') or slug ('one-a40')."""
    labs = all_labs(directory)
    wanted = key.strip().removesuffix(".ipynb")
    if wanted.isdigit():
        wanted = f"{int(wanted):02d}"
    for lab in labs:
        if wanted in (lab.number, lab.name, lab.slug):
            return lab
    valid = ", ".join(lab.number for lab in labs) or "none found"
    raise UsageError(f"unknown lab {key!r}.", hint=f"Valid labs: {valid} (see `lab list`).")
