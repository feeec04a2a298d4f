"""Storage in the sandbox cluster, through the real clients: the transcript in
``k8s_transcripts/storage.txt`` (kubectl: the default class, claims, a pod's data outliving it,
expansion, StatefulSets), then what openstacksdk sees of the same volumes (their size, state and
attachment to a node's VM, and their deletion with the claim), ReadWriteOnce across two nodes,
Retain, a static volume made in the cloud, WaitForFirstConsumer, and a restart of the sandbox."""

from __future__ import annotations

import json
import statistics
import time

import pytest
from k8s_fixtures import Transcript, cluster, kube, load_transcript

pytestmark = pytest.mark.timeout(600)

SECTIONS = load_transcript("storage.txt")
__all__ = ["cluster", "kube"]  # fixtures


@pytest.fixture(scope="module")
def transcript(kube, cluster, tmp_path_factory) -> Transcript:
    return Transcript(kube.env, tmp_path_factory.mktemp("storage-transcript"))


@pytest.mark.parametrize("section", list(SECTIONS))
def test_storage_transcript(transcript, section):
    transcript.run(section, SECTIONS[section])


# -- helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conn(kube, cluster):
    from lab_helpers.cloud import connect_cloud

    connection = connect_cloud("sandbox")
    yield connection
    connection.close()


def apply(kube, doc: dict, namespace: str = "") -> None:
    """``kubectl apply``; cluster-scoped kinds (classes, volumes) as the cluster's admin."""
    args = ["apply", "-f", "-"] + (["-n", namespace] if namespace else ["--context", "sandbox-admin"])
    kube.kubectl(*args, input=json.dumps(doc))


def get(kube, *args: str) -> dict:
    return json.loads(kube.kubectl("get", *args, "-o", "json").stdout)


def until(what: str, check, timeout: float = 20.0, every: float = 0.1):
    """Wait (with a deadline) until ``check()`` returns something true; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def claim(name: str, size: str = "1Gi", klass: str | None = None, modes: tuple[str, ...] = ("ReadWriteOnce",)) -> dict:
    spec: dict = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if klass is not None:
        spec["storageClassName"] = klass
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod(name: str, claim_name: str, command: list[str], node: str | None = None, restart: str = "Never") -> dict:
    spec: dict = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "main",
                "image": "busybox",
                "command": command,
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }
        ],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
    }
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def bound_volume(kube, ns: str, name: str) -> dict:
    """The claim's PersistentVolume once the claim is Bound."""

    def check():
        c = get(kube, "pvc", name, "-n", ns)
        return c if c.get("status", {}).get("phase") == "Bound" else None

    c = until(f"claim {ns}/{name} Bound", check)
    return get(kube, "pv", c["spec"]["volumeName"])


def cloud_volume(conn, volume_id: str):
    return next((v for v in conn.block_storage.volumes(details=True) if v.id == volume_id), None)


def server_of_node(kube, node: str) -> str:
    return get(kube, "node", node)["spec"]["providerID"].rsplit("/", 1)[-1]


def phase_of(kube, ns: str, name: str) -> str:
    return get(kube, "pod", name, "-n", ns).get("status", {}).get("phase", "")


# -- the cloud's side -----------------------------------------------------------------------------


