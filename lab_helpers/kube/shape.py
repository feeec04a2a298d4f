"""A Node as a cluster's VM makes it: its labels, taints, capacity and allocatable, from the VM's flavor.

What a kubelet registers for itself on a real node, the course registers for the sandbox's VMs
(the sandbox has no kubelet binary per VM): the well-known labels (hostname, os, arch, instance
type, region and zone), the control plane's role label and ``NoSchedule`` taint (as kubeadm sets
them), and on GPU flavors the labels NVIDIA's GPU feature discovery adds and the extended
resource ``nvidia.com/gpu`` that its device plugin advertises.

GPU taint: Jetstream2's documentation names none for GPU nodes; the course uses
``nvidia.com/gpu=present:NoSchedule`` (what GKE puts on its GPU nodes), so that only pods that
tolerate it, typically those requesting ``nvidia.com/gpu``, land on the expensive node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..marks import LABEL_CLUSTER, LABEL_NODE_GROUP, Marks
from ..sandbox.kubernetes.kinds import GIT_VERSION

__all__ = ["FlavorShape", "node_manifest"]

ROLE_CONTROL_PLANE, ROLE_WORKER, ROLE_GPU_WORKER = "control-plane", "worker", "gpu-worker"
ROLES = (ROLE_CONTROL_PLANE, ROLE_WORKER, ROLE_GPU_WORKER)
NODE_GROUPS = {ROLE_CONTROL_PLANE: "control-plane", ROLE_WORKER: "default-worker", ROLE_GPU_WORKER: "gpu-worker"}

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}
CONTROL_PLANE_TAINT = {"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}
# The GPU in Jetstream2's GPU nodes (data/jetstream2.yaml, host_types.gpu: an A100 40GB SXM4), named as
# GPU feature discovery names a GPU: nvidia-smi's product name with dashes for spaces. A g3 flavor is a
# slice of it; on the real cloud, discovery inside a vGPU slice may name the vGPU profile instead.
GPU_PRODUCT = "NVIDIA-A100-SXM4-40GB"
REGION, ZONE = "IU", "nova"  # Jetstream2's region and its one availability zone (data/jetstream2.yaml)
MAX_PODS = 110  # the kubelet's default
# The kubelet's default hard eviction thresholds, which it keeps out of allocatable.
EVICTION_MEMORY_KI = 100 * 1024
EVICTION_STORAGE_FRACTION = 0.10


@dataclass(frozen=True)
class FlavorShape:
    """What a Node takes from a Nova flavor."""

    name: str
    vcpus: int
    ram_mib: int
    disk_gb: int
    gpus: int = 0  # the flavor's ``resources:VGPU`` extra spec
    gpu_ram_gb: int = 0  # its ``trait:CUSTOM_A100_GPU_RAM_GB``

    @classmethod
    def of(cls, flavor: Any) -> FlavorShape:
        """From an openstacksdk Flavor (the one ``conn.compute.find_flavor`` returns, with extra specs)."""
        specs = dict(getattr(flavor, "extra_specs", None) or {})
        name = getattr(flavor, "original_name", None) or flavor.name
        return cls(
            str(name),
            int(flavor.vcpus),
            int(flavor.ram),
            int(flavor.disk),
            int(specs.get("resources:VGPU", 0) or 0),
            int(specs.get("trait:CUSTOM_A100_GPU_RAM_GB", 0) or 0),
        )

    def capacity(self) -> dict[str, str]:
        out = {
            "cpu": str(self.vcpus),
            "memory": f"{self.ram_mib * 1024}Ki",
            "ephemeral-storage": f"{self.disk_gb * 1024 * 1024}Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "pods": str(MAX_PODS),
        }
        if self.gpus:
            out[GPU_RESOURCE] = str(self.gpus)
        return out

    def allocatable(self) -> dict[str, str]:
        """Capacity less what the kubelet keeps back for eviction (100Mi of memory, 10 % of the disk)."""
        out = self.capacity()
        out["memory"] = f"{max(0, self.ram_mib * 1024 - EVICTION_MEMORY_KI)}Ki"
        out["ephemeral-storage"] = str(int(self.disk_gb * 1024**3 * (1 - EVICTION_STORAGE_FRACTION)))
        return out


def node_manifest(
    *,
    name: str,
    server_id: str,
    flavor: FlavorShape,
    role: str,
    cluster: str,
    marks: Marks,
    address: str = "",
    image: str = "Featured-Ubuntu22",
) -> dict[str, Any]:
    """The Node object for one cluster VM (``name`` is the VM's name, ``server_id`` its Nova id)."""
    if role not in ROLES:
        raise ValueError(f"unknown node role {role!r} (one of {', '.join(ROLES)})")
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": flavor.name,
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": ZONE,
        LABEL_CLUSTER: cluster,
        LABEL_NODE_GROUP: NODE_GROUPS[role],
        **marks.labels(),
    }
    taints: list[dict[str, str]] = []
    if role == ROLE_CONTROL_PLANE:
        labels[CONTROL_PLANE_LABEL] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        taints.append(dict(CONTROL_PLANE_TAINT))
    if flavor.gpus:
        labels.update(
            {
                f"{GPU_RESOURCE}.present": "true",
                f"{GPU_RESOURCE}.product": GPU_PRODUCT,
                f"{GPU_RESOURCE}.count": str(flavor.gpus),
                f"{GPU_RESOURCE}.memory": str(flavor.gpu_ram_gb * 1024),
            }
        )
        taints.append(dict(GPU_TAINT))
    addresses = [{"type": "InternalIP", "address": address}] if address else []
    addresses.append({"type": "Hostname", "address": name})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": marks.annotations()},
        "spec": {"providerID": f"openstack:///{server_id}", **({"taints": taints} if taints else {})},
        "status": {
            "capacity": flavor.capacity(),
            "allocatable": flavor.allocatable(),
            "addresses": addresses,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": server_id.replace("-", ""),
                "systemUUID": server_id,
                "bootID": server_id,
                "kernelVersion": "simulated (a sandbox VM runs no kernel of its own)",
                "osImage": f"{image} (simulated)",
                "containerRuntimeVersion": "sandbox://processes",
                "kubeletVersion": GIT_VERSION,
                "kubeProxyVersion": GIT_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }
