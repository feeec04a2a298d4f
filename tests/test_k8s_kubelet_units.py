"""The sandbox kubelet's pieces on their own, without a running sandbox: image references, Go-style
durations, ``$(VAR)`` expansion, Service variables and names, the atomic writer of ConfigMap
volumes, path mapping, node readiness from the VM, and the shim's log format."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from lab_helpers.sandbox.kubernetes.kubelet import environment, network, nodes, pod_status, registry, volumes
from lab_helpers.sandbox.kubernetes.kubelet.logs import choose
from lab_helpers.sandbox.kubernetes.objects import Objects
from lab_helpers.sandbox.kubernetes.resources import by_plural
from lab_helpers.sandbox.store import Store

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "normalised"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("docker.io/library/nginx:1.27", "docker.io/library/nginx:1.27"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        (f"nginx@{DIGEST}", f"docker.io/library/nginx@{DIGEST}"),
        (f"nginx:1.27@{DIGEST}", f"docker.io/library/nginx:1.27@{DIGEST}"),
        ("localhost:5000/team/app:v2", "localhost:5000/team/app:v2"),
        ("ghcr.io/example/api", "ghcr.io/example/api:latest"),
        ("registry.k8s.io/busybox", "registry.k8s.io/busybox:latest"),
    ],
)
def test_image_references_parse_as_the_runtime_does(ref, normalised):
    assert str(registry.parse(ref)) == normalised


@pytest.mark.parametrize("ref", ["", "Nginx", "nginx:", "a b", "nginx@sha256:xyz", "-nginx", "nginx//x"])
def test_invalid_image_references(ref):
    with pytest.raises(registry.InvalidImageName, match="invalid reference format"):
        registry.parse(ref)


def test_the_registry_holds_busybox_and_nginx_at_any_tag():
    assert registry.lookup(registry.parse("busybox:1.36")).name == "busybox"
    assert registry.lookup(registry.parse("docker.io/library/nginx:1.27-alpine")).name == "nginx"
    assert registry.lookup(registry.parse(f"nginx@{DIGEST}")).name == "nginx"
    missing = registry.parse("ghcr.io/example/nosuch:v1")
    assert registry.lookup(missing) is None
    message = registry.pull_error(missing)
    assert message.startswith('failed to pull and unpack image "ghcr.io/example/nosuch:v1"')
    assert "busybox, nginx" in message
    nginx = registry.lookup(registry.parse("nginx"))
    assert nginx.entrypoint == ("/docker-entrypoint.sh",) and nginx.ports == (80,) and nginx.needs_python
    pinned = registry.image_id(registry.parse(f"nginx@{DIGEST}"))
    assert pinned == f"docker.io/library/nginx@{DIGEST}"
    assert registry.image_id(registry.parse("nginx:1")) != registry.image_id(registry.parse("nginx:2"))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.2, "200ms"),
        (1.2345, "1.234s"),
        (10, "10s"),
        (20, "20s"),
        (80, "1m20s"),
        (160, "2m40s"),
        (300, "5m0s"),
    ],
)
def test_durations_print_as_go_prints_them(seconds, text):
    assert registry.go_duration(seconds) == text


def test_variable_references_expand_as_the_kubelet_expands_them():
    env = {"A": "1", "NAME": "web"}
    assert environment.expand("$(A)-$$(A)-$(B)-$(NAME)", env) == "1-$(A)-$(B)-web"
    assert environment.expand("cost $5 and $(", env) == "cost $5 and $("


def test_quantities_and_resource_fields():
    assert environment.quantity("250m") == 0.25
    assert environment.quantity("1Gi") == 2**30
    pod = {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1500m", "memory": "64Mi"}}}]}}
    assert environment.resource_value(pod, {"resource": "limits.cpu", "containerName": "c"}, {}) == "2"
    assert environment.resource_value(pod, {"resource": "limits.memory", "divisor": "1Mi"}, {}) == "64"
    assert environment.resource_value(pod, {"resource": "requests.cpu", "divisor": "1m"}, {}) == "1500"


@pytest.fixture
def objects(tmp_path) -> Objects:
    return Objects(Store(tmp_path / "store"))


def _service(name: str, ns: str, ip: str, ports: list[dict]) -> dict:
    return {"metadata": {"name": name, "namespace": ns}, "spec": {"clusterIP": ip, "ports": ports}}


def test_service_variables_and_names(objects):
    svcs = by_plural("services")
    objects.create(svcs, _service("web-api", "team", "127.96.0.7", [{"name": "http", "port": 80, "protocol": "TCP"}]))
    objects.create(svcs, _service("db", "other", "127.96.0.8", [{"port": 5432}]))
    objects.create(svcs, _service("kubernetes", "default", "127.96.0.1", [{"name": "https", "port": 443}]))
    env = environment.service_variables(objects, "team")
    assert env["WEB_API_SERVICE_HOST"] == "127.96.0.7"
    assert env["WEB_API_SERVICE_PORT"] == "80"
    assert env["WEB_API_SERVICE_PORT_HTTP"] == "80"
    assert env["WEB_API_PORT_80_TCP"] == "tcp://127.96.0.7:80"
    assert env["KUBERNETES_SERVICE_HOST"] == "127.96.0.1"
    assert "DB_SERVICE_HOST" not in env  # another namespace's Service
    pod = {"metadata": {"name": "client", "namespace": "team"}, "spec": {}, "status": {"podIP": "127.244.3.9"}}
    hosts = network.hosts_file(pod, network.service_names(objects)).splitlines()
    assert "127.244.3.9\tclient" in hosts
    assert any(line.startswith("127.96.0.7\tweb-api web-api.team web-api.team.svc") for line in hosts)
    assert any(line.startswith("127.96.0.8\tdb.other db.other.svc db.other.svc.cluster.local") for line in hosts)
    same_name = {"metadata": {"name": "web-api", "namespace": "team"}, "spec": {}, "status": {"podIP": "127.244.3.2"}}
    hosts = network.hosts_file(same_name, network.service_names(objects)).splitlines()
    assert any(line.startswith("127.96.0.7\tweb-api.team ") for line in hosts)  # the pod's own name stays its own


def test_endpoints_from_ready_pods_when_no_endpoints_object(objects):
    svcs, pods_res = by_plural("services"), by_plural("pods")
    objects.create(svcs, {**_service("web", "ns", "127.96.0.9", [{"port": 80, "targetPort": "http"}])})
    svc = objects.get(svcs, "ns", "web")
    svc["spec"]["selector"] = {"app": "web"}
    objects.update(svcs, svc)
    for name, ip, ready in (("a", "127.244.1.2", "True"), ("b", "127.244.1.3", "False")):
        objects.create(
            pods_res,
            {
                "metadata": {"name": name, "namespace": "ns", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": ready}]},
            },
        )
    port = svc["spec"]["ports"][0]
    assert network.ready_endpoints(objects, "ns", "web", port) == [("127.244.1.2", 8080)]
    assert network.service_target(objects, "ns", "web", "80") == ("127.244.1.2", 8080)


def test_configmap_volume_is_written_atomically(tmp_path):
    folder = tmp_path / "vol"
    assert volumes.write_atomic(folder, {"a": (b"1", None), "conf/b.yaml": (b"x: 1", 0o600)}, 0o644)
    assert (folder / "a").read_text() == "1" and os.readlink(folder / "a") == "..data/a"
    assert (folder / "conf" / "b.yaml").stat().st_mode & 0o777 == 0o600
    assert (folder / "a").stat().st_mode & 0o777 == 0o644
    first = os.readlink(folder / "..data")
    assert not volumes.write_atomic(folder, {"a": (b"1", None), "conf/b.yaml": (b"x: 1", 0o600)}, 0o644)
    time.sleep(0.01)
    assert volumes.write_atomic(folder, {"a": (b"2", None)}, 0o644)
    assert os.readlink(folder / "..data") != first and not (folder / first).exists()
    assert (folder / "a").read_text() == "2" and not (folder / "conf").exists()


def test_paths_are_mapped_only_where_they_stand_as_paths():
    mapping = [("/etc/config", "/state/vol/cfg"), ("/data", "/state/vol/data")]
    assert volumes.map_paths("cat /etc/config/app.conf", mapping) == "cat /state/vol/cfg/app.conf"
    assert volumes.map_paths("ls /data; echo /database", mapping) == "ls /state/vol/data; echo /database"
    assert volumes.map_paths("x=/etc/configs", mapping) == "x=/etc/configs"


def test_low_ports_are_found_in_the_spec_and_the_image():
    nginx = registry.lookup(registry.parse("nginx"))
    assert pod_status.low_port({"name": "c"}, nginx, 1024) == 80
    assert pod_status.low_port({"name": "c", "command": ["my-server"]}, nginx, 1024) is None
    assert pod_status.low_port({"name": "c", "ports": [{"containerPort": 8080}]}, None, 1024) is None
    assert pod_status.low_port({"name": "c", "ports": [{"containerPort": 443}]}, None, 80) is None


def test_node_readiness_follows_its_vm(objects):
    nodes_res = by_plural("nodes")
    now = time.time()
    objects.store.put(
        "server",
        "vm-1",
        {"events": [[now - 60, "BUILD"], [now - 50, "ACTIVE"]], "flavor": {"vcpus": 8, "ram": 30720, "disk": 60}},
    )
    objects.create(nodes_res, {"metadata": {"name": "n1"}, "spec": {"providerID": "openstack:///vm-1"}})
    assert nodes.sync(objects, "n1", [], "note", force_beat=True) == "up"
    node = objects.get(nodes_res, "", "n1")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert node["status"]["capacity"]["cpu"] == "8" and node["status"]["capacity"]["memory"] == f"{30720 * 1024}Ki"
    server = objects.store.get("server", "vm-1")
    server["events"].append([now - 1, "SHUTOFF"])
    objects.store.put("server", "vm-1", server)
    assert nodes.sync(objects, "n1", [], "note", force_beat=False) == "down"
    node = objects.get(nodes_res, "", "n1")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")
    objects.store.delete("server", "vm-1")
    assert nodes.sync(objects, "n1", [], "note", force_beat=False) == "down"


def test_which_log_kubectl_logs_reads():
    running = {
        "name": "c",
        "state": {"running": {}},
        "containerID": "sandbox://b",
        "lastState": {"terminated": {"containerID": "sandbox://a"}},
    }
    pod = {"metadata": {"name": "p"}, "status": {"containerStatuses": [running]}}
    assert choose(pod, "c", previous=False) == "sandbox://b"
    assert choose(pod, "c", previous=True) == "sandbox://a"
    waiting = {"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
    pod = {"metadata": {"name": "p"}, "status": {"containerStatuses": [waiting]}}
    with pytest.raises(Exception) as err:
        choose(pod, "c", previous=False)
    body = json.loads(err.value.response.get_data())
    assert (body["code"], body["message"]) == (400, 'container "c" in pod "p" is waiting to start: ContainerCreating')


def test_the_shim_logs_in_the_cri_format(tmp_path):
    from lab_helpers.sandbox.kubernetes.kubelet.shim import LINE_MAX, Log

    path = tmp_path / "0.log"
    log = Log(str(path))
    log.feed("stdout", b"one\ntw")
    log.feed("stderr", b"err\n")
    log.feed("stdout", b"o\n" + b"x" * (LINE_MAX + 5))
    log.close()
    lines = Path(path).read_bytes().splitlines()
    fields = [line.split(b" ", 3)[1:] for line in lines]
    assert fields[:3] == [[b"stdout", b"F", b"one"], [b"stderr", b"F", b"err"], [b"stdout", b"F", b"two"]]
    assert fields[3][:2] == [b"stdout", b"P"] and fields[4] == [b"stdout", b"F", b"xxxxx"]
    assert lines[0].split(b" ")[0].endswith(b"Z")


def test_image_layers_hold_the_images_files_and_busybox_applets(tmp_path):
    fake = tmp_path / "busybox"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --list ]; then printf 'wget\\nnc\\nnslookup\\n'; fi\n")
    fake.chmod(0o755)
    busybox = registry.lookup(registry.parse("busybox"))
    layer = registry.materialize(busybox, tmp_path / "images", "/usr/bin/python3", inside=True, busybox=str(fake))
    applets = layer / busybox.applets.lstrip("/")
    assert sorted(os.listdir(applets)) == ["nc", "nslookup", "wget"]
    assert os.readlink(applets / "wget") == str(fake)
    assert any(e.startswith("PATH=" + busybox.applets + ":") for e in busybox.env)  # before the host's own tools
    nginx = registry.lookup(registry.parse("nginx"))
    layer = registry.materialize(nginx, tmp_path / "images", "/usr/bin/python3", inside=True)
    launcher = (layer / "usr/sbin/nginx").read_text()
    assert launcher.startswith("#!/bin/sh\nexec '/usr/bin/python3' -I -S '/usr/lib/sandbox-images/boot.py'")
    assert "Welcome to nginx!" in (layer / "usr/share/nginx/html/index.html").read_text()
    assert os.access(layer / "docker-entrypoint.sh", os.X_OK)


def test_the_shim_in_a_user_namespace_as_a_normal_user():
    """What a learner's laptop gets where unprivileged user namespaces are allowed: the same own root."""
    import shutil
    import subprocess
    import tempfile

    from lab_helpers.sandbox.kubernetes.kubelet.process import SHIM

    python = "/usr/bin/python3"
    if os.geteuid() != 0 or not os.path.exists(python):
        pytest.skip("needs root (to become a normal user) and a system python3")
    work = Path(tempfile.mkdtemp(prefix="kl-userns-", dir="/tmp"))
    try:
        os.chmod(work, 0o777)
        shim = work / "shim.py"
        shutil.copyfile(SHIM, shim)
        (work / "vol").mkdir()
        (work / "vol" / "k").write_text("from a volume\n")
        spec = {
            "argv": ["sh", "-c", "id -u; hostname; cat /etc/config/k; echo $$; exit 7"],
            "env": {"PATH": "/usr/bin:/bin"},
            "isolation": "userns",
            "hostname": "laptop-pod",
            "uid": None,
            "root": {
                "base": str(work / "root"),
                "layers": [],
                "binds": [{"source": str(work / "vol"), "target": "/etc/config", "readOnly": True}],
            },
            "log": str(work / "0.log"),
            "state": str(work / "0.json"),
        }
        (work / "spec.json").write_text(json.dumps(spec))
        for path in work.rglob("*"):
            os.chmod(path, 0o777 if path.is_dir() else 0o666)
        probe = subprocess.run(
            [python, "-I", "-S", str(shim), "--probe"], capture_output=True, text=True, user=65534, cwd="/", timeout=30
        )
        if json.loads(probe.stdout or "{}").get("isolation") != "userns":
            pytest.skip(f"no unprivileged user namespaces here: {probe.stdout or probe.stderr}")
        subprocess.run(
            [python, "-I", "-S", str(shim), str(work / "spec.json")], user=65534, cwd="/", timeout=30, check=True
        )
        state = json.loads((work / "0.json").read_text())
        texts = [line.split(" ", 3)[3] for line in (work / "0.log").read_text().splitlines()]
        assert state["exitCode"] == 7
        assert texts == ["0", "laptop-pod", "from a volume", "1"]  # root inside, its own hostname and pid 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_node_lease_renewed_where_the_api_serves_leases(objects, monkeypatch):
    from lab_helpers.sandbox.kubernetes.resources import Resource

    leases = Resource("coordination.k8s.io", "v1", "Lease", "leases", True)
    monkeypatch.setattr(nodes, "resource_for", lambda g, v, p: leases if p == "leases" else None)
    objects.create(by_plural("nodes"), {"metadata": {"name": "n1"}})
    nodes.renew_lease(objects, "n1")
    first = objects.get(leases, "kube-node-lease", "n1")
    assert first["spec"]["holderIdentity"] == "n1" and first["spec"]["leaseDurationSeconds"] == 40
    assert first["metadata"]["ownerReferences"][0]["kind"] == "Node"
    time.sleep(0.01)
    nodes.renew_lease(objects, "n1")
    assert objects.get(leases, "kube-node-lease", "n1")["spec"]["renewTime"] > first["spec"]["renewTime"]


