"""Lab 05's picture: a snapshot of hosts -> VMs -> nodes -> pods -> containers, its figure and its timeline.

Most tests draw hand-built snapshots (a cluster of 3 hosts, 4 VMs, 4 nodes and 15 pods in every
state the lab meets); one module-scoped case reads a real snapshot from the sandbox cluster.
"""

from __future__ import annotations

import importlib.util
import json
import time

import pytest
from k8s_fixtures import cluster, kube  # noqa: F401  (fixtures)

from lab_helpers.errors import UsageError
from lab_helpers.kube import snapshot as snap
from lab_helpers.kube.snapshot import Claim, Container, Host, Node, Pod, Server, Snapshot
from lab_helpers.viz.cluster import Timeline, hierarchy_figure

GREEN, YELLOW, ORANGE, RED = "#2ca02c", "#f2c12e", "#ff7f0e", "#d62728"
BROWN, GREY, LILAC, PALE_BLUE = "#8c564b", "#b0b0b0", "#c5b0d5", "#9ecae1"


def _c(name: str, state: str = "Running", ready: bool = True, restarts: int = 0, image: str = "") -> Container:
    return Container(name, image or f"registry.example/visualizing-compute/sample-{name}:1.0.0", ready, restarts, state)


def _pod(name: str, status: str, node: str, *containers: Container, phase: str = "Running", owner: str = "") -> Pod:
    kind, owner_name = ("ReplicaSet", owner) if owner else ("", "")
    return Pod(name, phase, status, kind, owner_name, node, containers or (_c("app"),))


def lab_snapshot(label: str = "after the rollout") -> Snapshot:
    """What lab 05 shows mid-way: 3 hosts, 4 VMs (one deleted), 4 nodes (one NotReady), 15 pods."""
    cp, w1, w2, gpu = (f"course-learner-05-k8s-{n}" for n in ("control-plane", "worker-1", "worker-2", "gpu-1"))
    on_w1 = (
        _pod("api-6f9c-a1", "Running", w1, _c("api"), owner="api-6f9c"),
        _pod("api-6f9c-a2", "Running", w1, _c("api"), owner="api-6f9c"),
        _pod("web-55d-b1", "Running", w1, _c("web"), owner="web-55d"),
        _pod("worker-7c-c1", "CrashLoopBackOff", w1, _c("worker", "CrashLoopBackOff", False, 4), owner="worker-7c"),
        _pod("db-0", "Running", w1, _c("postgres", image="docker.io/library/postgres:18"), owner=""),
        _pod("queue-0", "Running", w1, _c("valkey", image="valkey/valkey:8"), owner=""),
    )
    on_w2 = (
        _pod("api-8d1e-d1", "ImagePullBackOff", w2, _c("api", "ImagePullBackOff", False), owner="api-8d1e"),
        _pod("web-55d-b2", "Running", w2, _c("web"), owner="web-55d"),
        _pod("web-55d-b3", "Terminating", w2, _c("web"), owner="web-55d"),
        _pod("migrate-x1", "Completed", w2, _c("migrate", "Completed", False), phase="Succeeded"),
        _pod("batch-y1", "Error", w2, _c("batch", "Error", False), phase="Failed"),
        _pod("sidecar-z1", "Running", w2, _c("web"), _c("log-shipper", "Running", False)),  # not ready yet
    )
    on_gpu = (_pod("model-5b-e1", "ContainerCreating", gpu, _c("model", "ContainerCreating", False), owner="model-5b"),)
    on_gone = (_pod("web-55d-old", "Running", "course-learner-05-k8s-worker-3", _c("web"), owner="web-55d"),)
    greedy = Pod(
        "greedy",
        "Pending",
        "Pending",
        "",
        "",
        "",
        (_c("model", "Waiting", False),),
        "0/4 nodes are available: 1 Insufficient nvidia.com/gpu.",
        gpus=8,
    )

    def node(name: str, ready: str = "Ready", pods: tuple[Pod, ...] = (), **kw) -> Node:
        return Node(
            name, ready, kw.pop("role", "default-worker"), cpu=kw.pop("cpu", "8"), memory="31354880Ki", pods=pods, **kw
        )

    hosts = (
        Host(
            "3a6c05f8aa" + "0" * 46,
            "host 3a6c05f8",
            (
                Server(
                    cp,
                    "id-cp",
                    "m3.small",
                    "ACTIVE",
                    ("10.0.0.10 (net, fixed)",),
                    (
                        node(
                            cp,
                            role="control-plane",
                            cpu="2",
                            taints=("node-role.kubernetes.io/control-plane:NoSchedule",),
                        ),
                    ),
                ),
                Server(w1, "id-w1", "m3.medium", "ACTIVE", ("10.0.0.11 (net, fixed)",), (node(w1, pods=on_w1),)),
            ),
        ),
        Host(
            "9b" + "1" * 54, "host 9b111111", (Server(w2, "id-w2", "m3.medium", "ACTIVE", (), (node(w2, pods=on_w2),)),)
        ),
        Host(
            "c4" + "2" * 54,
            "host c4222222",
            (
                Server(
                    gpu,
                    "id-g1",
                    "g3.small",
                    "ACTIVE",
                    (),
                    (node(gpu, pods=on_gpu, gpus=1, taints=("nvidia.com/gpu=present:NoSchedule",), role="gpu-worker"),),
                ),
            ),
        ),
        Host(
            "",
            snap.VM_GONE,
            (
                Server(
                    "course-learner-05-k8s-worker-3",
                    "id-w3",
                    "m3.medium",
                    snap.DELETED,
                    (),
                    (node("course-learner-05-k8s-worker-3", "NotReady", on_gone),),
                ),
            ),
        ),
    )
    claims = (
        Claim("model-weights", "Bound", "10Gi", "csi-cinder", "pvc-1", "vol-1", "in-use", gpu),
        Claim("spare", "Pending", "1Gi", "csi-cinder"),
    )
    return Snapshot(label, "k8s", "lab05", "2026-01-01T00:00:00Z", hosts, (greedy,), claims)


