"""The nodes area's rules without a sandbox: where a daemon pod should run, the tolerations and pin it
gets, a disruption budget's percentages, and the API server flags read from a kubeadm ClusterConfiguration."""

from __future__ import annotations

import pytest

from lab_helpers.sandbox.kubernetes.apiserver.admission import default_tolerations
from lab_helpers.sandbox.kubernetes.controllers.daemonset import daemon_pod_spec, should_run
from lab_helpers.sandbox.kubernetes.controllers.disruption import SyncFailed, allowed_condition, scaled


def _node(name="n1", labels=None, taints=None, ready="True", unschedulable=False):
    spec = {"taints": taints or []}
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


def _ds(spec=None):
    return {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}], **(spec or {})}}}}


def test_daemon_pods_get_the_real_tolerations_and_pin():
    spec = daemon_pod_spec(
        {"tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                          "tolerationSeconds": 10}], "hostNetwork": True},
        "worker-1",
    )  # fmt: skip
    keys = [(t["key"], t["effect"], t.get("tolerationSeconds")) for t in spec["tolerations"]]
    assert keys == [
        ("node.kubernetes.io/not-ready", "NoExecute", None),
        ("node.kubernetes.io/unreachable", "NoExecute", None),  # the daemon's own, without a time limit
        ("node.kubernetes.io/disk-pressure", "NoSchedule", None),
        ("node.kubernetes.io/memory-pressure", "NoSchedule", None),
        ("node.kubernetes.io/pid-pressure", "NoSchedule", None),
        ("node.kubernetes.io/unschedulable", "NoSchedule", None),
        ("node.kubernetes.io/network-unavailable", "NoSchedule", None),
    ]
    required = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["worker-1"]}]}]
    }
    assert "network-unavailable" not in str(daemon_pod_spec({}, None)["tolerations"])


@pytest.mark.parametrize(
    ("node", "template", "expected"),
    [
        (_node(), {}, (True, True)),
        (_node(unschedulable=True), {}, (True, True)),  # cordoned: the daemon tolerates it
        (_node(ready="Unknown"), {}, (False, True)),  # unreachable NoSchedule: no new pod, the old one stays
        (_node(taints=[{"key": "gpu", "effect": "NoSchedule"}]), {}, (False, True)),
        (_node(taints=[{"key": "gpu", "effect": "NoExecute"}]), {}, (False, False)),
        (_node(taints=[{"key": "gpu", "effect": "NoSchedule"}]), {"tolerations": [{"key": "gpu", "operator": "Exists"}]},
         (True, True)),
        (_node(labels={"disk": "hdd"}), {"nodeSelector": {"disk": "ssd"}}, (False, False)),
        (_node(labels={"disk": "ssd"}), {"nodeSelector": {"disk": "ssd"}}, (True, True)),
        (_node(), {"nodeName": "other"}, (False, False)),
    ],
)  # fmt: skip
def test_where_a_daemon_pod_runs(node, template, expected):
    assert should_run(_ds(template), node) == expected


def test_budget_percentages_round_up():
    assert scaled("50%", 3) == 2
    assert scaled("34%", 3) == 2
    assert scaled("0%", 5) == 0
    assert scaled(2, 10) == 2
    with pytest.raises(SyncFailed):
        scaled("half", 4)
    assert allowed_condition(1, 3)["reason"] == "SufficientPods"
    cond = allowed_condition(0, 3)
    assert (cond["status"], cond["reason"], cond["observedGeneration"]) == ("False", "InsufficientPods", 3)


def test_api_server_flags_from_kubeadm():
    v1beta4 = """
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
  - name: default-not-ready-toleration-seconds
    value: "20"
"""
    v1beta3 = "apiServer:\n  extraArgs:\n    default-unreachable-toleration-seconds: '40'\n"
    assert default_tolerations.api_server_flags(v1beta4) == {"default-not-ready-toleration-seconds": "20"}
    assert default_tolerations.api_server_flags(v1beta3) == {"default-unreachable-toleration-seconds": "40"}
    assert default_tolerations.api_server_flags(": not yaml: [") == {}
    assert default_tolerations.api_server_flags("") == {}
