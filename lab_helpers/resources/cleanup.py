"""Delete what the labs created, in the order the APIs require, and report what it stopped.

The order: the lab's namespaces in a sandbox cluster (emptied by the cluster, so that the CSI driver
deletes their claims' volumes while it still can), the cluster (its Nodes before its VMs, through
``lab_helpers.kube``), floating
IPs (they point at a server's port), attachments (a volume attached to a server cannot be
deleted), servers, ports a lab made itself, snapshots (a volume with snapshots cannot be
deleted), volumes, objects (a container must be empty), containers, security groups (one in use
by a server cannot be deleted), keypairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import ServiceError
from ..textreport import TextReport
from .inventory import Found, find

WAIT_S = 120.0


@dataclass(repr=False)
class CleanupReport(TextReport):
    removed: list[Found] = field(default_factory=list)
    failed: list[tuple[Found, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def su_per_hour_stopped(self) -> float:
        return sum(f.su_per_hour for f in self.removed if f.kind == "server")

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        out: list[str] = []
        objects: dict[str, int] = {}
        for f in self.removed:  # one line per container's objects, not one per object
            if f.kind == "object":
                objects[f.extra["container"]] = objects.get(f.extra["container"], 0) + 1
                continue
            if f.kind == "container" and f.name in objects:
                out.append(f"{verb}: {'objects':<15} {objects.pop(f.name)} in {f.name}")
            out.append(f"{verb}: {f.line()}")
        out += [f"{verb}: {'objects':<15} {n} in {name}" for name, n in objects.items()]
        out += [f"FAILED to remove {f.line()}: {why}" for f, why in self.failed]
        out += [f"not checked: {why}" for why in self.skipped]
        if not self.removed and not self.failed:
            out.append("nothing to clean up: no resource of yours carries the labs' marks")
        else:
            out.append(
                f"{len(self.removed)} resources {'would be removed' if self.dry_run else 'removed'}; "
                f"{self.su_per_hour_stopped:g} SU/hour {'would stop' if self.dry_run else 'stopped'}"
            )
        if self.failed:
            out.append(
                "Run `lab cleanup` again in a minute; if a resource stays, delete it in Horizon or ask the cloud's help desk."
            )
        return out


def _wait_gone(get, ident: str, timeout_s: float = WAIT_S) -> None:
    from openstack import exceptions

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            res = get(ident)
        except exceptions.ResourceNotFound:
            return
        if str(getattr(res, "status", "")).lower() in ("deleted", "soft_deleted"):
            return
        time.sleep(0.2)
    raise ServiceError(
        f"{ident} was still there {timeout_s:.0f} s after delete.", hint="Run `lab cleanup` again in a minute."
    )


def _wait_detached(conn, volume_id: str, timeout_s: float = WAIT_S) -> None:
    from openstack import exceptions

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            volume = conn.block_storage.get_volume(volume_id)
        except exceptions.ResourceNotFound:
            return
        if volume.status in ("available", "error") and not volume.attachments:
            return
        time.sleep(0.2)
    raise ServiceError(
        f"volume {volume_id} was still attached {timeout_s:.0f} s after detaching.",
        hint="Run `lab cleanup` again in a minute.",
    )


def _namespaces(learner: str | None, lab: str | None) -> list[Found]:
    """The namespaces of the sandbox's cluster that carry this learner's (and lab's) marks, as labels."""
    from kubernetes import client

    from ..kube.client import api_client, read_json
    from ..marks import LABEL_LAB, LABEL_LEARNER, slug

    wanted = [f"{LABEL_LEARNER}={slug(learner)}" if learner else LABEL_LEARNER]
    wanted.append(f"{LABEL_LAB}={lab}" if lab else LABEL_LAB)
    found = read_json(
        client.CoreV1Api(api_client(admin=True)).list_namespace(label_selector=",".join(wanted), _preload_content=False)
    )
    out = []
    for ns in found.get("items") or []:
        meta = ns.get("metadata") or {}
        labels = meta.get("labels") or {}
        out.append(
            Found("namespace", meta["name"], meta["name"], labels.get(LABEL_LAB, ""), labels.get(LABEL_LEARNER, ""))
        )
    return out


def _release_stranded(core, namespace: str) -> None:
    """Force-delete the namespace's pods on nodes that are not Ready (a node whose VM is gone can never confirm
    that they stopped; a cloud provider would delete such a Node and its pods with it)."""
    from ..kube.client import read_json
    from ..kube.nodes import READY, readiness

    try:
        nodes = read_json(core.list_node(_preload_content=False)).get("items") or []
    except Exception:  # no cluster's view of its nodes: leave the pods to the namespace's own deletion
        return
    ready = {n["metadata"]["name"] for n in nodes if readiness(n) == READY}
    pods = read_json(core.list_namespaced_pod(namespace, _preload_content=False)).get("items") or []
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and node not in ready:
            core.delete_namespaced_pod(
                pod["metadata"]["name"], namespace, grace_period_seconds=0, _preload_content=False
            )


def _delete_namespace(name: str, timeout_s: float = WAIT_S) -> None:
    """Delete a namespace and wait until the cluster has emptied and removed it (its pods stopped, its claims'
    volumes deleted by the CSI driver)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from ..kube.client import api_client

    core = client.CoreV1Api(api_client(admin=True))
    try:
        core.delete_namespace(name, _preload_content=False)
    except ApiException as exc:
        if exc.status == 404:
            return
        raise
    _release_stranded(core, name)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            core.read_namespace(name, _preload_content=False)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(0.3)
    raise ServiceError(
        f"namespace {name} was still terminating {timeout_s:.0f} s after delete.",
        hint=f"`kubectl get all -n {name}` shows what holds it; run `lab cleanup` again in a minute.",
    )


def _delete(conn, item: Found) -> None:
    from openstack import exceptions

    try:
        if item.kind == "namespace":
            _delete_namespace(item.name)
        elif item.kind == "cluster":
            from ..kube.lifecycle import delete_cluster

            delete_cluster(item.name, conn=conn, learner=item.learner)
        elif item.kind == "floating_ip":
            conn.network.delete_ip(item.id, ignore_missing=True)
        elif item.kind == "attachment":
            server, volume = item.extra["server_id"], item.extra["volume_id"]
            conn.compute.delete_volume_attachment(server, volume, ignore_missing=True)
            _wait_detached(conn, volume)
        elif item.kind == "server":
            conn.compute.delete_server(item.id, ignore_missing=True)
            _wait_gone(conn.compute.get_server, item.id)
        elif item.kind == "port":
            conn.network.delete_port(item.id, ignore_missing=True)
        elif item.kind == "snapshot":
            conn.block_storage.delete_snapshot(item.id, ignore_missing=True)
            _wait_gone(conn.block_storage.get_snapshot, item.id)
        elif item.kind == "volume":
            conn.block_storage.delete_volume(item.id, ignore_missing=True)
            _wait_gone(conn.block_storage.get_volume, item.id)
        elif item.kind == "object":
            conn.object_store.delete_object(
                item.extra["object"], container=item.extra["container"], ignore_missing=True
            )
        elif item.kind == "container":
            conn.object_store.delete_container(item.id, ignore_missing=True)
        elif item.kind == "security_group":
            conn.network.delete_security_group(item.id, ignore_missing=True)
        elif item.kind == "keypair":
            conn.compute.delete_keypair(item.id, ignore_missing=True)
            from .keys import forget_private_key

            forget_private_key(item.name)
    except exceptions.ResourceNotFound:
        pass  # already gone: the goal is reached


def cleanup(
    conn, *, learner: str | None, lab: str | None = None, dry_run: bool = False, expired_only: bool = False
) -> CleanupReport:
    """Remove every marked resource of ``learner`` (optionally of one lab), attachments first."""
    items = find(conn, learner=learner, lab=lab, expired_only=expired_only)
    report = CleanupReport(dry_run=dry_run, skipped=list(items.skipped))
    if not expired_only and any(item.kind == "cluster" for item in items):
        try:  # a cluster's namespaces go first, while its nodes can still stop their pods and free their volumes
            items[:0] = _namespaces(learner, lab)
        except Exception as exc:  # the cluster's API is gone (a sandbox reset): its volumes are still found below
            report.skipped.append(f"namespaces: the cluster's API did not answer ({type(exc).__name__})")
    for item in items:
        if dry_run:
            report.removed.append(item)
            continue
        try:
            _delete(conn, item)
            report.removed.append(item)
        except Exception as exc:  # keep going: one stuck resource must not strand the rest
            report.failed.append((item, f"{type(exc).__name__}: {exc}"))
    return report