# What each pod's box must be coloured: written out by hand, not computed by the code under test.
EXPECTED_POD_COLOURS = {
    "api-6f9c-a1": GREEN,
    "api-6f9c-a2": GREEN,
    "web-55d-b1": GREEN,
    "worker-7c-c1": ORANGE,
    "db-0": GREEN,
    "queue-0": GREEN,
    "api-8d1e-d1": ORANGE,
    "web-55d-b2": GREEN,
    "web-55d-b3": LILAC,
    "migrate-x1": PALE_BLUE,
    "batch-y1": RED,
    "sidecar-z1": YELLOW,
    "model-5b-e1": YELLOW,
    "web-55d-old": GREEN,
    "greedy": YELLOW,
}


def _boxes(fig) -> dict[str, dict]:
    trace = fig.data[0]
    return {
        i: {"parent": p, "text": t, "hover": h, "colour": c}
        for i, p, t, h, c in zip(
            trace.ids, trace.parents, trace.text, trace.hovertext, trace.marker.colors, strict=True
        )
    }


def _box(boxes: dict[str, dict], suffix: str) -> dict:
    found = [b for i, b in boxes.items() if i.endswith(suffix)]
    assert len(found) == 1, f"{suffix!r} matches {len(found)} boxes"
    return found[0]


def test_the_fixture_is_the_lab_sized_cluster() -> None:
    s = lab_snapshot()
    assert (len(s.hosts), len(s.servers), len(s.nodes), len(s.pods)) == (4, 5, 5, 15)
    assert set(EXPECTED_POD_COLOURS) == {p.name for p in s.pods}


def test_the_figure_shows_every_object_under_its_parent() -> None:
    s = lab_snapshot()
    boxes = _boxes(hierarchy_figure(s))
    assert len(boxes) == len(set(boxes)), "box ids are not unique"
    for host in s.hosts:
        assert host.label in _box(boxes, f"/{host.label}")["text"]
        for server in host.servers:
            vm = _box(boxes, f"{host.label}/{server.name}")
            assert server.flavor in vm["text"] and server.name in vm["hover"]
            for node in server.nodes:
                n = _box(boxes, f"{server.name}/node {node.name}")
                assert n["parent"].endswith(f"{host.label}/{server.name}")
                for pod in node.pods:
                    p = _box(boxes, f"node {node.name}/pod {pod.name}")
                    assert pod.name in p["text"] and pod.status in p["text"]
                    for c in pod.containers:
                        box = _box(boxes, f"pod {pod.name}/{c.name}")
                        image = c.image.rsplit("/", 1)[-1]
                        assert image in box["text"] or (len(c.name + image) > 27 and image.split(":")[1] in box["text"])
    greedy = _box(boxes, "/pod greedy")
    assert "not scheduled" in greedy["hover"] and "Insufficient nvidia.com/gpu" in greedy["hover"]
    assert _box(boxes, "/not placed/-/no node")["text"] == "<b>not scheduled</b>"
    weights = _box(boxes, "course-learner-05-k8s-gpu-1/volume model-weights")  # under the VM it is attached to
    assert "10Gi" in weights["text"] and "vol-1" in weights["hover"]
    assert "spare" in _box(boxes, "/not placed/-/volume spare")["text"]  # a claim no VM holds