def _ended(code: int, init: bool = False, restarted: bool = False) -> pod_status.Container:
    c = pod_status.Container({"name": "c", "image": "busybox"}, init)
    c.terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}
    if restarted:
        c.last_terminated, c.terminated = c.terminated, None
        c.waiting = ("CrashLoopBackOff", "back-off 10s restarting failed container=c pod=p_ns(u)")
    return c


def test_the_pod_phase_follows_the_kubelets_rules():
    phase = pod_status.phase
    waiting = pod_status.Container({"name": "c"}, False)
    assert phase("Always", [], [waiting], deleting=False) == "Pending"
    assert phase("Always", [], [_ended(1, restarted=True)], deleting=False) == "Running"  # CrashLoopBackOff
    assert phase("Never", [], [_ended(0)], deleting=False) == "Succeeded"
    assert phase("Never", [], [_ended(0), _ended(2)], deleting=False) == "Failed"
    assert phase("OnFailure", [], [_ended(2)], deleting=False) == "Running"
    assert phase("Always", [], [_ended(143)], deleting=True) == "Failed"
    assert phase("Never", [_ended(1, init=True)], [waiting], deleting=False) == "Failed"
    assert phase("Always", [_ended(1, init=True)], [waiting], deleting=False) == "Pending"
    status = pod_status.container_status(_ended(1, restarted=True), "u", restarting=True)
    assert (
        status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        and status["lastState"]["terminated"]["exitCode"] == 1
    )
    assert status["imageID"] == "" and status["ready"] is False and status["restartCount"] == 0
    assert pod_status.qos_class({"spec": {"containers": [{"resources": {}}]}}) == "BestEffort"
    limited = {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}
    assert pod_status.qos_class({"spec": {"containers": [{"resources": limited}]}}) == "Guaranteed"
    assert pod_status.qos_class({"spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}}) == "Burstable"


def test_log_options_tail_limit_timestamps_since(tmp_path):
    from lab_helpers.sandbox.kubernetes.kubelet import logs

    folder = tmp_path / "kubelet" / "pods" / "u1" / "containers" / "c"
    folder.mkdir(parents=True)
    old = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3600)) + ".000000001Z"
    new = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000000002Z"
    (folder / "0.log").write_text(
        f"{old} stdout F first\n{new} stdout P sec\n{new} stdout F ond\n{new} stderr F third\n", encoding="utf-8"
    )
    (folder / "0.json").write_text(json.dumps({"containerID": "sandbox://x", "running": False}))
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"containerStatuses": [{"name": "c", "state": {"terminated": {"containerID": "sandbox://x"}}}]},
    }

    def read(**kw) -> bytes:
        options = dict(
            follow=False, previous=False, timestamps=False, tail_lines=None, since_seconds=None, limit_bytes=None
        )
        options.update(kw)
        return b"".join(logs.stream(None, tmp_path, pod, "", **options))

    assert read() == b"first\nsecond\nthird\n"  # a partial line joined to the next one
    assert read(tail_lines=2) == b"second\nthird\n"
    assert read(tail_lines=0) == b""
    assert read(limit_bytes=8) == b"first\nse"
    assert read(since_seconds=60) == b"second\nthird\n"
    assert read(timestamps=True).splitlines()[1] == new.encode() + b" second"
    with pytest.raises(Exception) as err:
        read(previous=True)
    assert (
        json.loads(err.value.response.get_data())["message"] == 'previous terminated container "c" in pod "p" not found'
    )