def test_claim_volume_in_the_cloud_attached_while_used_deleted_with_the_claim(kube, cluster, conn):
    from lab_helpers.marks import KEY_CLUSTER, KEY_LEARNER, parse

    ns = "py-cloud"
    kube.kubectl("create", "namespace", ns)
    apply(kube, claim("data", "1500Mi"), ns)
    pv = bound_volume(kube, ns, "data")
    uid = get(kube, "pvc", "data", "-n", ns)["metadata"]["uid"]
    handle = pv["spec"]["csi"]["volumeHandle"]
    assert pv["metadata"]["name"] == f"pvc-{uid}" and pv["spec"]["capacity"]["storage"] == "2Gi"
    vol = until(
        "the volume available in the cloud", lambda: (v := cloud_volume(conn, handle)) and v.status == "available" and v
    )
    assert vol.name == f"pvc-{uid}" and vol.size == 2  # 1500Mi rounded up to whole GiB
    assert vol.metadata["csi.storage.k8s.io/pvc/name"] == "data"
    assert vol.metadata["csi.storage.k8s.io/pvc/namespace"] == ns
    marks = parse(vol.metadata)  # lab cleanup finds it with the cluster's VMs
    assert marks.get(KEY_LEARNER) and vol.metadata.get(KEY_CLUSTER)
    from lab_helpers.resources.inventory import find

    assert [f.name for f in find(conn, learner=marks[KEY_LEARNER]) if f.kind == "volume" and f.id == handle] == [
        vol.name
    ]

    worker = cluster[1]
    apply(kube, pod("user", "data", ["sleep", "3600"], node=worker, restart="Always"), ns)
    until("the pod Running", lambda: phase_of(kube, ns, "user") == "Running")
    note = until(  # kubectl describe says what is simulated about the claim's folder
        "the pod's simulated note",
        lambda: (get(kube, "pod", "user", "-n", ns)["metadata"].get("annotations") or {}).get(
            "sandbox.visualizing-compute/simulated"
        ),
    )
    assert "persistentVolumeClaim volumes are folders" in note, note
    server = server_of_node(kube, worker)
    attached = [a for a in conn.compute.volume_attachments(server) if a.volume_id == handle]
    assert len(attached) == 1 and attached[0].device.startswith("/dev/vd")
    assert cloud_volume(conn, handle).status == "in-use"
    vas = get(kube, "--context", "sandbox-admin", "volumeattachments")["items"]
    mine = [va for va in vas if va["spec"]["source"]["persistentVolumeName"] == pv["metadata"]["name"]]
    assert [(va["spec"]["nodeName"], va["status"]["attached"]) for va in mine] == [(worker, True)]

    # ReadWriteOnce: a pod on another node waits with the Multi-Attach error
    apply(kube, pod("second", "data", ["sleep", "3600"], node=cluster[2], restart="Always"), ns)

    def multi_attach():
        events = get(kube, "events", "-n", ns, "--field-selector", "involvedObject.name=second")["items"]
        return [e for e in events if e["reason"] == "FailedAttachVolume"]

    event = until("the Multi-Attach event", multi_attach)[0]
    assert (
        event["message"]
        == f'Multi-Attach error for volume "{pv["metadata"]["name"]}" Volume is already used by pod(s) user'
    )
    assert phase_of(kube, ns, "second") == "Pending"
    assert handle not in [a.volume_id for a in conn.compute.volume_attachments(server_of_node(kube, cluster[2]))]

    # the first pod goes: the volume moves to the second pod's node
    kube.kubectl("delete", "pod", "user", "-n", ns, "--wait=false")
    until("the second pod Running", lambda: phase_of(kube, ns, "second") == "Running", timeout=30)
    assert handle not in [a.volume_id for a in conn.compute.volume_attachments(server)]
    assert handle in [a.volume_id for a in conn.compute.volume_attachments(server_of_node(kube, cluster[2]))]

    # no pod: detached; no claim (reclaim Delete): the volume leaves the cloud
    kube.kubectl("delete", "pod", "second", "-n", ns)
    until("the volume available again", lambda: cloud_volume(conn, handle).status == "available")
    kube.kubectl("delete", "pvc", "data", "-n", ns)
    until("the volume deleted", lambda: cloud_volume(conn, handle) is None)
    until(
        "the PersistentVolume deleted",
        lambda: kube.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode == 1,
    )


