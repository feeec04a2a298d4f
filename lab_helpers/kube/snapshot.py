"""One moment of a learner's cluster as a tree: hosts -> VMs -> nodes -> pods -> containers.

``take`` reads it live from the two APIs a learner already uses: the cloud (openstacksdk: the
cluster's VMs, the ``hostId`` Nova shows a project, the volumes behind claims) and the cluster
(the kubernetes client: Nodes, the namespace's Pods and PersistentVolumeClaims). The same call
works on the sandbox and on a live cluster: a Node is joined to its VM by ``spec.providerID``
(``openstack:///<server id>``, as the cloud provider sets it), else by name, else by address.

A snapshot is plain frozen data with ``to_dict``/``from_dict`` (JSON), so the states of a lab can
be saved with the notebook and drawn again without a cluster (``lab_helpers.viz.cluster``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import ServiceError, UsageError
from ..marks import KEY_CLUSTER, LABEL_CLUSTER, LABEL_NODE_GROUP

__all__ = ["Claim", "Container", "Host", "Node", "Pod", "Server", "Snapshot", "take"]

FORMAT = 1  # the version of to_dict's shape
# Placeholder hosts and VMs: what the picture shows where the cloud does not say (or no longer has it).
NO_CLOUD, VM_GONE, NOT_PLACED = "no cloud connection", "VM gone", "not placed"
UNKNOWN, DELETED = "UNKNOWN", "DELETED"  # a placeholder VM's status


@dataclass(frozen=True)
class Container:
    name: str
    image: str  # image:tag as the pod asks for it
    ready: bool
    restarts: int
    state: str  # Running, or the waiting/terminated reason (ContainerCreating, CrashLoopBackOff, Error, Completed)
    message: str = ""


@dataclass(frozen=True)
class Pod:
    name: str
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    status: str  # what `kubectl get pods` shows in STATUS (CrashLoopBackOff, ContainerCreating, Terminating...)
    owner_kind: str
    owner_name: str
    node: str  # "" while it is not scheduled
    containers: tuple[Container, ...] = ()
    message: str = ""  # why it is where it is (the scheduler's reason for a Pending pod)
    gpus: int = 0  # nvidia.com/gpu its containers request

    @property
    def ready(self) -> str:
        return f"{sum(c.ready for c in self.containers)}/{len(self.containers)}"

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers)


@dataclass(frozen=True)
class Node:
    name: str
    ready: str  # Ready, NotReady, Unknown
    role: str  # control-plane, or its node group (default-worker, gpu-worker), or "worker"
    taints: tuple[str, ...] = ()  # key=value:Effect
    cpu: str = ""  # allocatable, as the API writes it
    memory: str = ""
    gpus: int = 0
    provider_id: str = ""
    unschedulable: bool = False  # cordoned
    pods: tuple[Pod, ...] = ()

    @property
    def status(self) -> str:
        return f"{self.ready},SchedulingDisabled" if self.unschedulable else self.ready


@dataclass(frozen=True)
class Server:
    name: str
    id: str
    flavor: str
    status: str  # ACTIVE, BUILD, SHUTOFF, ERROR ... or UNKNOWN (no cloud connection) / DELETED (no longer in the cloud)
    addresses: tuple[str, ...] = ()
    nodes: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Host:
    host_id: str  # Nova's hostId: a hash of host and project, the same for two VMs on one host; "" if none
    label: str
    servers: tuple[Server, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A PersistentVolumeClaim and, where the cloud says, the block volume behind it."""

    name: str
    phase: str  # Pending, Bound, Lost
    size: str  # its capacity once bound, else what it asks for
    storage_class: str = ""
    volume: str = ""  # the PersistentVolume's name
    cloud_volume: str = ""  # the Cinder volume's id (the CSI volume handle)
    cloud_status: str = ""  # available, in-use ... ("" if not read)
    server: str = ""  # the VM it is attached to


