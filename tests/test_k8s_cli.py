"""The `lab` command for the sandbox's Kubernetes cluster, as a learner uses it from a shell:
`lab sandbox env` then the course's kubectl and helm; `lab cluster create | list | delete` making
VMs that are Nodes; `lab cleanup` removing a cluster; `lab doctor` describing it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import lab_command

from lab_helpers.kube.shape import GPU_PRODUCT, FlavorShape, node_manifest
from lab_helpers.marks import Marks

LEARNER = "learner"  # conftest's LAB_LEARNER
PREFIX = f"course-{LEARNER}-05-k8s-"
DEFAULT_NODES = [f"{PREFIX}control-plane", f"{PREFIX}worker-1", f"{PREFIX}worker-2"]


# --- the Node a flavor makes (no sandbox needed) -------------------------------------------------------


def test_a_worker_node_takes_its_capacity_and_labels_from_the_flavor():
    marks = Marks("05", LEARNER, "2030-01-01T00:00:00Z")
    medium = FlavorShape("m3.medium", vcpus=8, ram_mib=30 * 1024, disk_gb=60)
    node = node_manifest(name="w1", server_id="abc-1", flavor=medium, role="worker", cluster="k8s", marks=marks)
    assert node["spec"] == {"providerID": "openstack:///abc-1"}  # no taint on a CPU worker
    status = node["status"]
    assert status["capacity"] == {
        "cpu": "8",
        "memory": f"{30 * 1024 * 1024}Ki",
        "ephemeral-storage": f"{60 * 1024 * 1024}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "pods": "110",
    }
    assert status["allocatable"]["memory"] == f"{30 * 1024 * 1024 - 100 * 1024}Ki"  # the kubelet's eviction reserve
    assert status["allocatable"]["cpu"] == "8" and "nvidia.com/gpu" not in status["allocatable"]
    labels = node["metadata"]["labels"]
    assert labels["node.kubernetes.io/instance-type"] == "m3.medium" and labels["kubernetes.io/hostname"] == "w1"
    assert labels["topology.kubernetes.io/region"] == "IU" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["visualizing-compute/learner"] == LEARNER and labels["visualizing-compute/cluster"] == "k8s"
    assert node["metadata"]["annotations"] == {"visualizing-compute/expires": "2030-01-01T00:00:00Z"}
    assert "node-role.kubernetes.io/control-plane" not in labels


def test_the_control_plane_and_a_gpu_node_are_labelled_and_tainted():
    marks = Marks("05", LEARNER, "2030-01-01T00:00:00Z")
    small = FlavorShape("m3.small", 2, 6 * 1024, 20)
    control = node_manifest(name="cp", server_id="s1", flavor=small, role="control-plane", cluster="k8s", marks=marks)
    assert control["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert control["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    gpu = FlavorShape("g3.small", 4, 15 * 1024, 60, gpus=1, gpu_ram_gb=5)
    node = node_manifest(name="g1", server_id="s2", flavor=gpu, role="gpu-worker", cluster="k8s", marks=marks)
    labels = node["metadata"]["labels"]
    assert labels["nvidia.com/gpu.present"] == "true" and labels["nvidia.com/gpu.product"] == GPU_PRODUCT
    assert labels["nvidia.com/gpu.memory"] == "5120"
    assert node["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert node["status"]["capacity"]["nvidia.com/gpu"] == "1" == node["status"]["allocatable"]["nvidia.com/gpu"]
    with pytest.raises(ValueError, match="unknown node role"):
        node_manifest(name="x", server_id="s", flavor=gpu, role="boss", cluster="k8s", marks=marks)


def test_the_contexts_are_those_the_sandbox_writes():
    from lab_helpers.kube import ADMIN_CONTEXT, LEARNER_CONTEXT
    from lab_helpers.sandbox.kubernetes.family import ADMIN_USER, CLUSTER_NAME

    assert (LEARNER_CONTEXT, ADMIN_CONTEXT) == (CLUSTER_NAME, ADMIN_USER) == ("sandbox", "sandbox-admin")


def test_the_gpu_product_is_the_gpu_of_jetstream2s_gpu_nodes():
    from lab_helpers.paths import load_yaml

    model = load_yaml("jetstream2.yaml")["host_types"]["gpu"]["gpu_model"]
    assert all(word in GPU_PRODUCT for word in ("A100", "40GB", "SXM4")) and all(
        word in model for word in ("A100", "40GB", "SXM4")
    )


# --- a learner's shell against a sandbox ------------------------------------------------------------


@pytest.fixture(scope="module")
def shell(tmp_path_factory, k8s_tools) -> dict[str, str]:
    """A state directory with the course's tools installed and a sandbox running; the environment of a
    shell that has not yet run `eval "$(lab sandbox env)"`."""
    state = tmp_path_factory.mktemp("k8s-cli")
    (state / "bin").mkdir()
    for name in ("kubectl", "helm"):
        os.link(k8s_tools / name, state / "bin" / name)  # what `lab tools install` leaves, without a download
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "KUBE", "HELM_"))}
    env.update(
        LAB_STATE_DIR=str(state),
        LAB_SANDBOX_BOOT_S="0.2",
        LAB_POD_START_S="0.2",
        LAB_LEARNER=LEARNER,
        HOME=str(state),
        PATH=os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"]),
    )
    env.pop("LAB_BACKEND", None)
    with pytest.MonkeyPatch.context() as mp:
        for key in ("LAB_STATE_DIR", "LAB_SANDBOX_BOOT_S", "LAB_POD_START_S", "LAB_LEARNER"):
            mp.setenv(key, env[key])
        for key in ("KUBECONFIG", "OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "LAB_BACKEND"):
            mp.delenv(key, raising=False)
        from lab_helpers import sandbox

        sandbox.start()
        try:
            yield env
        finally:
            sandbox.stop()


def lab(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    if args[:2] == ("cluster", "create"):
        args = (*args, "--timeout", "60")  # a Node never Ready fails the test in a minute, saying which
    return subprocess.run([*lab_command(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def in_bash(env: dict[str, str], script: str) -> subprocess.CompletedProcess:
    """``script`` after ``eval "$(lab sandbox env)"``, in bash, as a learner types it."""
    lab_cmd = " ".join(lab_command())
    full = f'eval "$({lab_cmd} sandbox env)"\n{script}'
    return subprocess.run(["bash", "-c", full], env=env, capture_output=True, text=True, timeout=120)


def kubectl_json(env: dict[str, str], *args: str) -> dict:
    done = in_bash(env, "kubectl " + " ".join(args) + " -o json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cloud_servers() -> list:
    """The learner's VMs, through openstacksdk (what `openstack server list` shows)."""
    from lab_helpers.backends import Sandbox

    conn = Sandbox().connect()
    try:
        return list(conn.compute.servers(details=True))
    finally:
        conn.close()


