"""Capture the protobuf bodies the real kubectl and helm send, for the decoder's tests.

Run from the repository root with the pinned binaries on PATH::

    python tests/data/k8s-protobuf/capture.py

A small HTTPS server on 127.0.0.1 (the sandbox's own CA, a throwaway token) answers discovery and
echoes each write back as JSON; every POST/PUT body that arrives as
``application/vnd.kubernetes.protobuf`` is written to ``<name>.pb``. For the kubectl commands the
same command with ``--dry-run=client -o json`` gives the JSON body kubectl would have sent, written
to ``<name>.json``: the decoder must turn the first into the second. Helm's release Secret has no
such twin; its test checks the decoded release instead.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from lab_helpers.sandbox.kubernetes.resources import GIT_VERSION, MAJOR, MINOR, RESOURCES
from lab_helpers.sandbox.kubernetes.wire import protobuf, schemas
from lab_helpers.sandbox.pki import ensure_pki

HERE = Path(__file__).resolve().parent
TOKEN = "capture-token"

KUBECTL = {
    "namespace": ["create", "namespace", "demo"],
    "configmap": ["create", "configmap", "settings", "--from-literal=mode=fast", "--from-literal=level=3", "-n", "demo"],
    "secret": ["create", "secret", "generic", "pw", "--from-literal=password=s3cr3t", "-n", "demo"],
    "secret-docker": [
        "create", "secret", "docker-registry", "pull", "--docker-server=registry.example.com",
        "--docker-username=learner", "--docker-password=pw", "-n", "demo",
    ],
    "deployment": ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=80", "-n", "demo"],
    "deployment-zero": ["create", "deployment", "idle", "--image=busybox", "--replicas=0", "-n", "demo"],
    "job": ["create", "job", "once", "--image=busybox", "-n", "demo", "--", "sh", "-c", "echo hello; sleep 1"],
    "serviceaccount": ["create", "serviceaccount", "robot", "-n", "demo"],
    "service": ["create", "service", "clusterip", "web", "--tcp=80:8080", "-n", "demo"],
    "service-nodeport": ["create", "service", "nodeport", "edge", "--tcp=8080:80", "--node-port=30080", "-n", "demo"],
}  # fmt: skip

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\n",
    "templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tiny\ndata:\n  greeting: hello\n",
}


def discovery() -> dict[str, dict]:
    out: dict[str, dict] = {
        "/version": {"major": MAJOR, "minor": MINOR, "gitVersion": GIT_VERSION, "platform": "linux/amd64"},
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    }
    groups: dict[str, list] = {}
    lists: dict[str, list] = {}
    for r in RESOURCES:
        root = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
        lists.setdefault(root, []).append(
            {
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(r.verbs),
                "shortNames": list(r.short_names),
            }
        )
        if r.group:
            gv = {"groupVersion": f"{r.group}/{r.version}", "version": r.version}
            groups.setdefault(r.group, [gv])
    out["/apis"] = {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{"name": g, "versions": v, "preferredVersion": v[0]} for g, v in groups.items()],
    }
    for root, resources in lists.items():
        out[root] = {"kind": "APIResourceList", "groupVersion": root.split("/", 2)[-1], "resources": resources}
    out["/openapi/v3"] = schemas.openapi_v3_index()
    for path in out["/openapi/v3"]["paths"]:
        out[f"/openapi/v3/{path}"] = schemas.openapi_v3_document(path) or {}
    return out


class Capture(BaseHTTPRequestHandler):
    routes: dict[str, dict] = {}
    bodies: list[tuple[str, str, str, bytes]] = []
    stored: dict[str, dict] = {}  # collection path -> name -> object

    def log_message(self, *args) -> None:
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        collection, _, name = path.rpartition("/")
        if path in self.routes:
            self._send(200, self.routes[path])
        elif path.endswith("/secrets") or path.endswith("/configmaps"):
            kind = "SecretList" if path.endswith("/secrets") else "ConfigMapList"
            items = list(self.stored.get(path, {}).values())
            self._send(200, {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items})
        elif name in self.stored.get(collection, {}):
            self._send(200, self.stored[collection][name])
        else:
            self._send(
                404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}
            )

    def _write(self, code: int) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        self.bodies.append((self.command, self.path, ctype, body))
        if ctype.startswith(protobuf.MEDIA_TYPE):
            obj = protobuf.decode(body)
        else:
            obj = yaml.safe_load(body) or {}
        obj.setdefault("metadata", {}).setdefault("resourceVersion", "2")
        obj["metadata"].setdefault("uid", "00000000-0000-0000-0000-000000000001")
        path = self.path.split("?", 1)[0]
        collection = path if self.command == "POST" else path.rpartition("/")[0]
        self.stored.setdefault(collection, {})[obj["metadata"].get("name", "")] = obj
        self._send(code, obj)

    def do_POST(self) -> None:
        self._write(201)

    def do_PUT(self) -> None:
        self._write(200)

    def do_PATCH(self) -> None:
        self._write(200)

    def do_DELETE(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.bodies.append((self.command, self.path, self.headers.get("Content-Type", ""), body))
        collection, _, name = self.path.split("?", 1)[0].rpartition("/")
        self.stored.get(collection, {}).pop(name, None)
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200})


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="k8s-capture-"))
    pki = ensure_pki(work)
    Capture.routes = discovery()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    server.socket = pki.server_context().wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    kubeconfig = work / "kubeconfig"
    ca = pki.ca_cert.read_text()

    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": f"https://127.0.0.1:{port}",
                            "certificate-authority-data": base64.b64encode(ca.encode()).decode(),
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "demo"}}],
                "current-context": "c",
            }
        )
    )
    os.chmod(kubeconfig, 0o600)
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(work / "cache"), "HOME": str(work)}
    for name, args in KUBECTL.items():
        Capture.bodies.clear()
        done = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=60)
        print(name, done.returncode, done.stdout.strip(), done.stderr.strip()[:300], file=sys.stderr)
        sent = [b for b in Capture.bodies if b[2].startswith(protobuf.MEDIA_TYPE)]
        if not sent:
            continue
        (HERE / f"{name}.pb").write_bytes(sent[0][3])
        split = args.index("--") if "--" in args else len(args)
        dry = [*args[:split], "--dry-run=client", "-o", "json", *args[split:]]
        twin = subprocess.run(["kubectl", *dry], env=env, capture_output=True, text=True, timeout=60, check=True)
        (HERE / f"{name}.json").write_text(json.dumps(json.loads(twin.stdout), indent=2, sort_keys=True) + "\n")
    chart = work / "tiny"
    for rel, text in CHART.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    Capture.bodies.clear()
    helm_env = {
        **env,
        "HELM_CACHE_HOME": str(work / "hc"),
        "HELM_CONFIG_HOME": str(work / "hg"),
        "HELM_DATA_HOME": str(work / "hd"),
    }
    done = subprocess.run(
        ["helm", "install", "tiny", str(chart), "-n", "demo"], env=helm_env, capture_output=True, text=True, timeout=120
    )
    print("helm", done.returncode, done.stdout.strip()[:300], done.stderr.strip()[:500], file=sys.stderr)
    done = subprocess.run(
        ["helm", "uninstall", "tiny", "-n", "demo"], env=helm_env, capture_output=True, text=True, timeout=120
    )
    print("helm uninstall", done.returncode, done.stdout.strip()[:300], done.stderr.strip()[:500], file=sys.stderr)
    for n, (method, _path, _ctype, body) in enumerate(
        b for b in Capture.bodies if b[2].startswith(protobuf.MEDIA_TYPE)
    ):
        (HERE / f"helm-{n}-{method.lower()}.pb").write_bytes(body)
    for method, path, ctype, body in Capture.bodies:
        print("  helm sent", method, path, ctype, len(body), file=sys.stderr)
    server.shutdown()


if __name__ == "__main__":
    main()
