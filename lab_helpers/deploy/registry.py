"""The sandbox registry's built images, from a notebook: which tags a workflow pushed, and waiting
for the one a push should produce.

The registry is ``registry.example`` (a reserved name, never resolved): the sandbox cluster's
kubelet reads its store under the sandbox's state directory, as a real kubelet pulls from
GHCR or Docker Hub. A tag here is what ``docker buildx imagetools inspect`` or the registry's web
page would list: its digest, when it was pushed, the labels the build set (the commit it was
built from among them, ``org.opencontainers.image.revision``, where the workflow sets it).
"""

from __future__ import annotations

import time

from ..errors import ResourceStateError, UsageError
from ..sandbox.kubernetes.kubelet.image_store import DOMAIN, TagInfo, list_tags
from ..sandbox.service import sandbox_dir

__all__ = ["DOMAIN", "TagInfo", "tags", "wait_for_tag"]


def tags(repository: str) -> list[TagInfo]:
    """The tags pushed to ``repository`` (``registry.example/learner/sample-app/api`` or
    ``learner/sample-app/api``), newest first; [] when nothing was pushed there."""
    try:
        return list_tags(sandbox_dir(), repository)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def wait_for_tag(repository: str, tag: str, timeout: float = 120.0, poll_s: float = 0.5) -> TagInfo:
    """Wait until ``repository:tag`` is pushed (a workflow's build usually takes a few seconds after
    the push) and return it; ResourceStateError naming the tags held when it does not come."""
    deadline = time.monotonic() + timeout
    while True:
        held = tags(repository)
        for info in held:
            if info.name == tag:
                return info
        if time.monotonic() >= deadline:
            newest = ", ".join(t.name for t in held[:10]) or "none"
            raise ResourceStateError(
                f"{repository}:{tag} was not pushed within {timeout:g} s (its tags, newest first: {newest}).",
                hint="Look at the workflow run that should have pushed it: lab ci runs, then lab ci logs RUN.",
            )
        time.sleep(poll_s)