@dataclass(frozen=True)
class Snapshot:
    label: str
    cluster: str
    namespace: str
    taken_at: str  # ISO 8601, UTC
    hosts: tuple[Host, ...] = ()
    unscheduled: tuple[Pod, ...] = ()
    claims: tuple[Claim, ...] = ()
    notes: tuple[str, ...] = ()  # what could not be read, and why

    # -- walking the tree ---------------------------------------------------------------------
    @property
    def servers(self) -> list[Server]:
        return [s for h in self.hosts for s in h.servers]

    @property
    def nodes(self) -> list[Node]:
        return [n for s in self.servers for n in s.nodes]

    @property
    def pods(self) -> list[Pod]:
        return [p for n in self.nodes for p in n.pods] + list(self.unscheduled)

    def summary(self) -> str:
        running = sum(p.status == "Running" for p in self.pods)
        ready = sum(n.ready == "Ready" for n in self.nodes)
        return (
            f"{self.label}: {len(self.hosts)} hosts, {len(self.servers)} VMs, {ready}/{len(self.nodes)} nodes Ready, "
            f"{running}/{len(self.pods)} pods Running, {len(self.claims)} claims"
        )

    def __str__(self) -> str:
        return self.summary()

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **json.loads(json.dumps(asdict(self)))}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Snapshot:
        if doc.get("format") != FORMAT:
            raise UsageError(
                f"this snapshot was saved in format {doc.get('format')!r}; this course reads format {FORMAT}.",
                hint="Take the snapshot again with lab_helpers.kube.snapshot.take(...).",
            )

        def containers(items: list) -> tuple[Container, ...]:
            return tuple(Container(**c) for c in items)

        def pods(items: list) -> tuple[Pod, ...]:
            return tuple(Pod(**{**p, "containers": containers(p["containers"])}) for p in items)

        def nodes(items: list) -> tuple[Node, ...]:
            return tuple(Node(**{**n, "taints": tuple(n["taints"]), "pods": pods(n["pods"])}) for n in items)

        def servers(items: list) -> tuple[Server, ...]:
            return tuple(Server(**{**s, "addresses": tuple(s["addresses"]), "nodes": nodes(s["nodes"])}) for s in items)

        return cls(
            label=doc["label"],
            cluster=doc["cluster"],
            namespace=doc["namespace"],
            taken_at=doc["taken_at"],
            hosts=tuple(Host(h["host_id"], h["label"], servers(h["servers"])) for h in doc["hosts"]),
            unscheduled=pods(doc["unscheduled"]),
            claims=tuple(Claim(**c) for c in doc["claims"]),
            notes=tuple(doc["notes"]),
        )


# -- reading the cluster ----------------------------------------------------------------------


def _api_error(exc: Exception, what: str) -> ServiceError:
    status = getattr(exc, "status", None) or ""
    reason = getattr(exc, "reason", "") or type(exc).__name__
    return ServiceError(
        f"the Kubernetes API refused to {what}: {status} {reason}".strip(),
        hint="Check that your kubeconfig's context is the cluster's (`kubectl config current-context`) "
        "and that the namespace exists (`kubectl get namespaces`).",
    )


def _list(call: Any, what: str, *args: Any, **kw: Any) -> list[dict]:
    from kubernetes.client.exceptions import ApiException

    try:
        response = call(*args, _preload_content=False, **kw)
    except ApiException as exc:
        raise _api_error(exc, what) from None
    return list(json.loads(response.data or b"{}").get("items") or [])


def _readiness(node: dict) -> str:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return {"True": "Ready", "False": "NotReady"}.get(str(cond.get("status")), "Unknown")
    return "Unknown"


def _node_role(labels: dict[str, str]) -> str:
    if "node-role.kubernetes.io/control-plane" in labels or "node-role.kubernetes.io/master" in labels:
        return "control-plane"
    return labels.get(LABEL_NODE_GROUP) or labels.get("magnum.openstack.org/role") or "worker"


def _taint(t: dict) -> str:
    value = f"={t['value']}" if t.get("value") else ""
    return f"{t.get('key', '')}{value}:{t.get('effect', '')}"


