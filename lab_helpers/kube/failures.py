"""Failure drills on the sandbox's cluster: a node's machine stopped, started again or deleted from the
cloud (as a power cut, a reboot or a lost VM), and the cluster setting that says how long pods wait
on a failed node before they are evicted.

Kubernetes replaces a failed node's pods once their toleration of ``node.kubernetes.io/unreachable``
(or ``not-ready``) runs out: 300 s unless the pod says otherwise, or the API server's flags
``--default-not-ready-toleration-seconds`` / ``--default-unreachable-toleration-seconds`` set another
default. A kubeadm cluster records those flags in ``kube-system/kubeadm-config``; so does
:func:`set_toleration_seconds`, and the sandbox's API server reads them there for every new pod.
Pods made before the change keep the tolerations they were made with.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .client import api_client, read_json

__all__ = ["delete_node_server", "server_of_node", "set_toleration_seconds", "start_node", "stop_node"]

CONFIG_NAMESPACE, CONFIG_NAME = "kube-system", "kubeadm-config"
FLAGS = ("default-not-ready-toleration-seconds", "default-unreachable-toleration-seconds")
SIMULATED = "sandbox.visualizing-compute/simulated"


def set_toleration_seconds(seconds: int, *, api: Any = None) -> dict[str, str]:
    """Make new pods tolerate a not-ready or unreachable node for ``seconds`` (the real default is 300):
    the API server flags in the cluster's kubeadm-config. Returns the flags now set."""
    import yaml
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise UsageError(f"toleration seconds must be a whole number of seconds, 0 or more (got {seconds!r}).")
    core = client.CoreV1Api(api or api_client(admin=True))
    try:
        current = read_json(core.read_namespaced_config_map(CONFIG_NAME, CONFIG_NAMESPACE, _preload_content=False))
    except ApiException as exc:
        if exc.status != 404:
            raise
        current = None
    doc: dict[str, Any] = {}
    if current is not None:
        loaded = yaml.safe_load((current.get("data") or {}).get("ClusterConfiguration") or "") or {}
        doc = loaded if isinstance(loaded, dict) else {}
    doc.setdefault("apiVersion", "kubeadm.k8s.io/v1beta4")
    doc.setdefault("kind", "ClusterConfiguration")
    server = doc.setdefault("apiServer", {})
    args = server.get("extraArgs") or []
    if isinstance(args, dict):  # v1beta3 wrote a map
        args = [{"name": k, "value": str(v)} for k, v in args.items()]
    args = [a for a in args if isinstance(a, dict) and a.get("name") not in FLAGS]
    args += [{"name": flag, "value": str(seconds)} for flag in FLAGS]
    server["extraArgs"] = args
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIG_NAME,
            "namespace": CONFIG_NAMESPACE,
            "annotations": {
                SIMULATED: "kubeadm keeps its ClusterConfiguration here; the sandbox's API server has no flags "
                "and reads apiServer.extraArgs here at each pod's creation (a real one needs a restart)"
            },
        },
        "data": {**((current or {}).get("data") or {}), "ClusterConfiguration": yaml.safe_dump(doc, sort_keys=False)},
    }
    if current is None:
        core.create_namespaced_config_map(CONFIG_NAMESPACE, body)
    else:
        core.replace_namespaced_config_map(CONFIG_NAME, CONFIG_NAMESPACE, body)
    return {flag: str(seconds) for flag in FLAGS}


def server_of_node(node: str, *, api: Any = None) -> str:
    """The sandbox server id behind a Node (its ``spec.providerID`` is ``openstack:///<id>``)."""
    from kubernetes import client

    found = read_json(client.CoreV1Api(api or api_client(admin=True)).read_node(node, _preload_content=False))
    provider = (found.get("spec") or {}).get("providerID") or ""
    if not provider.startswith("openstack://"):
        raise UsageError(f"node {node} is not backed by a sandbox VM (providerID {provider!r}).")
    return provider.rsplit("/", 1)[-1]


def _compute(conn: Any) -> Any:
    if conn is None:
        from ..backends import Sandbox

        conn = Sandbox().connect()
    return conn.compute


def stop_node(node: str, *, conn: Any = None, api: Any = None) -> str:
    """Stop the node's VM (``openstack server stop``): the kubelet stops posting, the Node goes NotReady."""
    sid = server_of_node(node, api=api)
    _compute(conn).stop_server(sid)
    return sid


def start_node(node: str, *, conn: Any = None, api: Any = None) -> str:
    """Start the node's VM again: the Node comes back Ready and loses its taints."""
    sid = server_of_node(node, api=api)
    _compute(conn).start_server(sid)
    return sid


def delete_node_server(node: str, *, conn: Any = None, api: Any = None) -> str:
    """Delete the node's VM from the cloud (the Node object stays, Unknown, until someone deletes it)."""
    sid = server_of_node(node, api=api)
    _compute(conn).delete_server(sid)
    return sid
