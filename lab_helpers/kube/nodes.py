"""A cluster's Nodes through the Kubernetes API, as the admin: register, read readiness, delete.

The sandbox's kubelet keeps each Node's conditions (Ready while its VM is ACTIVE); the course
only registers the Node with what the VM's flavor gives it, as a kubelet does at its first start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ResourceStateError, ServiceError
from ..marks import LABEL_CLUSTER
from .client import read_json

__all__ = ["delete_nodes", "node_states", "register_node", "wait_ready"]

READY, NOT_READY, UNKNOWN = "Ready", "NotReady", "Unknown"
POLL_S = 0.2


def _core(api: Any) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api)


def _api_error(exc: Exception, what: str) -> ServiceError:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", "") or type(exc).__name__
    body = str(getattr(exc, "body", "") or "")[:300]
    return ServiceError(
        f"the sandbox's Kubernetes API refused to {what}: {status or ''} {reason} {body}".strip(),
        hint="Run `lab doctor`; if the API does not answer, `lab sandbox stop` then `lab sandbox start`.",
    )


def register_node(api: Any, manifest: dict) -> dict:
    """Create the Node (an existing one of that name is kept and returned); make sure its capacity is set."""
    from kubernetes.client.exceptions import ApiException

    core = _core(api)
    name = manifest["metadata"]["name"]
    try:
        node = read_json(core.create_node(body=manifest, _preload_content=False))
    except ApiException as exc:
        if exc.status != 409:
            raise _api_error(exc, f"create node {name}") from None
        node = read_json(core.read_node(name, _preload_content=False))
    if not (node.get("status") or {}).get("capacity"):  # an API server that drops status on create
        status = {k: manifest["status"][k] for k in ("capacity", "allocatable", "addresses", "nodeInfo")}
        try:
            node = read_json(core.patch_node_status(name, {"status": status}, _preload_content=False))
        except ApiException as exc:
            raise _api_error(exc, f"set the status of node {name}") from None
    return node


def readiness(node: dict) -> str:
    """READY, NOT_READY or UNKNOWN, from the Node's ``Ready`` condition as ``kubectl get nodes`` shows it."""
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return {"True": READY, "False": NOT_READY}.get(str(cond.get("status")), UNKNOWN)
    return UNKNOWN


def node_states(api: Any, cluster: str) -> dict[str, str]:
    """Each Node of ``cluster`` (by its label) and its readiness."""
    from kubernetes.client.exceptions import ApiException

    try:
        doc = read_json(_core(api).list_node(label_selector=f"{LABEL_CLUSTER}={cluster}", _preload_content=False))
    except ApiException as exc:
        raise _api_error(exc, "list nodes") from None
    return {item["metadata"]["name"]: readiness(item) for item in doc.get("items") or []}


def wait_ready(
    api: Any,
    cluster: str,
    names: list[str],
    *,
    timeout_s: float = 300.0,
    show: Callable[[str], None] | None = None,
) -> float:
    """Poll until every Node in ``names`` is Ready; return the seconds waited. Raise after ``timeout_s``."""
    start = time.monotonic()
    last = ""
    while True:
        states = node_states(api, cluster)
        waiting = [n for n in names if states.get(n) != READY]
        if not waiting:
            return time.monotonic() - start
        line = f"{len(names) - len(waiting)}/{len(names)} nodes Ready"
        if show and line != last:
            show(line)
            last = line
        if time.monotonic() - start > timeout_s:
            detail = ", ".join(f"{n} {states.get(n, 'not registered')}" for n in waiting)
            raise ResourceStateError(
                f"cluster {cluster}: {detail} after {timeout_s:.0f} s.",
                hint=f"Run `kubectl describe node {waiting[0]}` (its conditions say why); "
                f"`lab cluster delete --name {cluster}` removes the cluster.",
            )
        time.sleep(POLL_S)


def delete_nodes(api: Any, cluster: str, names: Iterable[str] = ()) -> list[str]:
    """Delete the Nodes in ``names`` and every other Node labelled with ``cluster``; return those deleted."""
    from kubernetes.client.exceptions import ApiException

    core = _core(api)
    doomed = sorted(set(names) | set(node_states(api, cluster)))
    gone = []
    for name in doomed:
        try:
            core.delete_node(name, _preload_content=False)
            gone.append(name)
        except ApiException as exc:
            if exc.status != 404:
                raise _api_error(exc, f"delete node {name}") from None
    return gone