def test_colours_follow_the_states() -> None:
    boxes = _boxes(hierarchy_figure(lab_snapshot()))
    for pod, colour in EXPECTED_POD_COLOURS.items():
        assert _box(boxes, f"/pod {pod}")["colour"] == colour, pod
    assert _box(boxes, "/pod worker-7c-c1/worker")["colour"] == ORANGE
    assert "4 restarts" in _box(boxes, "/pod worker-7c-c1/worker")["text"]
    assert _box(boxes, "/pod sidecar-z1/log-shipper")["colour"] == YELLOW  # running, not ready
    assert _box(boxes, "node course-learner-05-k8s-worker-3")["colour"] == BROWN  # NotReady
    assert _box(boxes, "/node course-learner-05-k8s-worker-1")["colour"] == GREEN
    vm_gone = _box(boxes, f"{snap.VM_GONE}/course-learner-05-k8s-worker-3")
    assert vm_gone["colour"] == GREY and "deleted" in vm_gone["text"]
    assert _box(boxes, "/host 3a6c05f8/course-learner-05-k8s-worker-1")["colour"] == GREEN  # ACTIVE


def test_the_key_names_only_the_states_shown() -> None:
    fig = hierarchy_figure(lab_snapshot())
    key = fig.layout.annotations[0].text
    for name in ("Running / Ready / ACTIVE", "CrashLoopBackOff", "Failed / Error", "VM deleted", "Terminating"):
        assert name in key
    calm = Snapshot(
        "calm", "k8s", "lab05", "t", (Host("ab" * 28, "host abababab", (Server("vm", "i", "m3.small", "ACTIVE"),)),)
    )
    calm_key = hierarchy_figure(calm).layout.annotations[0].text
    assert "Running / Ready / ACTIVE" in calm_key and "CrashLoopBackOff" not in calm_key


def test_short_labels_hover_details_and_title() -> None:
    fig = hierarchy_figure(lab_snapshot(), title="Lab 05, step 6")
    boxes = _boxes(fig)
    gpu_node = _box(boxes, "/node course-learner-05-k8s-gpu-1")
    assert gpu_node["text"].startswith("<b>k8s-gpu-1</b>")  # the course's name prefix is dropped on the box...
    assert "course-learner-05-k8s-gpu-1" in gpu_node["hover"]  # ...and kept in the hover
    assert "nvidia.com/gpu=present:NoSchedule" in gpu_node["hover"] and "29.9 GiB" in gpu_node["hover"]
    assert "hostId 3a6c05f8" in _box(boxes, "/host 3a6c05f8")["hover"]
    assert fig.layout.title.text.startswith("Lab 05, step 6")
    assert fig.layout.height >= 40 * 20  # every leaf gets room for two lines of text


def test_a_snapshot_round_trips_through_json() -> None:
    s = lab_snapshot()
    again = Snapshot.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s
    assert hierarchy_figure(again).to_dict() == hierarchy_figure(s).to_dict()
    with pytest.raises(UsageError, match="format"):
        Snapshot.from_dict({**s.to_dict(), "format": 99})


