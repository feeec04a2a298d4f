"""The sandbox's Kubernetes cluster from the client side: create it from VMs, list it, delete it.

Labs call these from a notebook as ``lab_helpers.kube.create_cluster()``; ``lab cluster`` is the
same from a terminal. The cluster's VMs are ordinary marked VMs of the sandbox cloud (they cost
SUs, and ``lab cleanup`` removes them, Nodes first); its Nodes live in the sandbox's Kubernetes
API, which the learner reaches with the kubeconfig that ``lab sandbox env`` exports.
"""

from .client import ADMIN_CONTEXT, LEARNER_CONTEXT, api_client, kubeconfig, use_context
from .failures import delete_node_server, set_toleration_seconds, start_node, stop_node
from .lifecycle import DEFAULT_NAME, Cluster, ClusterDeleted, create_cluster, delete_cluster, list_clusters
from .nodes import node_states
from .records import ClusterRecord
from .shape import FlavorShape, node_manifest
from .users import add_user

__all__ = [
    "ADMIN_CONTEXT",
    "DEFAULT_NAME",
    "LEARNER_CONTEXT",
    "Cluster",
    "ClusterDeleted",
    "ClusterRecord",
    "FlavorShape",
    "add_user",
    "api_client",
    "create_cluster",
    "delete_cluster",
    "delete_node_server",
    "kubeconfig",
    "list_clusters",
    "node_manifest",
    "node_states",
    "sample_app",  # a module: lab 06 deploys the app's database and queue through it
    "set_toleration_seconds",
    "snapshot",  # a module: lab 05's picture reads the cluster through it
    "start_node",
    "stop_node",
    "use_context",
]