def _container_state(status: dict | None) -> tuple[str, str]:
    """(state, message) of one container as `kubectl get pods` words it."""
    if not status:
        return "Waiting", "not created yet"
    state = status.get("state") or {}
    if "running" in state:
        return "Running", ""
    if "waiting" in state:
        waiting = state["waiting"] or {}
        return str(waiting.get("reason") or "Waiting"), str(waiting.get("message") or "")
    if "terminated" in state:
        term = state["terminated"] or {}
        exit_code = term.get("exitCode")
        return str(term.get("reason") or f"ExitCode:{exit_code}"), f"exit code {exit_code}"
    return "Waiting", ""


def _pod_status(pod: dict, containers: tuple[Container, ...]) -> str:
    """The STATUS column of `kubectl get pods`: the most telling of the pod's and its containers' states."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating"
    if status.get("reason"):
        return str(status["reason"])  # Evicted, NodeLost ...
    phase = str(status.get("phase") or "Unknown")
    for cs in status.get("initContainerStatuses") or []:
        state, _ = _container_state(cs)
        if state not in ("Running", "Completed"):
            return f"Init:{state}"
    states = [c.state for c in containers if c.state != "Running"]
    waiting = [s for s in states if s not in ("Waiting", "Completed")]
    if waiting and phase != "Succeeded":
        return waiting[0]
    if phase == "Succeeded":
        return "Completed"
    return phase


def _gpus(spec: dict) -> int:
    total = 0
    for c in spec.get("containers") or []:
        limits = ((c.get("resources") or {}).get("limits")) or {}
        requests = ((c.get("resources") or {}).get("requests")) or {}
        total += int(limits.get("nvidia.com/gpu") or requests.get("nvidia.com/gpu") or 0)
    return total


def _pod(item: dict) -> Pod:
    meta, spec, status = item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}
    by_name = {cs.get("name"): cs for cs in status.get("containerStatuses") or []}
    containers = []
    for c in spec.get("containers") or []:
        cs = by_name.get(c.get("name"))
        state, message = _container_state(cs)
        containers.append(
            Container(
                name=str(c.get("name")),
                image=str(c.get("image") or ""),
                ready=bool(cs and cs.get("ready")),
                restarts=int((cs or {}).get("restartCount") or 0),
                state=state,
                message=message,
            )
        )
    owners = meta.get("ownerReferences") or []
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else {})
    message = str(status.get("message") or "")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            message = str(cond.get("message") or cond.get("reason") or message)
    return Pod(
        name=str(meta.get("name")),
        phase=str(status.get("phase") or "Unknown"),
        status=_pod_status(item, tuple(containers)),
        owner_kind=str(owner.get("kind") or ""),
        owner_name=str(owner.get("name") or ""),
        node=str(spec.get("nodeName") or ""),
        containers=tuple(containers),
        message=message,
        gpus=_gpus(spec),
    )


def _node(item: dict, pods: tuple[Pod, ...]) -> Node:
    meta, spec, status = item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}
    alloc = status.get("allocatable") or {}
    return Node(
        name=str(meta.get("name")),
        ready=_readiness(item),
        role=_node_role(meta.get("labels") or {}),
        taints=tuple(_taint(t) for t in spec.get("taints") or []),
        cpu=str(alloc.get("cpu") or ""),
        memory=str(alloc.get("memory") or ""),
        gpus=int(alloc.get("nvidia.com/gpu") or 0),
        provider_id=str(spec.get("providerID") or ""),
        unschedulable=bool(spec.get("unschedulable")),
        pods=pods,
    )


def _internal_ips(item: dict) -> set[str]:
    return {a.get("address") for a in (item.get("status") or {}).get("addresses") or [] if a.get("address")}


# -- reading the cloud ------------------------------------------------------------------------


@dataclass
class _Cloud:
    """The cluster's VMs as the project sees them, keyed for the three ways a Node names its VM."""

    servers: list[Any] = field(default_factory=list)
    by_id: dict[str, Any] = field(default_factory=dict)
    by_name: dict[str, Any] = field(default_factory=dict)
    by_address: dict[str, Any] = field(default_factory=dict)

    def match(self, node: dict) -> Any | None:
        provider = str((node.get("spec") or {}).get("providerID") or "")
        server_id = provider.rstrip("/").rpartition("/")[2]
        name = str((node.get("metadata") or {}).get("name") or "")
        found = self.by_id.get(server_id) or self.by_name.get(name)
        if found is None:
            found = next((self.by_address[a] for a in _internal_ips(node) if a in self.by_address), None)
        return found