def _shown_title(view) -> str:
    """The title of the figure a Timeline widget shows (Output widget or FigureWidget)."""
    if hasattr(view, "outputs"):
        (output,) = view.outputs
        return output["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]
    return view.layout.title.text


def test_the_timeline_widget_steps_and_follows_the_newest() -> None:
    timeline = Timeline()
    with pytest.raises(UsageError, match="no state yet"):
        timeline.figure()
    for label in ("cluster created", "apps deployed"):
        timeline.record(lab_snapshot(label))
    box = timeline.widget()
    slider, view = box.children
    assert [label for label, _ in slider.options] == ["1. cluster created", "2. apps deployed"]
    # a FigureWidget where plotly can make one (it needs anywidget), else an Output widget with the figure
    assert type(view).__name__ == ("FigureWidget" if importlib.util.find_spec("anywidget") else "Output")
    slider.value = 0
    assert "cluster created" in _shown_title(view)
    slider.value = 1
    assert "apps deployed" in _shown_title(view)
    slider.value = 0
    timeline.record(lab_snapshot("worker VM deleted"))  # recorded while shown: the widget moves to it
    assert slider.value == 2 and "worker VM deleted" in _shown_title(view)
    assert len(slider.options) == 3
    timeline.record(lab_snapshot("apps deployed"))  # a re-run cell replaces its state instead of adding one
    assert timeline.labels == ["cluster created", "apps deployed", "worker VM deleted"]
    assert "worker VM deleted" in timeline.figure(-1).layout.title.text
    timeline.record(lab_snapshot("4. scaled to 4"))  # a label the lab numbers itself is not numbered again
    assert slider.options[-1] == ("4. scaled to 4", 3)
    with pytest.raises(UsageError, match="no state 7"):
        timeline.figure(7)
    with pytest.raises(UsageError, match="Snapshot"):
        timeline.record({"label": "x"})  # type: ignore[arg-type]
    again = Timeline.from_dict(json.loads(json.dumps(timeline.to_dict())))
    assert again.snapshots == timeline.snapshots


def test_an_empty_timeline_widget_waits_for_its_first_state() -> None:
    timeline = Timeline()
    slider, view = timeline.widget().children
    assert [label for label, _ in slider.options] == ["(nothing recorded yet)"]
    timeline.record(lab_snapshot("first"))
    assert slider.value == 0 and "first" in _shown_title(view)


# -- a real snapshot from the sandbox cluster ----------------------------------------------------


def _wait(what: str, predicate, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_real_snapshot_of_the_sandbox_cluster(kube, cluster) -> None:
    from kubernetes import client

    from lab_helpers import connect_cloud
    from lab_helpers.kube import api_client, delete_node_server

    conn, api = connect_cloud(), api_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    core.create_namespace({"metadata": {"name": "viz"}})
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        "viz",
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    greedy = {
        "name": "m",
        "image": "busybox",
        "command": ["sleep", "600"],
        "resources": {"limits": {"nvidia.com/gpu": "4"}},
    }
    core.create_namespaced_pod("viz", {"metadata": {"name": "greedy"}, "spec": {"containers": [greedy]}})
    crash = {"name": "crash", "image": "busybox:1.36", "command": ["sh", "-c", "exit 3"]}
    core.create_namespaced_pod("viz", {"metadata": {"name": "crash"}, "spec": {"containers": [crash]}})

    def settled():
        s = snap.take(conn, api, namespace="viz", cluster="k8s", label="deployed")
        statuses = {p.name: p.status for p in s.pods}
        web = [n for n in statuses if n.startswith("web-")]
        ok = (
            len(web) == 2
            and all(statuses[n] == "Running" for n in web)
            and statuses.get("crash") in ("Error", "CrashLoopBackOff")
        )
        return s if ok else None

    s = _wait("two web pods Running and the crash pod failing", settled)
    assert sorted(n.name for n in s.nodes) == cluster
    for server in s.servers:  # each node sits under its own VM, on the host Nova names
        assert server.status == "ACTIVE" and [n.name for n in server.nodes] == [server.name]
        assert any(a.startswith("10.") for a in server.addresses)
    assert all(h.host_id and h.label == f"host {h.host_id[:8]}" for h in s.hosts)
    pods = {p.name: p for p in s.pods}
    assert pods["greedy"].node == "" and "nvidia.com/gpu" in pods["greedy"].message
    web = next(p for p in s.pods if p.name.startswith("web-"))
    assert web.owner_kind == "ReplicaSet" and web.containers[0].image == "nginx:1.27" and web.containers[0].ready
    boxes = _boxes(hierarchy_figure(s))
    expected = {"Running": GREEN, "Pending": YELLOW, "CrashLoopBackOff": ORANGE, "Error": RED}
    for p in s.pods:
        assert _box(boxes, f"/pod {p.name}")["colour"] == expected[p.status], p

    worker = cluster[-1]
    delete_node_server(worker, conn=conn, api=api_client(admin=True))
    gone = _wait(
        "the deleted VM's node placed under 'VM gone'",
        lambda: (
            (g := snap.take(conn, api, namespace="viz", cluster="k8s", label="worker deleted"))
            and any(h.label == snap.VM_GONE for h in g.hosts)
            and g
        ),
    )
    (placeholder,) = next(h for h in gone.hosts if h.label == snap.VM_GONE).servers
    assert placeholder.status == snap.DELETED and placeholder.nodes[0].name == worker
    blind = snap.take(None, api, namespace="viz", cluster="k8s", label="no cloud")
    assert [h.label for h in blind.hosts] == [snap.NO_CLOUD] and blind.notes
    assert {s.status for s in blind.servers} == {snap.UNKNOWN}
    assert Snapshot.from_dict(json.loads(json.dumps(gone.to_dict()))) == gone
