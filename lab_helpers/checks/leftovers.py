"""What a lab that deploys through the GitOps controller left behind: shared by labs 06 and 07's state checks."""

from __future__ import annotations

from typing import Any

__all__ = ["gitops_leftovers"]


def gitops_leftovers(conn: Any, lab: str) -> dict:
    """``{"left": [...], "not_checked": [...]}``: the lab's marked cloud resources, its Applications, its namespace."""
    from ..marks import Marks
    from ..resources.inventory import find

    marks = Marks.for_lab(lab)
    found = find(conn, learner=marks.learner, lab=lab)
    left = [f"{f.kind} {f.name or f.id}" for f in found]
    try:
        from kubernetes import client

        from ..deploy import gitops
        from .lab05 import cluster_api

        left += [f"Application {name}" for name in gitops.application_names()]
        try:
            client.CoreV1Api(cluster_api()).read_namespace(marks.name("app"))
            left.append(f"namespace {marks.name('app')}")
        except client.ApiException as exc:
            if exc.status != 404:
                raise
    except Exception:  # no cluster left to ask: its objects went with it
        pass
    return {"left": left, "not_checked": list(found.skipped)}
