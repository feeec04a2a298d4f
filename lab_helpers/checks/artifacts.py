"""The storage artifacts of the hierarchy, named once in ``data/artifacts.yaml``.

Lab 00 and lab 04 both ask where each artifact is stored; both read the names from here, so an
answer written for one lab is understood by the other. Matching ignores case, surrounding spaces
and repeated inner spaces, and accepts the spellings listed under ``also``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..paths import load_yaml

__all__ = ["canonical_artifact", "read_placement"]


@dataclass(frozen=True)
class Artifact:
    key: str  # stable identifier, e.g. "vm-boot-disk"
    name: str  # canonical name a learner's answer uses, e.g. "VM boot disk"
    page_name: str  # how the project's page lists it
    storage: str  # "object" | "block"
    also: tuple[str, ...] = ()


def _fold(text: object) -> str:
    return " ".join(str(text).split()).casefold()


@lru_cache(maxsize=1)
def artifacts() -> tuple[Artifact, ...]:
    """Every artifact, in the file's order."""
    raw = load_yaml("artifacts.yaml")["artifacts"]
    return tuple(
        Artifact(key, row["name"], row["page_name"], row["storage"], tuple(row.get("also", ())))
        for key, row in raw.items()
    )


def artifact_names() -> list[str]:
    """The canonical names, in order: the keys of an answer dict."""
    return [a.name for a in artifacts()]


def canonical_artifact(text: object) -> str | None:
    """The canonical name ``text`` stands for, or None when it names no artifact."""
    folded = _fold(text)
    for a in artifacts():
        if folded in {_fold(a.name), _fold(a.page_name), *(_fold(x) for x in a.also)}:
            return a.name
    return None


def storage_of() -> dict[str, str]:
    """{canonical name: "object" | "block"}, as the project's infrastructure stores each."""
    return {a.name: a.storage for a in artifacts()}


def answer_stub(fill: str = "?") -> dict[str, str]:
    """The shape of an answer: every canonical name mapped to ``fill``."""
    return {name: fill for name in artifact_names()}


STORAGE_WORDS = {
    "object": "object",
    "object storage": "object",
    "swift": "object",
    "s3": "object",
    "bucket": "object",
    "container": "object",
    "block": "block",
    "block storage": "block",
    "volume": "block",
    "cinder": "block",
}


def read_placement(answer: object):
    """Read ``{artifact: 'object' | 'block'}``: any case, outer spaces, the page's spellings.

    Returns ``({canonical name: 'object' | 'block'}, None)`` or ``(None, Verdict)`` saying what
    is wrong with the answer's form (not a dict, keys missing or unknown, a value that is neither).
    """
    from .answers import choice_answer, mapping_answer
    from .registry import Verdict

    found, problem = mapping_answer(answer, artifact_names(), canonical=canonical_artifact, what="artifact")
    if problem is not None:
        return None, problem
    assert found is not None, "mapping_answer gives the dict whenever it gives no problem"
    placed, bad = {}, []
    for name, value in found.items():
        kind, _ = choice_answer(value, STORAGE_WORDS)
        if kind is None:
            bad.append(f"{name}: {value!r}")
        placed[name] = kind
    if bad:
        return None, Verdict.no(f"Each value is 'object' or 'block'; not: {', '.join(bad)}.")
    return placed, None
