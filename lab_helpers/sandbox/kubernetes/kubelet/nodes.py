"""Node status, as each node's kubelet posts it: conditions (Ready follows the node's VM), addresses,
``nodeInfo``, capacity where nobody has set it, the images it has pulled, and a heartbeat.

The node's first InternalIP is a loopback address of its own (``network.node_ip``), so a
NodePort answers on it; an address the cluster's maker gave (the VM's fixed IP) follows it.
``nodeInfo`` fields the maker set are kept; the kubelet fills in the rest.

A node is a sandbox VM when its ``spec.providerID`` is ``openstack:///<server id>``: it is Ready
while that server is ACTIVE; when the server stops or is deleted its kubelet "stops posting", so
the conditions become Unknown (``NodeStatusUnknown``) and its pods' processes stop (the machine is
down). A node without a providerID (made by hand, or by tests) is Ready.

Simulated timing: the sandbox sees a stopped VM within about 2 s; a real control plane marks a node
Unknown only after its node-monitor grace period without heartbeats (40-50 s). What follows (the
unreachable taints, eviction after the pods' toleration) runs as in a real cluster.
"""

from __future__ import annotations

import hashlib
import platform
import time
from typing import Any

from ...events import status_at
from ..objects import Objects, rfc3339
from ..resources import GIT_VERSION, resource_for
from . import network
from .network import NODES
from .process import SIMULATED_KEY

