"""Ingress and NetworkPolicy in the sandbox cluster, with the real kubectl, curl and requests: the
transcript ``k8s_transcripts/ingress.txt`` (default class, ``kubectl create ingress`` as protobuf,
routing by host and path, 404/503, hostile inputs, validation, NetworkPolicies said not to be
enforced), then what a transcript cannot show well: the headers and bodies the proxy passes on,
a streamed response, the latency against the Service itself, and a restart that keeps the port."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import pytest
import requests
from k8s_fixtures import Transcript, cluster, kube, load_transcript  # noqa: F401

from lab_helpers.sandbox.kubernetes.kubelet import ingress as routing

pytestmark = pytest.mark.timeout(600)

SECTIONS = load_transcript("ingress.txt")


@pytest.fixture(scope="module")
def transcript(kube, cluster, tmp_path_factory) -> Transcript:
    return Transcript(kube.env, tmp_path_factory.mktemp("ingress-transcript"))


@pytest.mark.parametrize("section", list(SECTIONS))
def test_ingress_transcript(transcript, section):
    transcript.run(section, SECTIONS[section])


def _port(kube, name: str = "web", namespace: str = "ing", index: int = 0) -> int:
    jsonpath = f"{{.status.loadBalancer.ingress[0].ports[{index}].port}}"
    return int(kube.kubectl("get", "ingress", name, "-n", namespace, "-o", f"jsonpath={jsonpath}").stdout)


def _wait(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except (requests.RequestException, AssertionError):
            if time.monotonic() >= deadline:
                raise
        if time.monotonic() >= deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.2)


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers with what it got (path, headers, body); ``/stream`` sends one piece, waits until the
    test has read it (or 10 s), then the second."""

    protocol_version = "HTTP/1.1"
    first_read = threading.Event()

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"6\r\nfirst\n\r\n")
            self.wfile.flush()
            waited = self.first_read.wait(10)
            last = b"second:%s\n" % (b"after-read" if waited else b"no-read")
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(last), last))
            return
        body = self._body()
        out = json.dumps({"path": self.path, "headers": dict(self.headers), "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Connection", "close, X-Hop")
        self.send_header("X-Hop", "hop-by-hop, named by Connection")
        self.end_headers()
        self.wfile.write(out)

    do_POST = do_PUT = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def echo(kube, cluster):
    """An HTTP server of the test's own, reached as Service ``echo`` (an Endpoints object naming it)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    kube.kubectl("create", "namespace", "ing-echo")
    manifest = f"""
apiVersion: v1
kind: Service
metadata: {{name: echo, namespace: ing-echo}}
spec:
  ports: [{{name: http, port: 80, targetPort: {port}}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: echo, namespace: ing-echo}}
subsets:
- addresses: [{{ip: 127.0.0.1}}]
  ports: [{{name: http, port: {port}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: echo, namespace: ing-echo}}
spec:
  rules:
  - host: echo.localhost
    http:
      paths:
      - {{path: /, pathType: Prefix, backend: {{service: {{name: echo, port: {{name: http}}}}}}}}
"""
    # writing Endpoints is the admin's (the learner's role, like the real "edit" role, may not)
    kube.kubectl("--context", "sandbox-admin", "apply", "-f", "-", input=manifest)
    ingress_port = _wait(lambda: _port(kube, "echo", "ing-echo") if _status_ports(kube) else 0)
    yield f"http://127.0.0.1:{ingress_port}"
    server.shutdown()


def _status_ports(kube) -> bool:
    out = kube.kubectl("get", "ingress", "echo", "-n", "ing-echo", "-o", "jsonpath={.status.loadBalancer}").stdout
    return '"port"' in out


def test_headers_and_bodies_pass_through(kube, echo):
    """Host is kept, X-Forwarded-* set (a client's own replaced; https on the TLS port), hop-by-hop
    headers dropped both ways, a chunked request body streamed on, the path normalised and the query kept."""

    def pieces():
        yield b"one,"
        yield b"two"

    got = requests.post(
        f"{echo}/a/./b/../c?x=1&y=2",
        data=pieces(),
        headers={
            "Host": "echo.localhost:8080",
            "X-Forwarded-For": "203.0.113.9",
            "Connection": "keep-alive, X-Secret",
            "X-Secret": "not for the endpoint",
            "Proxy-Authorization": "Basic eA==",
        },
        timeout=10,
    )
    assert got.status_code == 200, got.text
    seen = got.json()
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["path"] == "/a/c?x=1&y=2"
    assert seen["body"] == "one,two" and headers.get("transfer-encoding") == "chunked"
    assert headers["host"] == "echo.localhost:8080"
    assert headers["x-forwarded-host"] == "echo.localhost:8080"
    assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-real-ip"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http" and headers["x-forwarded-port"] == echo.rsplit(":", 1)[1]
    assert "x-secret" not in headers and "proxy-authorization" not in headers
    assert "x-hop" not in {k.lower() for k in got.headers}
    tls_port = _port(kube, "secure", index=1)  # the Ingress with TLS lists the HTTPS port second
    ca = str(kube.state / "sandbox" / "pki" / "ca.crt")  # the default certificate is the sandbox's own
    over_tls = requests.get(
        f"https://127.0.0.1:{tls_port}/x", headers={"Host": "echo.localhost"}, verify=ca, timeout=10
    )
    tls_headers = {k.lower(): v for k, v in over_tls.json()["headers"].items()}
    assert tls_headers["x-forwarded-proto"] == "https" and tls_headers["x-forwarded-port"] == str(tls_port)
    sized = requests.put(f"{echo}/put", data=b"x" * 300_000, headers={"Host": "echo.localhost"}, timeout=10)
    assert len(sized.json()["body"]) == 300_000


def test_response_streams(echo):
    """The first piece arrives while the endpoint is still holding back the second."""
    _Echo.first_read.clear()
    with requests.get(f"{echo}/stream", headers={"Host": "echo.localhost"}, stream=True, timeout=15) as got:
        pieces = got.iter_lines()
        assert next(pieces) == b"first"
        _Echo.first_read.set()
        assert next(pieces) == b"second:after-read"


def test_latency_through_ingress_and_direct(kube, echo):
    """200 GETs to nginx through the ingress port, 200 to the Service's own address (a new connection
    each, as curl makes): p50, p95 and failures are printed (for the record, not asserted); every
    request through the ingress succeeds."""
    port = _port(kube)
    cluster_ip = kube.kubectl("get", "service", "web", "-n", "ing", "-o", "jsonpath={.spec.clusterIP}").stdout
    _wait(lambda: requests.get(f"http://127.0.0.1:{port}/", headers={"Host": "web.localhost"}, timeout=5).ok)
    results = {}
    for label, url, headers, get in (
        ("ingress", f"http://127.0.0.1:{port}/", {"Host": "web.localhost"}, requests.get),
        ("service", f"http://{cluster_ip}:80/", {}, requests.get),
    ):
        times, codes = [], []
        for _ in range(200):
            start = time.perf_counter()
            try:
                codes.append(get(url, headers=headers, timeout=5).status_code)
            except requests.ConnectionError:
                codes.append(0)
            times.append(time.perf_counter() - start)
        times.sort()
        results[label] = (round(times[99] * 1000, 2), round(times[189] * 1000, 2), 200 - codes.count(200))
    assert results["ingress"][2] == 0, results  # every request through the ingress answered 200
    print("\nlatency ms (p50, p95, failed of 200):", results)


def test_python_client_reads_ingress_status_and_policies(kube):
    """The kubernetes Python client sees the same: the Ingress's class, address and port, and the
    NetworkPolicy annotated as not enforced; a policy it writes is validated as kubectl's are."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = client.NetworkingV1Api(kube.api_client())
    ing = api.read_namespaced_ingress("shop", "ing")
    entry = ing.status.load_balancer.ingress[0]
    assert ing.spec.ingress_class_name == "sandbox"
    assert entry.ip == "127.0.0.1" and entry.ports[0].port == _port(kube, "shop") and entry.ports[0].protocol == "TCP"
    classes = {c.metadata.name: c.spec.controller for c in api.list_ingress_class().items}
    assert classes.get("sandbox") == "sandbox.visualizing-compute/ingress"
    policy = client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="from-python"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "web"}),
            ingress=[
                client.V1NetworkPolicyIngressRule(
                    _from=[
                        client.V1NetworkPolicyPeer(
                            ip_block=client.V1IPBlock(cidr="127.0.0.0/8", _except=["10.0.0.0/8"])
                        )
                    ]
                )
            ],
        ),
    )
    with pytest.raises(ApiException) as refused:
        api.create_namespaced_network_policy("ing", policy)
    assert refused.value.status == 422 and "must be a strict subset of `cidr`" in refused.value.body
    policy.spec.ingress[0]._from[0].ip_block._except = ["127.96.0.0/12"]
    made = api.create_namespaced_network_policy("ing", policy)
    assert "not enforced" in made.metadata.annotations["sandbox.visualizing-compute/simulated"]


