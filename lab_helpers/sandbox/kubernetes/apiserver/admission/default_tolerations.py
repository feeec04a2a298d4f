"""Admission plugin: DefaultTolerationSeconds, with the cluster's own setting.

Every new pod tolerates ``node.kubernetes.io/not-ready`` and ``node.kubernetes.io/unreachable``
(NoExecute) for 300 s unless it says otherwise: a failed node's pods are replaced elsewhere five
minutes later. A real API server takes other values from its flags
``--default-not-ready-toleration-seconds`` and ``--default-unreachable-toleration-seconds``; a
kubeadm cluster keeps its API server's flags in the ConfigMap ``kube-system/kubeadm-config``
(``ClusterConfiguration``: ``apiServer.extraArgs``). The sandbox reads the same place, at each pod's
creation (as if the API server had been restarted with the new flags):
``lab_helpers.kube.create_cluster(toleration_s=30)`` writes it, and
``kubectl -n kube-system get configmap kubeadm-config -o yaml`` shows it.

Only the tolerations the defaults added change (Exists, NoExecute, 300 s): a pod that names its own
``tolerationSeconds`` keeps it (one that spells out exactly the default, 300 s, is taken for it).
"""

from __future__ import annotations

from typing import Any

from ...resources import by_plural
from .request import Request

CONFIGMAPS = by_plural("configmaps")
KUBEADM_CONFIG = ("kube-system", "kubeadm-config")
DEFAULT_S = 300
FLAGS = {
    "node.kubernetes.io/not-ready": "default-not-ready-toleration-seconds",
    "node.kubernetes.io/unreachable": "default-unreachable-toleration-seconds",
}


def api_server_flags(cluster_configuration: str) -> dict[str, str]:
    """``apiServer.extraArgs`` of a kubeadm ClusterConfiguration (v1beta4's list of name/value, or v1beta3's map)."""
    import yaml

    try:
        doc = yaml.safe_load(cluster_configuration) or {}
    except yaml.YAMLError:
        return {}
    extra: Any = ((doc if isinstance(doc, dict) else {}).get("apiServer") or {}).get("extraArgs") or {}
    if isinstance(extra, dict):
        return {str(k): str(v) for k, v in extra.items()}
    if isinstance(extra, list):
        return {str(a.get("name")): str(a.get("value")) for a in extra if isinstance(a, dict) and a.get("name")}
    return {}


def toleration_seconds(objects: Any) -> dict[str, int]:
    """The default tolerationSeconds per taint key, as the cluster's API server flags set them."""
    out = dict.fromkeys(FLAGS, DEFAULT_S)
    config = objects.get(CONFIGMAPS, *KUBEADM_CONFIG)
    if config is None:
        return out
    flags = api_server_flags(str((config.get("data") or {}).get("ClusterConfiguration") or ""))
    for key, flag in FLAGS.items():
        try:
            out[key] = max(0, int(flags[flag]))
        except (KeyError, ValueError):
            pass
    return out


def mutate(req: Request) -> None:
    if req.res.kind != "Pod" or req.old is not None or req.sub:
        return
    tolerations = (req.obj.get("spec") or {}).get("tolerations")
    if not isinstance(tolerations, list):
        return
    wanted = toleration_seconds(req.objects)
    if all(v == DEFAULT_S for v in wanted.values()):
        return
    for tol in tolerations:
        if (
            isinstance(tol, dict)
            and tol.get("key") in wanted
            and tol.get("operator") == "Exists"
            and tol.get("effect") == "NoExecute"
            and tol.get("tolerationSeconds") == DEFAULT_S
            and "value" not in tol
        ):
            tol["tolerationSeconds"] = wanted[tol["key"]]


def validate(req: Request) -> None:
    return None