def test_retain_keeps_the_volume_released(kube, cluster, conn):
    ns = "py-retain"
    kube.kubectl("create", "namespace", ns)
    apply(
        kube,
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "keep"},
            "provisioner": "cinder.csi.openstack.org",
            "reclaimPolicy": "Retain",
        },
    )
    apply(kube, claim("kept", "1Gi", "keep"), ns)
    pv = bound_volume(kube, ns, "kept")
    handle = pv["spec"]["csi"]["volumeHandle"]
    kube.kubectl("delete", "pvc", "kept", "-n", ns)
    until("the volume Released", lambda: get(kube, "pv", pv["metadata"]["name"])["status"]["phase"] == "Released")
    vol = until(
        "the retained volume available", lambda: (v := cloud_volume(conn, handle)) and v.status == "available" and v
    )
    assert vol.size == 1 and vol.name == pv["metadata"]["name"]


def test_a_volume_made_in_the_cloud_becomes_a_static_persistent_volume(kube, cluster, conn):
    ns = "py-static"
    kube.kubectl("create", "namespace", ns)
    made = conn.block_storage.create_volume(size=3, name="lab-made")
    until("the volume available", lambda: cloud_volume(conn, made.id).status == "available")
    apply(
        kube,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "lab-made", "labels": {"from": "lab04"}},
            "spec": {
                "capacity": {"storage": "3Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "csi": {"driver": "cinder.csi.openstack.org", "volumeHandle": made.id, "fsType": "ext4"},
            },
        },
    )
    until("the volume Available", lambda: get(kube, "pv", "lab-made").get("status", {}).get("phase") == "Available")
    wanted = claim("mine", "2Gi", "")
    wanted["spec"]["selector"] = {"matchLabels": {"from": "lab04"}}
    apply(kube, wanted, ns)
    pv = bound_volume(kube, ns, "mine")
    assert pv["metadata"]["name"] == "lab-made" and pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert get(kube, "pvc", "mine", "-n", ns)["status"]["capacity"]["storage"] == "3Gi"
    apply(kube, pod("writer", "mine", ["sh", "-c", "echo hello from the cloud > /data/x; cat /data/x"]), ns)
    until("the writer done", lambda: phase_of(kube, ns, "writer") == "Succeeded", timeout=30)
    assert kube.kubectl("logs", "writer", "-n", ns).stdout == "hello from the cloud\n"
    kube.kubectl("delete", "pod", "writer", "-n", ns)
    kube.kubectl("delete", "pvc", "mine", "-n", ns)
    until("the volume Released", lambda: get(kube, "pv", "lab-made")["status"]["phase"] == "Released")
    assert cloud_volume(conn, made.id) is not None  # Retain: the cloud's volume stays
    kube.kubectl("--context", "sandbox-admin", "delete", "pv", "lab-made")
    until("the volume detached", lambda: cloud_volume(conn, made.id).status == "available")
    conn.block_storage.delete_volume(made.id)


def test_wait_for_first_consumer_provisions_after_the_scheduler_picks_a_node(kube, cluster, conn):
    ns = "py-wffc"
    kube.kubectl("create", "namespace", ns)
    apply(
        kube,
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "late"},
            "provisioner": "cinder.csi.openstack.org",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
    )
    apply(kube, claim("late", "1Gi", "late"), ns)

    def waiting():
        events = get(kube, "events", "-n", ns, "--field-selector", "involvedObject.name=late")["items"]
        return [e["message"] for e in events if e["reason"] == "WaitForFirstConsumer"]

    assert until("the WaitForFirstConsumer event", waiting) == [
        "waiting for first consumer to be created before binding"
    ]
    assert get(kube, "pvc", "late", "-n", ns)["status"]["phase"] == "Pending"
    apply(kube, pod("consumer", "late", ["sh", "-c", "echo ok > /data/ok"]), ns)
    pv = bound_volume(kube, ns, "late")
    until("the consumer done", lambda: phase_of(kube, ns, "consumer") == "Succeeded", timeout=30)
    node = get(kube, "pod", "consumer", "-n", ns)["spec"]["nodeName"]
    selected = get(kube, "pvc", "late", "-n", ns)["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
    assert selected == node and cloud_volume(conn, pv["spec"]["csi"]["volumeHandle"]) is not None


def test_statefulset_parallel_claims_deleted_by_the_retention_policy(kube, cluster):
    ns = "py-sts"
    kube.kubectl("create", "namespace", ns)
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "par"},
        "spec": {
            "replicas": 2,
            "podManagementPolicy": "Parallel",
            "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Delete"},
            "selector": {"matchLabels": {"app": "par"}},
            "template": {
                "metadata": {"labels": {"app": "par"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox",
                            "command": ["sleep", "3600"],
                            "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                        }
                    ],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "d"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                }
            ],
        },
    }
    apply(kube, sts, ns)
    kube.kubectl("rollout", "status", "sts/par", "-n", ns, "--timeout=60s")
    claims = lambda: sorted(c["metadata"]["name"] for c in get(kube, "pvc", "-n", ns)["items"])  # noqa: E731
    assert claims() == ["d-par-0", "d-par-1"]
    kube.kubectl("scale", "sts", "par", "-n", ns, "--replicas=1")
    until("the scaled-away claim deleted", lambda: claims() == ["d-par-0"], timeout=30)
    kube.kubectl("delete", "sts", "par", "-n", ns)
    until("the set's claims deleted with it", lambda: claims() == [], timeout=30)