def test_leftovers_are_signalled_only_when_the_pid_is_the_process_recorded(tmp_path):
    """After a crash the kubelet kills the containers its state files name: never a process that merely
    has the recorded pid now (a pid reused), nor one whose start time the state file lacks."""
    import subprocess

    import psutil

    from lab_helpers.sandbox.kubernetes.kubelet import process

    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)  # leads its own group, as a container does
    try:
        created = psutil.Process(stranger.pid).create_time()
        state_path = tmp_path / "pods" / "uid-1" / "containers" / "app" / "0.json"
        state_path.parent.mkdir(parents=True)

        def leftovers(**recorded) -> list:
            state_path.write_text(json.dumps({"running": True, "pid": stranger.pid, **recorded}), encoding="utf-8")
            return process.stop_leftovers(tmp_path / "pods")

        assert leftovers(startedAt=created - 3600) == [("uid-1", "app", 0)]  # recorded an hour before it started
        assert leftovers() == [("uid-1", "app", 0)]  # no start time recorded
        time.sleep(0.3)
        assert stranger.poll() is None, "a process that only shares the recorded pid was killed"
        assert json.loads(state_path.read_text(encoding="utf-8"))["running"] is False

        assert leftovers(startedAt=created + 0.5) == [("uid-1", "app", 0)]  # the very process recorded
        assert stranger.wait(timeout=10) == -9
    finally:
        if stranger.poll() is None:
            stranger.kill()
            stranger.wait()