def test_restart_keeps_port_and_routes(kube):
    """The sandbox stops and starts again: the same port, the same Ingress status, the same routes."""
    from lab_helpers import sandbox as sb

    before, tls_before = _port(kube), _port(kube, "secure", index=1)
    sb.stop()
    with socket.socket() as probe:  # the port is closed with the service
        assert probe.connect_ex(("127.0.0.1", before)) != 0
    sb.start()
    assert _port(kube) == before and _port(kube, "secure", index=1) == tls_before

    def served() -> bool:
        got = requests.get(f"http://127.0.0.1:{before}/index.html", headers={"Host": "shop.localhost"}, timeout=5)
        return got.status_code == 200 and got.text == "api backend"

    assert _wait(served, 60)
    told = kube.kubectl(
        "get",
        "events",
        "-n",
        "ing",
        "--field-selector",
        "involvedObject.name=deny-all,reason=NotEnforced",
        "-o",
        "name",
    ).stdout.split()
    assert len(told) == 1, told  # told once, not again after the restart


def test_routes_unit():
    """The routing table alone: wildcard depth, Exact over Prefix, path elements, the oldest Ingress wins."""

    def ing(name, created, rules, default=None):
        spec = {"rules": rules}
        if default:
            spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
        return {"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created}, "spec": spec}

    def path(p, kind, svc):
        return {"path": p, "pathType": kind, "backend": {"service": {"name": svc, "port": {"number": 80}}}}

    routes = routing.build(
        [
            ing("new", "2", [{"host": "a.test", "http": {"paths": [path("/foo", "Prefix", "late")]}}]),
            ing(
                "old",
                "1",
                [
                    {"host": "a.test", "http": {"paths": [path("/foo", "Prefix", "foo"), path("/foo", "Exact", "ex")]}},
                    {"host": "*.w.test", "http": {"paths": [path("/", "Prefix", "wild")]}},
                ],
            ),
        ]
    )

    def svc(host, p):
        backend, _ = routes.route(host, p)
        return backend.service if backend else None

    assert svc("a.test", "/foo") == "ex"
    assert svc("a.test", "/foo/") == "foo" and svc("a.test", "/foo/bar") == "foo"
    assert svc("a.test", "/foobar") is None
    assert svc("x.w.test", "/") == "wild" and svc("w.test", "/") is None and svc("y.x.w.test", "/") is None
    assert routing.normalise_path(b"/a/%2e%2e/b//c/./") == "/b/c/"
    assert routing.normalise_path(b"/a/../../b") is None
    assert routing.split_host("Web.Localhost:8080") == "web.localhost" and routing.split_host("a" * 300) is None