def test_sandbox_env_puts_the_course_tools_first_and_points_them_at_the_sandbox(shell):
    done = in_bash(
        shell,
        "command -v kubectl helm; kubectl version -o json; helm version --short; "
        'echo "KUBECONFIG=$KUBECONFIG"; echo "KUBECACHEDIR=$KUBECACHEDIR"; echo "HELM_DATA_HOME=$HELM_DATA_HOME"',
    )
    assert done.returncode == 0, done.stderr
    state = Path(shell["LAB_STATE_DIR"])
    lines = done.stdout.splitlines()
    assert lines[:2] == [str(state / "bin" / "kubectl"), str(state / "bin" / "helm")]
    version = json.loads("\n".join(lines[2 : lines.index("}") + 1]))
    assert version["clientVersion"]["gitVersion"] == "v1.35.2" == version["serverVersion"]["gitVersion"]
    assert "v4.1.4" in done.stdout
    kubeconfig = state / "sandbox" / "kubeconfig"
    assert f"KUBECONFIG={kubeconfig}" in lines and f"KUBECACHEDIR={state / 'kube-cache'}" in lines
    assert f"HELM_DATA_HOME={state / 'helm' / 'data'}" in lines
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    contexts = in_bash(shell, "kubectl config get-contexts -o name; kubectl config current-context")
    assert contexts.stdout.split() == ["sandbox", "sandbox-admin", "sandbox"]  # valid before any cluster


def test_cluster_create_makes_three_ready_nodes_from_marked_vms(shell):
    done = lab(shell, "cluster", "create")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cluster k8s: created, 3/3 nodes Ready after" in done.stdout
    assert "18 SU per hour" in done.stdout  # m3.small 2 + two m3.medium 8
    servers = {s.name: s for s in cloud_servers() if s.metadata.get("course-cluster") == "k8s"}
    assert sorted(servers) == DEFAULT_NODES
    assert {n: s.flavor["original_name"] for n, s in servers.items()} == dict(
        zip(DEFAULT_NODES, ["m3.small", "m3.medium", "m3.medium"], strict=True)
    )
    assert all(s.status == "ACTIVE" and s.metadata["course-learner"] == LEARNER for s in servers.values())
    nodes = {n["metadata"]["name"]: n for n in kubectl_json(shell, "get", "nodes")["items"]}
    assert sorted(nodes) == DEFAULT_NODES
    for name, node in nodes.items():
        assert node["spec"]["providerID"] == f"openstack:///{servers[name].id}"
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
    control = nodes[f"{PREFIX}control-plane"]
    assert control["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert (
        control["status"]["capacity"]["cpu"] == "2" and nodes[f"{PREFIX}worker-1"]["status"]["capacity"]["cpu"] == "8"
    )
    table = in_bash(shell, "kubectl config current-context; kubectl get nodes")  # the learner may list nodes
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0] == "sandbox"
    assert sum(" Ready " in line for line in table.stdout.splitlines()) == 3

    again = lab(shell, "cluster", "create", "--toleration-seconds", "7")
    assert again.returncode == 0 and "cluster k8s: already exists, 3/3 nodes Ready" in again.stdout
    # the API server's default toleration, as a lab shortens it for node-failure drills
    flags = in_bash(shell, "kubectl --context sandbox-admin get configmap kubeadm-config -n kube-system "
                           "-o jsonpath='{.data.ClusterConfiguration}'")  # fmt: skip
    assert "default-not-ready-toleration-seconds" in flags.stdout and "'7'" in flags.stdout, flags.stdout + flags.stderr
    assert len([s for s in cloud_servers() if s.metadata.get("course-cluster") == "k8s"]) == 3
    other = lab(shell, "cluster", "create", "--name", "other")
    assert other.returncode == 2 and "already has cluster 'k8s'" in other.stderr
    listing = lab(shell, "cluster", "list")
    assert listing.returncode == 0 and all(name in listing.stdout for name in DEFAULT_NODES)
    doctor = lab(shell, "doctor")
    assert "[ok] sandbox cluster            k8s: 3/3 nodes Ready" in doctor.stdout