def _addresses(server: Any) -> tuple[str, ...]:
    out = []
    for network, entries in (getattr(server, "addresses", None) or {}).items():
        for entry in entries or []:
            kind = entry.get("OS-EXT-IPS:type", "")
            out.append(f"{entry.get('addr')} ({network}{', ' + kind if kind else ''})")
    return tuple(out)


def _flavor_name(server: Any) -> str:
    flavor = getattr(server, "flavor", None) or {}
    flavor = flavor if isinstance(flavor, dict) else dict(flavor)
    return str(flavor.get("original_name") or flavor.get("name") or flavor.get("id") or "?")


def _read_cloud(conn: Any) -> _Cloud:
    cloud = _Cloud()
    try:
        cloud.servers = list(conn.compute.servers(details=True))
    except Exception as exc:  # noqa: BLE001 - the cloud's own error, reworded with what to do
        raise ServiceError(
            f"the cloud refused to list servers: {type(exc).__name__}: {str(exc)[:200]}",
            hint="Check the connection (`openstack server list` with the same OS_CLOUD), or pass conn=None "
            "to draw the cluster without its VMs.",
        ) from None
    for s in cloud.servers:
        cloud.by_id[s.id] = s
        cloud.by_name[s.name] = s
        for entries in (s.addresses or {}).values():
            for entry in entries or []:
                cloud.by_address[str(entry.get("addr"))] = s
    return cloud


def _server(s: Any, nodes: tuple[Node, ...]) -> Server:
    return Server(s.name, s.id, _flavor_name(s), str(s.status), _addresses(s), nodes)


def _claims(api: Any, conn: Any, namespace: str, server_names: dict[str, str], notes: list[str]) -> tuple[Claim, ...]:
    from kubernetes import client

    core = client.CoreV1Api(api)
    items = _list(core.list_namespaced_persistent_volume_claim, f"list claims in {namespace}", namespace)
    claims = []
    for item in items:
        meta, spec, status = item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}
        size = (status.get("capacity") or {}).get("storage") or ((spec.get("resources") or {}).get("requests") or {})
        size = size.get("storage", "") if isinstance(size, dict) else size
        pv_name = str(spec.get("volumeName") or "")
        handle = cloud_status = server = ""
        if pv_name:
            from kubernetes.client.exceptions import ApiException

            try:
                pv = json.loads(core.read_persistent_volume(pv_name, _preload_content=False).data or b"{}")
                pv_spec = pv.get("spec") or {}
                handle = str(
                    (pv_spec.get("csi") or {}).get("volumeHandle")
                    or (pv_spec.get("cinder") or {}).get("volumeID")
                    or ""
                )
            except ApiException as exc:
                notes.append(f"volume {pv_name} of claim {meta.get('name')}: not readable ({exc.status} {exc.reason})")
        if handle and conn is not None:
            try:
                vol = conn.block_storage.get_volume(handle)
                cloud_status = str(vol.status)
                attached = [a.get("server_id") for a in vol.attachments or []]
                server = ", ".join(server_names.get(a, a) for a in attached if a)
            except Exception as exc:  # noqa: BLE001 - a claim's volume in another project reads as a note
                notes.append(f"cloud volume {handle} of claim {meta.get('name')}: not readable ({type(exc).__name__})")
        claims.append(
            Claim(
                name=str(meta.get("name")),
                phase=str(status.get("phase") or "Pending"),
                size=str(size or ""),
                storage_class=str(spec.get("storageClassName") or ""),
                volume=pv_name,
                cloud_volume=handle,
                cloud_status=cloud_status,
                server=server,
            )
        )
    return tuple(claims)


def _host_label(host_id: str) -> str:
    return f"host {host_id[:8]}"