HEARTBEAT_S = 10.0  # how often a Ready node's conditions are re-posted (the kubelet's default)
RUNTIME_VERSION = "sandbox://process"  # containers are processes (see the pods' simulated annotation)
KUBELET_PORT = 10250
CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def server_of(objects: Objects, node: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """(server id, its document) of a node backed by a sandbox VM; ("", None) for a node without one."""
    provider = node.get("spec", {}).get("providerID") or ""
    if not provider.startswith("openstack://"):
        return "", None
    sid = provider.rsplit("/", 1)[-1]
    return sid, objects.store.get("server", sid)


def machine_state(objects: Objects, node: dict[str, Any]) -> tuple[str, str]:
    """("up"|"booting"|"down", why) for the node's machine."""
    sid, server = server_of(objects, node)
    if not sid:
        return "up", ""
    if server is None:
        return "down", f"its VM {sid} is gone"
    state = status_at(server, time.time())
    if state == "ACTIVE":
        return "up", ""
    if state == "BUILD":
        return "booting", f"its VM {sid} is BUILD"
    return "down", f"its VM {sid} is {state}"


def _ident(name: str, what: str) -> str:
    return hashlib.sha256(f"{what}:{name}".encode()).hexdigest()[:32]


def node_info(name: str, uid: str) -> dict[str, str]:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    system_uuid = _ident(uid or name, "system")
    return {
        "machineID": _ident(uid or name, "machine"),
        "systemUUID": f"{system_uuid[:8]}-{system_uuid[8:12]}-{system_uuid[12:16]}-{system_uuid[16:20]}-{system_uuid[20:]}",
        "bootID": _ident(uid or name, "boot"),
        "kernelVersion": platform.release(),
        "osImage": "Sandbox Linux (containers are local processes)",
        "containerRuntimeVersion": RUNTIME_VERSION,
        "kubeletVersion": GIT_VERSION,
        "kubeProxyVersion": "",
        "operatingSystem": "linux",
        "architecture": arch,
    }


def default_capacity(server: dict[str, Any] | None) -> dict[str, str]:
    flavor = (server or {}).get("flavor") or {}
    cpu = int(flavor.get("vcpus") or 2)
    mem_mib = int(flavor.get("ram") or 4096)
    disk_gib = int(flavor.get("disk") or 20)
    return {
        "cpu": str(cpu),
        "memory": f"{mem_mib * 1024}Ki",
        "ephemeral-storage": f"{disk_gib * 1024 * 1024}Ki",
        "pods": "110",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }


def _condition(
    old: list[dict[str, Any]], kind: str, state: str, reason: str, message: str, beat: str
) -> dict[str, Any]:
    prev = next((c for c in old if c.get("type") == kind), None)
    same = prev is not None and prev.get("status") == state
    return {
        "type": kind,
        "status": state,
        "lastHeartbeatTime": beat if state != "Unknown" or prev is None else prev.get("lastHeartbeatTime", beat),
        "lastTransitionTime": prev.get("lastTransitionTime", beat) if same and prev else beat,
        "reason": reason,
        "message": message,
    }


def desired_status(
    objects: Objects, node: dict[str, Any], images: list[dict[str, Any]], beat: str, simulated: str
) -> dict[str, Any]:
    """The node's status as its kubelet would post it now (``beat``: the heartbeat time to use)."""
    name = node["metadata"]["name"]
    old = dict(node.get("status") or {})
    old_conditions = old.get("conditions") or []
    state, why = machine_state(objects, node)
    conditions = []
    for kind, reason, message in CONDITIONS:
        if state == "down":
            conditions.append(
                _condition(
                    old_conditions, kind, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", beat
                )
            )
        else:
            conditions.append(_condition(old_conditions, kind, "False", reason, message, beat))
    if state == "up":
        ready = _condition(old_conditions, "Ready", "True", "KubeletReady", "kubelet is posting ready status", beat)
    elif state == "booting":
        ready = _condition(
            old_conditions, "Ready", "False", "KubeletNotReady", f"container runtime is not running yet: {why}", beat
        )
    else:
        ready = _condition(
            old_conditions,
            "Ready",
            "Unknown",
            "NodeStatusUnknown",
            f"Kubelet stopped posting node status ({why}).",
            beat,
        )
    conditions.append(ready)
    index = network.node_index(objects, name)
    _, server = server_of(objects, node)
    out = dict(old)
    out["conditions"] = conditions
    mine = {"type": "InternalIP", "address": network.node_ip(index)}
    others = [a for a in old.get("addresses") or [] if a != mine and a.get("type") != "Hostname"]
    out["addresses"] = [mine, *others, {"type": "Hostname", "address": name}]
    out["daemonEndpoints"] = {"kubeletEndpoint": {"Port": KUBELET_PORT}}
    info = node_info(name, node["metadata"].get("uid", ""))
    info.update({k: v for k, v in (old.get("nodeInfo") or {}).items() if v})  # what the cluster's maker said stays
    out["nodeInfo"] = info
    capacity = out.get("capacity") or default_capacity(server)
    out["capacity"] = capacity
    out.setdefault("allocatable", dict(capacity))
    out["images"] = images
    return out


def sync(objects: Objects, name: str, images: list[dict[str, Any]], simulated: str, force_beat: bool) -> str:
    """Post one node's status if it changed (or a heartbeat is due); returns its machine state."""
    with objects.store.tx():
        node = objects.get(NODES, "", name)
        if node is None:
            return "down"
        old_conditions = (node.get("status") or {}).get("conditions") or []
        last = next((c.get("lastHeartbeatTime") for c in old_conditions if c.get("type") == "Ready"), None)
        beat = rfc3339()
        new = desired_status(objects, node, images, beat, simulated)
        if not force_beat and last:
            probe = desired_status(objects, node, images, last, simulated)
            if probe == (node.get("status") or {}):
                return machine_state(objects, node)[0]
        spec = node.setdefault("spec", {})
        index = network.node_index(objects, name)
        changed_spec = False
        if not spec.get("podCIDR"):
            spec["podCIDR"] = network.pod_cidr(index)
            spec["podCIDRs"] = [spec["podCIDR"]]
            changed_spec = True
        annotations = node["metadata"].setdefault("annotations", {})
        if annotations.get(SIMULATED_KEY) != simulated:
            annotations[SIMULATED_KEY] = simulated
            changed_spec = True
        if new != (node.get("status") or {}) or changed_spec:
            node["status"] = new
            objects.update(NODES, node, check_rv=False)
        return machine_state(objects, node)[0]


LEASE_DURATION_S = 40


def renew_lease(objects: Objects, name: str) -> None:
    """The node's heartbeat Lease in ``kube-node-lease`` (``kubectl describe node`` shows it), renewed
    as the kubelet renews it; nothing where the API serves no Lease kind."""
    leases = resource_for("coordination.k8s.io", "v1", "leases")
    if leases is None:
        return
    now = time.time()
    micro = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int((now % 1) * 1e6):06d}Z"
    with objects.store.tx():
        node = objects.get(NODES, "", name)
        if node is None:
            return
        lease = objects.get(leases, "kube-node-lease", name)
        if lease is None:
            owner = {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"].get("uid", "")}
            objects.create(
                leases,
                {
                    "metadata": {"name": name, "namespace": "kube-node-lease", "ownerReferences": [owner]},
                    "spec": {
                        "holderIdentity": name,
                        "leaseDurationSeconds": LEASE_DURATION_S,
                        "renewTime": micro,
                    },
                },
            )
        else:
            lease.setdefault("spec", {})["renewTime"] = micro
            objects.update(leases, lease, check_rv=False)
