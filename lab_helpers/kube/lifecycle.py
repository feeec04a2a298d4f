"""The sandbox cluster, made the way Jetstream2 users make one: VMs first, then a Node for each.

``create_cluster`` launches one control-plane VM and N worker VMs (and optionally GPU workers) in
the sandbox cloud through openstacksdk, marked like every lab resource so that they cost SUs and
``lab cleanup`` finds them; waits until they are ACTIVE; registers each as a Node through the
Kubernetes API as the admin; waits until every Node is Ready (the sandbox kubelet's verdict);
and makes the learner's context current. ``delete_cluster`` removes the Nodes first, then the
VMs, then the record. On Jetstream2 itself a cluster comes from Magnum
(``openstack coe cluster create``) or Kubespray and takes about ten minutes; the sandbox's takes
its VMs' boot time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends import Backend, Sandbox, resolve
from ..errors import LabError, MissingPiece, ResourceStateError, UsageError
from ..marks import KEY_CLUSTER, KEY_CLUSTER_ROLE, KEY_LEARNER, TIME_FORMAT, Marks, parse, slug
from ..resources.cost import flavors, su_per_hour
from ..resources.inventory import server_rate
from ..textreport import TextReport
from .client import LEARNER_CONTEXT, api_client, kubeconfig, use_context
from .nodes import READY, delete_nodes, node_states, register_node, wait_ready
from .records import ClusterRecord, Member, all_records, forget, load, save
from .shape import ROLE_CONTROL_PLANE, ROLE_GPU_WORKER, ROLE_WORKER, FlavorShape, node_manifest

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection

__all__ = ["DEFAULT_NAME", "Cluster", "ClusterDeleted", "create_cluster", "delete_cluster", "list_clusters"]

DEFAULT_NAME = "k8s"
DEFAULT_LAB = "05"  # the first lab on the cluster; a notebook passes its own
CONTROL_FLAVOR, WORKER_FLAVOR, WORKERS, GPU_FLAVOR = "m3.small", "m3.medium", 2, "g3.small"
IMAGE, NETWORK = "Featured-Ubuntu22", "auto_allocated_network"
READY_TIMEOUT_S = 300.0
BOOT_TIMEOUT_S = 900.0  # as wait_for_active: a GPU VM on a busy cloud takes long
NAME_MAX = 20  # the cluster's name goes into every VM's and Node's name
Show = Callable[[str], None]


@dataclass(frozen=True)
class NodeRow:
    name: str
    role: str
    flavor: str
    vm: str  # the VM's status (ACTIVE, BUILD, ... or "gone")
    node: str  # Ready, NotReady, Unknown, or "not registered"
    su_per_hour: float


@dataclass(repr=False)
class Cluster(TextReport):
    """A sandbox cluster as it stands: its VMs, its Nodes, what it costs, and how to reach it."""

    name: str
    lab: str
    learner: str
    expires: str
    rows: list[NodeRow] = field(default_factory=list)
    kubeconfig: Path | None = None
    created_now: bool = False
    existed: bool = False  # a create found it already there
    ready_s: float | None = None

    @property
    def ready(self) -> bool:
        return bool(self.rows) and all(r.node == READY for r in self.rows)

    @property
    def su_per_hour(self) -> float:
        return sum(r.su_per_hour for r in self.rows if r.vm == "ACTIVE")

    @property
    def node_names(self) -> list[str]:
        return [r.name for r in self.rows]

    def lines(self) -> list[str]:
        ready = sum(r.node == READY for r in self.rows)
        if self.created_now and self.ready_s is not None:
            head = f"cluster {self.name}: created, {ready}/{len(self.rows)} nodes Ready after {self.ready_s:.1f} s"
        else:
            head = (
                f"cluster {self.name}: {'already exists, ' if self.existed else ''}{ready}/{len(self.rows)} nodes Ready"
            )
        out = [f"{head} (lab {self.lab}, learner {self.learner}, marked to expire {self.expires})"]
        width = max([len(r.name) for r in self.rows] + [4])
        out.append(f"  {'NODE':<{width}}  {'ROLE':<13} {'FLAVOR':<10} {'VM':<8} {'NODE STATUS':<14} SU/h")
        for r in self.rows:
            out.append(f"  {r.name:<{width}}  {r.role:<13} {r.flavor:<10} {r.vm:<8} {r.node:<14} {r.su_per_hour:g}")
        out.append(f"  {self.su_per_hour:g} SU per hour while its VMs are ACTIVE (each VM is metered like any other)")
        if self.kubeconfig is not None:
            out.append(
                f'kubectl context: {LEARNER_CONTEXT} (current). Try: eval "$(lab sandbox env)"; kubectl get nodes'
            )
        out.append(f"Delete it with: lab cluster delete --name {self.name}")
        return out


@dataclass(repr=False)
class ClusterDeleted(TextReport):
    name: str
    nodes: list[str] = field(default_factory=list)
    servers: list[tuple[str, float]] = field(default_factory=list)  # (VM name, SU/h it was burning)
    had_record: bool = False
    node_error: str = ""  # why its Nodes could not be deleted (its record is kept, to try again)

    @property
    def found(self) -> bool:
        return bool(self.nodes or self.servers or self.had_record)

    def lines(self) -> list[str]:
        if not self.found:
            return [f"cluster {self.name}: nothing to delete (no record, no Node, no VM of it)"]
        out = [f"deleted node:   {n}" for n in self.nodes]
        out += [f"deleted server: {n}  ({su:g} SU/h)" for n, su in self.servers]
        stopped = sum(su for _, su in self.servers)
        out.append(
            f"cluster {self.name}: deleted ({len(self.nodes)} nodes, {len(self.servers)} VMs; {stopped:g} SU/hour stopped)"
        )
        if self.node_error:
            out.append(
                f"its Nodes were NOT deleted ({self.node_error}); run `lab cluster delete --name {self.name}` again"
            )
        return out


# --- helpers ----------------------------------------------------------------------------------------


def _check_flavor(name: str, what: str) -> None:
    if name not in flavors():
        raise UsageError(f"unknown {what} flavor {name!r}.", hint=f"Jetstream2 flavors: {', '.join(flavors())}.")


def _check_name(name: str) -> None:
    if slug(name) != name or len(name) > NAME_MAX:
        raise UsageError(
            f"cluster name {name!r} is not usable in VM and Node names.",
            hint=f"Use lower-case letters, digits and dashes, at most {NAME_MAX} (e.g. {DEFAULT_NAME}).",
        )


def _address(server: Any) -> str:
    for addrs in (getattr(server, "addresses", None) or {}).values():
        for a in addrs:
            if a.get("OS-EXT-IPS:type", "fixed") == "fixed" and a.get("addr"):
                return str(a["addr"])
    return ""


def _servers_of(conn: Connection, name: str, learner: str | None) -> list[Any]:
    """The VMs whose metadata names cluster ``name`` (this learner's only, unless ``learner`` is None)."""
    out = []
    for server in conn.compute.servers(details=True):
        meta = dict(getattr(server, "metadata", None) or {})
        if meta.get(KEY_CLUSTER) != name:
            continue
        if learner is not None and parse(meta).get(KEY_LEARNER) != slug(learner):
            continue
        out.append(server)
    return out


def _state(conn: Connection, api: Any, record: ClusterRecord) -> Cluster:
    vms = {s.id: s for s in _servers_of(conn, record.name, record.learner)}
    nodes = node_states(api, record.name)
    rows = []
    for m in record.members:
        server = vms.get(m.server_id)
        status = str(server.status) if server is not None else "gone"
        rows.append(
            NodeRow(m.name, m.role, m.flavor, status, nodes.get(m.name, "not registered"), su_per_hour(m.flavor))
        )
    return Cluster(record.name, record.lab, record.learner, record.expires, rows)


def _wait_active(conn: Connection, servers: list[Any], cluster: str, show: Show | None) -> list[Any]:
    """Wait for every VM to be ACTIVE (they boot side by side); one line for all of them."""
    start = time.monotonic()
    backend = Sandbox()
    pending = {s.id: s for s in servers}
    done: dict[str, Any] = {}
    while pending:
        for sid in list(pending):
            server = conn.compute.get_server(sid)
            if server.status == "ACTIVE":
                done[sid] = server
                del pending[sid]
            elif server.status == "ERROR":
                fault = (
                    server.fault.get("message", "no reason given") if isinstance(server.fault, dict) else server.fault
                )
                raise ResourceStateError(
                    f"cluster {cluster}: VM {server.name} went to ERROR: {fault}",
                    hint=f"`lab cluster delete --name {cluster}` removes the cluster; fewer or smaller workers "
                    "fit a smaller quota.",
                )
            elif time.monotonic() - start > BOOT_TIMEOUT_S:
                raise ResourceStateError(
                    f"cluster {cluster}: VM {server.name} is still {server.status} after {BOOT_TIMEOUT_S:.0f} s.",
                    hint="Run `lab cluster create` again to keep waiting, or `lab cluster delete` to give up.",
                )
        if pending:
            time.sleep(max(0.1, backend.min_poll_s))
    if show:
        show(
            f"cluster {cluster}: {len(servers)} VMs ACTIVE after {time.monotonic() - start:.1f} s ({backend.usual_boot()})"
        )
    return [done[s.id] for s in servers]


def _live_others(conn: Connection, api: Any, name: str) -> list[ClusterRecord]:
    """Recorded clusters other than ``name`` that still have a VM or a Node (stale records are dropped)."""
    out = []
    for rec in all_records():
        if rec.name == name:
            continue
        if _servers_of(conn, rec.name, rec.learner) or node_states(api, rec.name):
            out.append(rec)
        else:
            forget(rec.name)
    return out


# --- the public functions ----------------------------------------------------------------------------


def create_cluster(
    name: str = DEFAULT_NAME,
    *,
    control_flavor: str = CONTROL_FLAVOR,
    worker_flavor: str = WORKER_FLAVOR,
    workers: int = WORKERS,
    gpu_flavor: str = GPU_FLAVOR,
    gpu_workers: int = 0,
    lab: str = DEFAULT_LAB,
    learner: str | None = None,
    image: str = IMAGE,
    timeout_s: float = READY_TIMEOUT_S,
    show: Show | None = print,
    backend: Backend | str | None = None,
    toleration_s: int | None = None,
) -> Cluster:
    """Create the sandbox's Kubernetes cluster (safe to call again: an existing one is returned as it is).

    One ``control_flavor`` control-plane VM, ``workers`` worker VMs of ``worker_flavor`` and
    ``gpu_workers`` of ``gpu_flavor`` (a g3 flavor), each marked for ``lab`` and ``learner``; returns
    once every Node is Ready, with the learner's context current in the sandbox's kubeconfig.
    ``backend`` (default: ``LAB_BACKEND``, else the sandbox) must be the sandbox: a live cluster is made
    on the real cloud. ``toleration_s`` sets the API server's default not-ready/unreachable toleration
    (the real default, 300 s, when None): how long new pods stay on a failed node before they are
    evicted and replaced (see ``failures.set_toleration_seconds``).
    """
    if not resolve(backend).starts_own_cloud:
        raise MissingPiece(
            "`lab cluster create` makes the sandbox's cluster; on the live backend the cluster is your own.",
            hint="On Jetstream2, create one with Magnum (openstack coe cluster create) or Kubespray, set KUBECONFIG "
            "to its kubeconfig, and run `lab doctor`.",
        )
    _check_name(name)
    for flavor, what in ((control_flavor, "control-plane"), (worker_flavor, "worker"), (gpu_flavor, "GPU")):
        _check_flavor(flavor, what)
    if workers < 0 or gpu_workers < 0:
        raise UsageError("worker counts cannot be negative.", hint="Use --workers 2 (the default) or more.")
    if workers + gpu_workers < 1:
        raise UsageError(
            "a cluster needs at least one worker: the control plane is tainted NoSchedule, so pods would stay Pending.",
            hint="Use --workers 1 or more (or --gpu-workers 1).",
        )
    marks = Marks.for_lab(lab, learner)
    conn = Sandbox().connect()
    try:
        api = api_client(admin=True)
        others = _live_others(conn, api, name)
        if others:
            raise UsageError(
                f"the sandbox already has cluster {others[0].name!r}; it serves one Kubernetes API, so one cluster.",
                hint=f"Use it, or delete it first: lab cluster delete --name {others[0].name}",
            )
        existing = load(name)
        if existing is not None:
            if _servers_of(conn, name, existing.learner):
                if toleration_s is not None:
                    from .failures import set_toleration_seconds

                    set_toleration_seconds(toleration_s, api=api)
                return _resume(conn, api, existing, timeout_s, show)
            forget(name)  # its VMs are gone (a sandbox reset): start over
            delete_nodes(api, name)
        if toleration_s is not None:
            from .failures import set_toleration_seconds

            set_toleration_seconds(toleration_s, api=api)
        return _create(
            conn,
            api,
            name,
            marks,
            control_flavor,
            worker_flavor,
            workers,
            gpu_flavor,
            gpu_workers,
            image,
            timeout_s,
            show,
        )
    finally:
        conn.close()


def _plan(name: str, control: str, worker: str, workers: int, gpu: str, gpus: int) -> list[tuple[str, str, str]]:
    """(role, flavor, what) for each VM: ``what`` goes into its name after the course's prefix."""
    plan = [(ROLE_CONTROL_PLANE, control, f"{name}-control-plane")]
    plan += [(ROLE_WORKER, worker, f"{name}-worker-{i}") for i in range(1, workers + 1)]
    plan += [(ROLE_GPU_WORKER, gpu, f"{name}-gpu-worker-{i}") for i in range(1, gpus + 1)]
    return plan


def _create(
    conn: Connection,
    api: Any,
    name: str,
    marks: Marks,
    control_flavor: str,
    worker_flavor: str,
    workers: int,
    gpu_flavor: str,
    gpu_workers: int,
    image_name: str,
    timeout_s: float,
    show: Show | None,
) -> Cluster:
    from openstack import exceptions

    start = time.monotonic()
    plan = _plan(name, control_flavor, worker_flavor, workers, gpu_flavor, gpu_workers)
    image = conn.image.find_image(image_name, ignore_missing=False)
    network = conn.network.find_network(NETWORK, ignore_missing=False)
    shapes = {f: FlavorShape.of(conn.compute.find_flavor(f, ignore_missing=False)) for _, f, _ in plan}
    if gpu_workers and not shapes[gpu_flavor].gpus:
        raise UsageError(f"{gpu_flavor} has no GPU.", hint="GPU workers take a g3 flavor (e.g. g3.small).")
    now = datetime.now(timezone.utc).strftime(TIME_FORMAT)
    record = ClusterRecord(name, marks.lab, marks.learner, marks.expires, now)
    save(record)
    servers = []
    for role, flavor, what in plan:
        vm = marks.name(what)
        try:
            server = conn.compute.create_server(
                name=vm,
                image_id=image.id,
                flavor_id=conn.compute.find_flavor(flavor, ignore_missing=False).id,
                networks=[{"uuid": network.id}],
                metadata={**marks.metadata(), KEY_CLUSTER: name, KEY_CLUSTER_ROLE: role},
            )
        except exceptions.SDKException as exc:
            raise ResourceStateError(
                f"cluster {name}: the cloud refused VM {vm} ({flavor}): {exc}",
                hint=f"`lab cluster delete --name {name}` removes what was created; fewer or smaller workers "
                "fit a smaller quota.",
            ) from None
        record.members.append(Member(role, server.id, vm, flavor))
        save(record)
        servers.append(server)
        if show:
            show(f"{vm}: {flavor} VM requested ({role})")
    servers = _wait_active(conn, servers, name, show)
    for (role, flavor, _), member, server in zip(plan, record.members, servers, strict=True):
        manifest = node_manifest(
            name=member.name,
            server_id=server.id,
            flavor=shapes[flavor],
            role=role,
            cluster=name,
            marks=marks,
            address=_address(server),
            image=image_name,
        )
        register_node(api, manifest)
    if show:
        show(f"cluster {name}: {len(plan)} nodes registered; waiting for the kubelet to report them Ready")
    wait_ready(api, name, [m.name for m in record.members], timeout_s=timeout_s, show=show)
    use_context(LEARNER_CONTEXT)
    state = _state(conn, api, record)
    state.created_now, state.ready_s, state.kubeconfig = True, time.monotonic() - start, kubeconfig()
    return state


def _resume(conn: Connection, api: Any, record: ClusterRecord, timeout_s: float, show: Show | None) -> Cluster:
    """An existing cluster as it is; a Node missing for an ACTIVE VM (a create that stopped half-way) is
    registered now and waited for."""
    vms = {s.id: s for s in _servers_of(conn, record.name, record.learner)}
    registered = node_states(api, record.name)
    added = []
    marks = Marks(record.lab, record.learner, record.expires)
    for m in record.members:
        server = vms.get(m.server_id)
        if m.name in registered or server is None or server.status != "ACTIVE":
            continue
        flavor = FlavorShape.of(conn.compute.find_flavor(m.flavor, ignore_missing=False))
        manifest = node_manifest(
            name=m.name,
            server_id=server.id,
            flavor=flavor,
            role=m.role,
            cluster=record.name,
            marks=marks,
            address=_address(server),
        )
        register_node(api, manifest)
        added.append(m.name)
    if added:
        if show:
            show(f"cluster {record.name}: {len(added)} missing nodes registered; waiting for them to be Ready")
        wait_ready(api, record.name, added, timeout_s=timeout_s, show=show)
    use_context(LEARNER_CONTEXT)
    state = _state(conn, api, record)
    state.kubeconfig, state.existed = kubeconfig(), True
    return state


def delete_cluster(
    name: str | None = None, *, conn: Connection | None = None, learner: str | None = None
) -> ClusterDeleted:
    """Delete a sandbox cluster: its Nodes first, then its VMs, then its record (none left is not an error).

    ``name`` defaults to the one recorded cluster (else ``k8s``); ``conn`` is an openstacksdk connection
    to use (``lab cleanup`` passes its own); ``learner`` (default: the record's) chooses whose VMs go.
    """
    from openstack import exceptions

    recorded = all_records()
    name = name or (recorded[0].name if len(recorded) == 1 else DEFAULT_NAME)
    record = load(name)
    who = learner if learner is not None else (record.learner if record else None)
    own = conn is None
    conn = conn or Sandbox().connect()
    report = ClusterDeleted(name, had_record=record is not None)
    try:
        servers = _servers_of(conn, name, who)
        ours = {s.id for s in servers}
        if record is not None and (not ours or ours & set(record.server_ids)):
            try:  # the sandbox's own API: only for a cluster it recorded
                report.nodes = delete_nodes(api_client(admin=True), name, [m.name for m in record.members])
            except LabError as exc:  # the VMs still go (they cost SUs); the record stays for another try
                report.node_error = str(exc)
        for server in servers:
            rate = server_rate(server)
            conn.compute.delete_server(server.id, ignore_missing=True)
            report.servers.append((server.name, rate))
        for server in servers:
            try:
                conn.compute.wait_for_delete(server, interval=0.2, wait=120)
            except exceptions.ResourceNotFound:
                pass
        if not report.node_error:
            forget(name)
    finally:
        if own:
            conn.close()
    return report


def list_clusters() -> list[Cluster]:
    """Every recorded sandbox cluster as it stands; records whose VMs and Nodes are all gone are dropped."""
    records = all_records()
    if not records:
        return []
    conn = Sandbox().connect()
    try:
        api = api_client(admin=True)
        out = []
        for rec in records:
            state = _state(conn, api, rec)
            if all(r.vm == "gone" for r in state.rows) and all(r.node == "not registered" for r in state.rows):
                forget(rec.name)
                continue
            out.append(state)
        return out
    finally:
        conn.close()