def test_pvc_bound_time(kube, cluster):
    """Claim created -> Bound, for ten claims one after another (reported, not asserted on time); each
    is deleted before the next, as the project's quota holds ten volumes."""
    ns = "py-timing"
    kube.kubectl("create", "namespace", ns)
    from kubernetes import client, watch

    api = client.CoreV1Api(kube.api_client("sandbox-admin"))
    times = []
    for i in range(10):
        name = f"c{i}"
        body = claim(name, "1Gi")
        t0 = time.monotonic()
        made = api.create_namespaced_persistent_volume_claim(ns, body)
        w = watch.Watch()
        for ev in w.stream(
            api.list_namespaced_persistent_volume_claim,
            ns,
            field_selector=f"metadata.name={name}",
            resource_version=made.metadata.resource_version,
            timeout_seconds=20,
        ):
            if ev["object"].status.phase == "Bound":
                times.append(time.monotonic() - t0)
                w.stop()
        api.delete_namespaced_persistent_volume_claim(name, ns)
        gone = lambda volume=f"pvc-{made.metadata.uid}": kube.kubectl("get", "pv", volume, check=False).returncode == 1  # noqa: E731
        until("the claim's volume gone", gone)
    assert len(times) == 10
    print(f"\nPVC create -> Bound: p50 {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")


def test_a_restart_keeps_the_bound_claim_and_its_data(kube, cluster):
    from lab_helpers import sandbox as sb

    ns = "py-restart"
    kube.kubectl("create", "namespace", ns)
    apply(kube, claim("keep", "1Gi"), ns)
    pv = bound_volume(kube, ns, "keep")
    apply(kube, pod("before", "keep", ["sh", "-c", "echo kept across a restart > /data/k"]), ns)
    until("the writer done", lambda: phase_of(kube, ns, "before") == "Succeeded", timeout=30)
    sb.stop()
    sb.start()
    after = until("the API back", lambda: kube.kubectl("get", "pvc", "keep", "-n", ns, "-o", "json", check=False))
    assert json.loads(after.stdout)["spec"]["volumeName"] == pv["metadata"]["name"]
    assert json.loads(after.stdout)["status"]["phase"] == "Bound"
    apply(kube, pod("after", "keep", ["cat", "/data/k"]), ns)
    until("the reader done", lambda: phase_of(kube, ns, "after") == "Succeeded", timeout=30)
    assert kube.kubectl("logs", "after", "-n", ns).stdout == "kept across a restart\n"


def test_transcript_file_is_parsed():
    """The transcript's sections are all there (a typo in a header would silently drop one)."""
    assert {"claim", "expand", "statefulset", "statefulset-update", "scheduling"} <= set(SECTIONS)
