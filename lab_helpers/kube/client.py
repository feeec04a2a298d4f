"""The sandbox's Kubernetes API through the real ``kubernetes`` client, and its kubeconfig.

Reads ask for the raw JSON (``_preload_content=False``): what ``lab cluster`` needs is a few
fields, and it must keep working whatever optional fields a node's status carries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import SANDBOX
from ..errors import ServiceError
from ..sandbox.service import ensure_running, kube_env

if TYPE_CHECKING:  # pragma: no cover
    from kubernetes.client import ApiClient

__all__ = ["ADMIN_CONTEXT", "LEARNER_CONTEXT", "api_client", "kubeconfig", "read_json", "use_context"]

# The contexts the sandbox's kubeconfig holds (``sandbox.kubernetes.family`` writes them): the learner's is
# named after the sandbox's cluster, the operator's after its admin user.
LEARNER_CONTEXT = SANDBOX
ADMIN_CONTEXT = f"{SANDBOX}-admin"


def kubeconfig(*, start: bool = True) -> Path:
    """The sandbox's kubeconfig (mode 0600), written by the service when it starts (started here unless ``start=False``)."""
    root = ensure_running().state_dir if start else None
    return Path(kube_env(root)["KUBECONFIG"])


def api_client(*, admin: bool = False) -> ApiClient:
    """A client of the sandbox's Kubernetes API: the learner's context, or the admin's (nodes are the admin's)."""
    from kubernetes import config

    return config.new_client_from_config(
        config_file=str(kubeconfig()), context=ADMIN_CONTEXT if admin else LEARNER_CONTEXT, persist_config=False
    )


def read_json(response: Any) -> dict:
    """The body of a call made with ``_preload_content=False``, as JSON."""
    try:
        return json.loads(response.data or b"{}")
    except ValueError as exc:
        raise ServiceError(
            f"the sandbox's Kubernetes API answered something that is not JSON: {exc}",
            hint="Run `lab sandbox status`; if it persists, `lab sandbox stop` then `lab sandbox start`.",
        ) from None


def use_context(context: str = LEARNER_CONTEXT, path: Path | None = None) -> str:
    """Make ``context`` current in the kubeconfig (what ``kubectl config use-context`` does); return the old one."""
    import yaml

    path = path or kubeconfig()
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = [c.get("name") for c in doc.get("contexts") or []]
    if context not in names:
        raise ServiceError(
            f"the kubeconfig {path.name} has no context {context!r} (it has {', '.join(map(str, names)) or 'none'}).",
            hint="Restart the sandbox (`lab sandbox stop`, `lab sandbox start`): it writes its kubeconfig again.",
        )
    old = str(doc.get("current-context") or "")
    if old != context:
        doc["current-context"] = context
        tmp = path.with_suffix(".ctx.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(doc, fh, sort_keys=False)
        os.replace(tmp, path)
    return old