def take(conn: Any, api: Any, *, namespace: str, cluster: str, label: str) -> Snapshot:
    """The cluster ``cluster`` and namespace ``namespace`` as they are now, named ``label``.

    ``conn`` is an openstacksdk Connection (or None: VMs and hosts are then drawn as unknown); ``api``
    a kubernetes ApiClient whose user may list nodes and the namespace's pods and claims. Nodes are
    the cluster's (its ``visualizing-compute/cluster`` label on the sandbox; every node of a live
    cluster, whose nodes carry no such label) and any node one of the namespace's pods runs on.
    """
    from kubernetes import client

    core = client.CoreV1Api(api)
    notes: list[str] = []
    all_nodes = _list(core.list_node, "list nodes")
    pod_items = _list(core.list_namespaced_pod, f"list pods in {namespace}", namespace)
    pods = sorted((_pod(p) for p in pod_items), key=lambda p: (p.owner_name, p.name))
    used = {p.node for p in pods if p.node}
    labelled = [n for n in all_nodes if LABEL_CLUSTER in ((n.get("metadata") or {}).get("labels") or {})]
    node_items = [
        n
        for n in all_nodes
        if (not labelled or ((n.get("metadata") or {}).get("labels") or {}).get(LABEL_CLUSTER) == cluster)
        or (n.get("metadata") or {}).get("name") in used
    ]
    node_items.sort(key=lambda n: (n.get("metadata") or {}).get("name") or "")
    known = {(n.get("metadata") or {}).get("name") for n in node_items}
    for missing in sorted(used - known):  # a pod bound to a node the API no longer lists
        node_items.append({"metadata": {"name": missing}, "status": {}})
    if not node_items:
        notes.append(f"no node carries the label {LABEL_CLUSTER}={cluster}: is the cluster created?")

    cloud = _read_cloud(conn) if conn is not None else None
    if cloud is None:
        notes.append("no cloud connection: the VMs and hosts behind the nodes are not shown")

    # VM id -> its Nodes; a Node whose VM the cloud does not list gets a placeholder VM.
    on_server: dict[str, list[Node]] = {}
    placeholders: list[Server] = []
    matched: dict[str, Any] = {}
    for item in node_items:
        name = str(item["metadata"]["name"])
        node = _node(item, tuple(p for p in pods if p.node == name))
        server = cloud.match(item) if cloud is not None else None
        if server is not None:
            matched[server.id] = server
            on_server.setdefault(server.id, []).append(node)
        else:
            flavor = ((item.get("metadata") or {}).get("labels") or {}).get("node.kubernetes.io/instance-type", "?")
            server_id = node.provider_id.rstrip("/").rpartition("/")[2]
            status = UNKNOWN if cloud is None else DELETED
            placeholders.append(Server(name, server_id, str(flavor), status, (), (node,)))
    if cloud is not None:  # the cluster's VMs without a Node yet (booting, or their Node deleted)
        for s in cloud.servers:
            if (s.metadata or {}).get(KEY_CLUSTER) == cluster and s.id not in matched:
                matched[s.id] = s

    hosts: dict[str, list[Server]] = {}
    for s in sorted(matched.values(), key=lambda s: s.name):
        hosts.setdefault(str(getattr(s, "host_id", "") or ""), []).append(_server(s, tuple(on_server.get(s.id, []))))
    host_list = [Host(hid, _host_label(hid), tuple(servers)) for hid, servers in sorted(hosts.items()) if hid]
    if hosts.get(""):
        host_list.append(Host("", NOT_PLACED, tuple(hosts[""])))
    if placeholders:
        host_list.append(Host("", NO_CLOUD if cloud is None else VM_GONE, tuple(placeholders)))

    server_names = {s.id: s.name for s in matched.values()}
    return Snapshot(
        label=label,
        cluster=cluster,
        namespace=namespace,
        taken_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        hosts=tuple(host_list),
        unscheduled=tuple(p for p in pods if not p.node),
        claims=_claims(api, conn, namespace, server_names, notes),
        notes=tuple(notes),
    )