def test_the_backend_hands_out_the_kubeconfig_only_while_a_cluster_exists(shell):
    from lab_helpers.backends import Sandbox
    from lab_helpers.errors import MissingPiece

    assert Sandbox().cluster() == Path(shell["LAB_STATE_DIR"]) / "sandbox" / "kubeconfig"
    deleted = lab(shell, "cluster", "delete")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert "cluster k8s: deleted (3 nodes, 3 VMs; 18 SU/hour stopped)" in deleted.stdout
    assert not [s for s in cloud_servers() if s.metadata.get("course-cluster")]
    assert kubectl_json(shell, "get", "nodes")["items"] == []
    assert not list((Path(shell["LAB_STATE_DIR"]) / "sandbox" / "clusters").glob("*.json"))
    with pytest.raises(MissingPiece, match="no Kubernetes cluster yet") as err:
        Sandbox().cluster()
    assert "lab cluster create" in err.value.hint
    nothing = lab(shell, "cluster", "delete")
    assert nothing.returncode == 0 and "nothing to delete" in nothing.stdout


def test_a_gpu_node_group_and_cleanup_removing_the_cluster(shell):
    expiring = {**shell, "LAB_EXPIRY_H": "0"}  # marked to expire at once: a workshop host's `cleanup --expired`
    done = lab(expiring, "cluster", "create", "--workers", "1", "--gpu-flavor", "g3.small")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3/3 nodes Ready" in done.stdout and "18 SU per hour" in done.stdout  # 2 + 8 + g3.small's 4 x 2
    gpu = kubectl_json(shell, "get", "node", f"{PREFIX}gpu-worker-1")
    assert gpu["metadata"]["labels"]["nvidia.com/gpu.present"] == "true"
    assert gpu["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "g3.small"
    assert gpu["status"]["allocatable"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in gpu["spec"]["taints"]

    dry = lab(shell, "cleanup", "--dry-run")
    assert dry.returncode == 0 and "would remove: cluster         k8s  (lab 05, 3 VMs)" in dry.stdout
    clean = lab(shell, "cleanup", "--expired")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "removed: cluster         k8s" in clean.stdout and "18 SU/hour stopped" in clean.stdout
    assert not [s for s in cloud_servers() if s.metadata.get("course-cluster")]
    assert kubectl_json(shell, "get", "nodes")["items"] == []
    assert lab(shell, "cluster", "list").stdout.startswith("no sandbox cluster")


@pytest.mark.parametrize(
    "args, says",
    [
        (["--name", "Bad_Name"], "cluster name 'Bad_Name' is not usable"),
        (["--workers", "0"], "a cluster needs at least one worker"),
        (["--worker-flavor", "m9.huge"], "unknown worker flavor 'm9.huge'"),
        (["--gpu-flavor", "m3.small"], "m3.small has no GPU"),
    ],
)
def test_bad_cluster_options_are_one_line_and_create_nothing(shell, args, says):
    done = lab(shell, "cluster", "create", *args)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert not [s for s in cloud_servers() if s.metadata.get("course-cluster")]


def test_a_create_the_quota_stops_half_way_is_deleted_by_name(shell):
    done = lab(shell, "cluster", "create", "--workers", "12", "--worker-flavor", "m3.large")  # 2 + 12 x 16 > 150 cores
    assert done.returncode == 2 and "Quota exceeded for cores" in done.stderr
    assert "lab cluster delete --name k8s" in done.stderr
    made = [s for s in cloud_servers() if s.metadata.get("course-cluster") == "k8s"]
    assert 1 <= len(made) < 13
    deleted = lab(shell, "cluster", "delete", "--name", "k8s")
    assert deleted.returncode == 0 and f"{len(made)} VMs" in deleted.stdout
    assert not [s for s in cloud_servers() if s.metadata.get("course-cluster")]


def test_on_the_live_backend_the_cluster_is_the_learners_own(shell):
    done = lab({**shell, "LAB_BACKEND": "live"}, "cluster", "create")
    assert (
        done.returncode == 2
        and "the cluster is your own" in done.stderr
        and "openstack coe cluster create" in done.stderr
    )
    assert not [s for s in cloud_servers() if s.metadata.get("course-cluster")]
