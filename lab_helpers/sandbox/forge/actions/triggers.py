"""Which pushes start a workflow: ``on.push`` with ``branches``, ``branches-ignore``, ``tags``,
``tags-ignore``, ``paths`` and ``paths-ignore``, matched the way GitHub's "Filter pattern cheat sheet"
documents them.

Patterns: ``*`` any run of characters but ``/``; ``**`` any run of characters; ``?`` zero or one of the
character before it; ``+`` one or more of it; ``[...]`` one character of a set or range; ``\\`` escapes;
a leading ``!`` excludes what earlier patterns included (order matters: the last matching pattern wins).
A branch push is filtered by ``branches``, a tag push by ``tags``; a workflow naming only one of them is
not started by the other kind; path filters are not evaluated for tag pushes, as on GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["Push", "filter_matches", "pattern_regex", "push_triggers"]

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Push:
    """What a workflow's trigger needs to know about one push."""

    ref: str  # refs/heads/main or refs/tags/v1.2.3
    before: str = ZERO_SHA
    after: str = ZERO_SHA
    changed: tuple[str, ...] = field(default_factory=tuple)  # files the push changed

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")

    @property
    def name(self) -> str:
        """The branch or tag name (``ref_name``)."""
        return self.ref.split("/", 2)[2] if self.ref.count("/") >= 2 else self.ref

    @property
    def deleted(self) -> bool:
        return self.after == ZERO_SHA


@lru_cache(maxsize=512)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """One filter pattern (without its leading ``!``) as a regular expression over the whole name."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c in "?+" and out:
            out.append(c)  # zero-or-one / one-or-more of the previous character, as GitHub documents
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def filter_matches(patterns: Sequence[str], name: str) -> bool:
    """Whether ``name`` is included by an ordered list of patterns (``!`` patterns exclude again)."""
    included = False
    for raw in patterns:
        raw = str(raw)
        negated = raw.startswith("!")
        if pattern_regex(raw[1:] if negated else raw).match(name):
            included = not negated
    return included


def _listed(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _paths_pass(spec: dict[str, Any], changed: Iterable[str]) -> tuple[bool, str]:
    files = list(changed)
    paths, ignore = _listed(spec.get("paths")), _listed(spec.get("paths-ignore"))
    if paths is not None:
        if not any(filter_matches(paths, f) for f in files):
            return False, "no changed file matches on.push.paths"
    if ignore is not None:
        if files and all(filter_matches(ignore, f) for f in files):
            return False, "every changed file matches on.push.paths-ignore"
    return True, ""


def push_triggers(on: Any, push: Push) -> tuple[bool, str]:
    """Whether a workflow's ``on:`` starts a run for ``push``, and why not (empty when it does)."""
    if push.deleted:
        return False, f"{push.ref} was deleted"
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = {str(k): None for k in on}
    if not isinstance(on, dict) or "push" not in on:
        return False, "the workflow has no push trigger"
    spec = on.get("push") or {}
    branches, branches_ignore = _listed(spec.get("branches")), _listed(spec.get("branches-ignore"))
    tags, tags_ignore = _listed(spec.get("tags")), _listed(spec.get("tags-ignore"))
    branch_filtered = branches is not None or branches_ignore is not None
    tag_filtered = tags is not None or tags_ignore is not None
    if push.is_tag:
        if branch_filtered and not tag_filtered:
            return False, "on.push filters branches only, and this is a tag"
        if tags is not None and not filter_matches(tags, push.name):
            return False, f"tag {push.name} matches no on.push.tags pattern"
        if tags_ignore is not None and filter_matches(tags_ignore, push.name):
            return False, f"tag {push.name} matches on.push.tags-ignore"
        return True, ""
    if tag_filtered and not branch_filtered:
        return False, "on.push filters tags only, and this is a branch"
    if branches is not None and not filter_matches(branches, push.name):
        return False, f"branch {push.name} matches no on.push.branches pattern"
    if branches_ignore is not None and filter_matches(branches_ignore, push.name):
        return False, f"branch {push.name} matches on.push.branches-ignore"
    return _paths_pass(spec, push.changed)
