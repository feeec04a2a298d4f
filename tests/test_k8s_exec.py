"""``kubectl exec`` (WebSocket, channel.k8s.io), ``kubectl cp``, the proxies and ``kubectl
port-forward``'s refusal against the sandbox cluster: the real kubectl through the transcript
``k8s_transcripts/exec.txt`` and a pseudo-terminal for ``exec -it``; the kubernetes Python client's
``stream()``; and hostile clients (many sessions, one that never reads, huge and odd frames, a
session still open when the sandbox stops)."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import pty
import select
import socket
import ssl
import struct
import termios
import threading
import time
import urllib.parse

import pytest
import yaml
from k8s_fixtures import Transcript, cluster, kube, load_transcript

pytestmark = pytest.mark.timeout(300)

SECTIONS = load_transcript("exec.txt")
NS = "tx-exec"


def wait_for(what: str, check, timeout: float = 30.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@pytest.fixture(scope="module")
def transcript(kube, cluster, tmp_path_factory) -> Transcript:
    """The transcript's runner, its ``setup`` section (the pods and Services every test uses) done."""
    t = Transcript(kube.env, tmp_path_factory.mktemp("exec-transcript"))
    t.run("setup", SECTIONS["setup"])
    return t


@pytest.mark.parametrize("section", [s for s in SECTIONS if s != "setup"])
def test_kubectl(transcript, section):
    transcript.run(section, SECTIONS[section])


# -- helpers: the learner's credentials, a raw WebSocket exec -------------------------------------


def _credentials(kube, context: str = "sandbox") -> tuple[str, str]:
    doc = yaml.safe_load(kube.kubeconfig.read_text())
    server = doc["clusters"][0]["cluster"]["server"]
    user = next(c["context"]["user"] for c in doc["contexts"] if c["name"] == context)
    token = next(u["user"]["token"] for u in doc["users"] if u["name"] == user)
    return server, token


def _exec_url(server: str, pod: str, argv: list[str], ns: str = NS, **flags: bool) -> str:
    query = [("command", a) for a in argv] + [(k, "true") for k, v in flags.items() if v]
    base = server.replace("https://", "wss://")
    return f"{base}/api/v1/namespaces/{ns}/pods/{pod}/exec?{urllib.parse.urlencode(query)}"


def _ws(kube, argv: list[str], protocol: str = "v5.channel.k8s.io", pod: str = "two", **flags: bool):
    import websocket

    server, token = _credentials(kube)
    return websocket.create_connection(
        _exec_url(server, pod, argv, **flags) + "&container=shell",
        header=[f"Authorization: Bearer {token}"],
        subprotocols=[protocol],
        sslopt={"cert_reqs": ssl.CERT_NONE},
        timeout=30,
    )


def _collect(ws) -> tuple[dict[int, bytes], dict]:
    """Every channel's bytes until the server closes; the error channel's Status."""
    import websocket

    got: dict[int, bytes] = {}
    while True:
        try:
            op, data = ws.recv_data(control_frame=False)
        except websocket.WebSocketConnectionClosedException:
            break
        if op == websocket.ABNF.OPCODE_CLOSE:
            break
        if isinstance(data, str):
            data = data.encode()
        if data:
            got[data[0]] = got.get(data[0], b"") + data[1:]
    return got, json.loads(got.get(3) or b"{}")


def _host_pids(marker: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        out.append(int(entry))
            except OSError:
                pass
    return out


def _sandbox_status(kube, field: str) -> int:
    pid = json.loads((kube.state / "sandbox" / "service.json").read_text())["pid"]
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def _sandbox_rss_kib(kube) -> int:
    return _sandbox_status(kube, "VmRSS")


# -- kubectl exec -it, through a pseudo-terminal ---------------------------------------------------


def _read_until(fd: int, token: bytes, timeout: float = 20.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
    return buf


def test_exec_it_terminal(kube, transcript):
    pid, fd = pty.fork()
    if pid == 0:  # the learner's terminal: 100 columns, 30 rows
        os.execvpe("kubectl", ["kubectl", "exec", "-it", "-n", NS, "two", "-c", "shell", "--", "sh"], kube.env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        assert b"$ " in _read_until(fd, b"$ "), "no prompt"
        os.write(fd, b"echo answer=$((6*7))\r")
        assert b"answer=42" in _read_until(fd, b"answer=42")
        size = "import fcntl,termios,struct;print('size=%d,%d'%struct.unpack('HH',fcntl.ioctl(0,termios.TIOCGWINSZ,b'0000')))"
        os.write(fd, f'python3 -c "{size}"\r'.encode())
        assert b"size=30,100" in _read_until(fd, b"size=30,100"), "the terminal's size reached the command"
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # resize: kubectl sends channel 4
        time.sleep(0.3)
        os.write(fd, f'python3 -c "{size}"\r'.encode())
        assert b"size=40,120" in _read_until(fd, b"size=40,120"), "the resize reached the command"
        os.write(fd, b"sleep 60; echo not-$((2+3))\r")
        time.sleep(0.5)
        os.write(fd, b"\x03")  # Ctrl-C interrupts the command in the pod, not the session
        os.write(fd, b"echo still-$((1+1))\r")
        seen = _read_until(fd, b"still-2\r\n")
        assert b"still-2" in seen and b"not-5" not in seen, seen
        os.write(fd, b"exit 5\r")
        _read_until(fd, b"\x00", timeout=10)
    finally:
        deadline = time.monotonic() + 20
        while not (done := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        if not done[0]:
            os.kill(pid, 9)
            done = os.waitpid(pid, 0)
        os.close(fd)
    st = done[1]
    assert os.waitstatus_to_exitcode(st) == 5


# -- the kubernetes Python client -----------------------------------------------------------------


def test_python_client_stream(kube, transcript):
    from kubernetes import client
    from kubernetes.stream import stream

    api = client.CoreV1Api(kube.api_client())
    out = stream(
        api.connect_get_namespaced_pod_exec,
        "two",
        NS,
        container="shell",
        command=["sh", "-c", "echo hi; echo oops >&2"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert out == "hi\noops\n"
    ws = stream(
        api.connect_get_namespaced_pod_exec,
        "two",
        NS,
        container="shell",
        command=["sh", "-c", "read x; echo got $x; echo warn >&2; exit 4"],
        stderr=True,
        stdin=True,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    ws.write_stdin("abc\n")
    ws.run_forever(timeout=20)
    assert ws.read_stdout() == "got abc\n"
    assert ws.read_stderr() == "warn\n"
    assert ws.returncode == 4
    cat = stream(
        api.connect_get_namespaced_pod_exec,
        "two",
        NS,
        container="shell",
        command=["cat"],
        stderr=True,
        stdin=True,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    for word in ("first", "second"):  # interactive: each line comes back while cat runs
        cat.write_stdin(word + "\n")
        wait_for(f"{word} echoed", lambda: cat.update(timeout=1) or cat.peek_stdout())
        assert cat.read_stdout() == word + "\n"
    cat.close()


# -- the wire: statuses, protocols, RBAC ----------------------------------------------------------


def test_exec_wire(kube, transcript):
    import requests

    server, token = _credentials(kube)
    auth = {"Authorization": f"Bearer {token}"}
    url = _exec_url(server, "two", ["true"], stdout=True).replace("wss://", "https://")
    plain = requests.post(url + "&container=shell", headers=auth, verify=False, timeout=10)
    assert plain.status_code == 400 and plain.json()["message"] == "Upgrade request required"
    none = requests.get(url.replace("command=true&", ""), headers=auth, verify=False, timeout=10)
    assert none.status_code == 400 and none.json()["message"] == "you must specify at least 1 command"
    forbidden = requests.post(
        _exec_url(server, "x", ["true"], ns="kube-system", stdout=True).replace("wss://", "https://"),
        headers=auth,
        verify=False,
        timeout=10,
    )
    assert forbidden.status_code == 403
    assert (
        'cannot create resource "pods/exec" in API group "" in the namespace "kube-system"'
        in (forbidden.json()["message"])
    )
    # v5: exit status on channel 3; an empty first message on the lowest output channel
    ws = _ws(kube, ["sh", "-c", "echo out; echo err >&2; exit 9"], stdout=True, stderr=True)
    assert ws.subprotocol == "v5.channel.k8s.io"
    got, st = _collect(ws)
    assert (got[1], got[2]) == (b"out\n", b"err\n")
    assert st["status"] == "Failure" and st["reason"] == "NonZeroExitCode"
    assert st["details"]["causes"] == [{"reason": "ExitCode", "message": "9"}]
    # v4.base64: text frames, the channel as a digit
    ws = _ws(kube, ["sh", "-c", "cat; exit 0"], protocol="v4.base64.channel.k8s.io", stdin=True, stdout=True)
    assert ws.subprotocol == "v4.base64.channel.k8s.io"
    ws.send("0" + base64.b64encode(b"through base64\n").decode())
    assert ws.recv() == "1"  # the empty hello on stdout
    assert ws.recv() == "1" + base64.b64encode(b"through base64\n").decode()
    ws.close()


# -- hostile clients ------------------------------------------------------------------------------


def test_many_sessions_at_once(kube, transcript):
    results: list[tuple[dict[int, bytes], dict]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        got = _collect(_ws(kube, ["sh", "-c", f"sleep 0.5; echo session-{i}; exit {i % 4}"], stdout=True))
        with lock:
            results.append(got)

    baseline = _sandbox_status(kube, "Threads")
    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 24
    wait_for("the sessions' threads gone", lambda: _sandbox_status(kube, "Threads") <= baseline + 2)
    assert sorted(r[0][1].decode().strip() for r in results) == sorted(f"session-{i}" for i in range(24))
    assert sorted(
        int((r[1].get("details") or {"causes": [{"message": "0"}]})["causes"][0]["message"]) for r in results
    ) == sorted(i % 4 for i in range(24))


def test_client_that_never_reads(kube, transcript):
    """The command's output waits in its pipe: the server holds no more than a few buffers; other
    requests are answered meanwhile; when the client goes, so does the command."""
    marker = "never-reads-7f3a"
    ws = _ws(kube, ["sh", "-c", f"exec yes {marker}"], stdout=True)
    wait_for("the command running", lambda: _host_pids(marker))
    time.sleep(1.0)
    before = _sandbox_rss_kib(kube)
    time.sleep(2.0)
    grown = _sandbox_rss_kib(kube) - before
    assert grown < 20 * 1024, f"the sandbox grew by {grown} KiB while the client read nothing"
    got, st = _collect(_ws(kube, ["echo", "meanwhile"], stdout=True))
    assert got[1] == b"meanwhile\n" and st["status"] == "Success"
    ws.sock.close()
    wait_for("the command ended with its client", lambda: not _host_pids(marker), timeout=150)


def test_odd_frames(kube, transcript):
    """A huge stdin frame, unknown channels, a broken resize and a client's close of stdin: no 500,
    nothing hung, the command sees exactly its stdin."""
    import websocket

    ws = _ws(kube, ["wc", "-c"], stdin=True, stdout=True)
    ws.send_binary(bytes([7]) + b"x" * 1000)  # an unknown channel: ignored
    ws.send_binary(bytes([1]) + b"y" * 100)  # the server's own channel: ignored
    ws.send_binary(bytes([4]) + b"{not json")  # a resize that is not one
    ws.send_binary(bytes([4]) + b"z" * 100_000)  # an oversized resize
    ws.send_binary(bytes([0]) + b"a" * (8 * 1024 * 1024))  # 8 MiB in one frame
    ws.send_binary(bytes([255, 0]))  # v5: close stdin
    got, st = _collect(ws)
    assert got[1].strip() == str(8 * 1024 * 1024).encode() and st["status"] == "Success"
    marker = "odd-frames-c41d"
    ws = _ws(kube, ["sh", "-c", f"cat; : {marker}"], stdin=True, stdout=True)  # open until stdin ends
    wait_for("the command running", lambda: _host_pids(marker))
    ws.send(b"\x00stdin", opcode=websocket.ABNF.OPCODE_BINARY)
    ws.sock.sendall(b"\x82\x7f" + b"\xff" * 8)  # a frame header claiming 2^64-1 bytes, unmasked
    _collect(ws)  # the server closes (a protocol error); nothing hangs
    wait_for("the command ended with its session", lambda: not _host_pids(marker))
    got, st = _collect(_ws(kube, ["echo", "still-serving"], stdout=True))
    assert got[1] == b"still-serving\n"
    log = (kube.state / "sandbox" / "sandbox.log").read_text()
    assert not [ln for ln in log.splitlines() if " ERROR " in ln and "/exec" in ln], "no request failed inside"
    assert "SSL error" not in log, "every session's connection ended cleanly"


# -- proxies the kubectl transcript does not reach --------------------------------------------------


def test_node_proxy_and_redirects(kube, cluster, transcript):
    import requests

    server, token = _credentials(kube, "sandbox-admin")
    auth = {"Authorization": f"Bearer {token}"}
    node = cluster[0]
    ok = requests.get(f"{server}/api/v1/nodes/{node}/proxy/healthz", headers=auth, verify=False, timeout=10)
    assert (ok.status_code, ok.text) == (200, "ok")
    other = requests.get(f"{server}/api/v1/nodes/{node}/proxy/metrics", headers=auth, verify=False, timeout=10)
    assert other.status_code == 503 and "simulates no kubelet HTTP endpoint" in other.json()["message"]
    from lab_helpers.sandbox.kubernetes.apiserver.proxies import rewrite_location

    base = "/api/v1/namespaces/w/services/web:80/proxy/"
    assert rewrite_location("/login?x=1", "http", "127.244.0.5", 80, base) == base + "login?x=1"
    assert rewrite_location("http://127.244.0.5/a", "http", "127.244.0.5", 80, base) == base + "a"
    assert rewrite_location("http://elsewhere.test/a", "http", "127.244.0.5", 80, base) == "http://elsewhere.test/a"
    assert rewrite_location("next", "http", "127.244.0.5", 80, base) == "next"


def test_exec_p50(kube, transcript):
    """``kubectl exec POD -- true``, 20 times: the median is printed (no bound asserted)."""
    import subprocess

    times = []
    for _ in range(20):
        t = time.monotonic()
        done = subprocess.run(
            ["kubectl", "exec", "-n", NS, "two", "-c", "shell", "--", "true"], env=kube.env, capture_output=True
        )
        times.append(time.monotonic() - t)
        assert done.returncode == 0, done.stderr
    times.sort()
    print(f"kubectl exec -- true: p50 {times[10] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")


# -- the service proxy end to end: methods, bodies both ways, redirects, a large answer streamed ---

BACKEND = """
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, code, body=b"", **headers):
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if self.path.startswith("/redirect"):
            return self.reply(302, Location="/landed?from=redirect")
        if self.path.startswith("/absolute"):
            return self.reply(301, Location="http://" + self.headers["Host"] + "/landed")
        if self.path.startswith("/upgrade"):
            self.send_response(101)
            self.send_header("Upgrade", "echo")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            while data := self.connection.recv(65536):
                self.connection.sendall(data.upper())
            self.close_connection = True
            return
        if self.path.startswith("/page"):
            return self.reply(200, b'<a href="/landed">in</a> <a href="http://out.test/">out</a>', Content_Type="text/html")
        if self.path.startswith("/big"):
            self.send_response(200)
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            for _ in range(1024):
                self.wfile.write(b"x" * 65536)
            return
        auth = self.headers.get("Authorization")
        self.reply(200, f"{self.command} {self.path} {len(body)} auth={auth}".encode())
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any
http.server.ThreadingHTTPServer(("", 8000), H).serve_forever()
"""


def test_service_proxy_end_to_end(kube, transcript):
    import requests
    from kubernetes import client

    api = client.CoreV1Api(kube.api_client())
    api.create_namespaced_pod(
        NS,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "backend", "labels": {"app": "backend"}},
            "spec": {"containers": [{"name": "py", "image": "busybox", "command": ["python3", "-c", BACKEND]}]},
        },
    )
    api.create_namespaced_service(
        NS,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "backend"},
            "spec": {"selector": {"app": "backend"}, "ports": [{"name": "api", "port": 80, "targetPort": 8000}]},
        },
    )
    server, token = _credentials(kube)
    auth = {"Authorization": f"Bearer {token}"}
    base = f"{server}/api/v1/namespaces/{NS}/services/backend:api/proxy"

    def call(method: str, path: str, **kw):
        return requests.request(
            method, base + path, headers=auth, verify=False, timeout=30, allow_redirects=False, **kw
        )

    wait_for("the backend answering", lambda: call("GET", "/").status_code == 200, timeout=60, every=0.3)
    assert call("GET", "/a/b?q=1").text == "GET /a/b?q=1 0 auth=None"  # the caller's token stays behind
    assert call("POST", "/up", data=b"z" * (2 * 1024 * 1024)).text == f"POST /up {2 * 1024 * 1024} auth=None"
    for method in ("PUT", "PATCH", "DELETE"):
        assert call(method, "/m", data=b"abc").text == f"{method} /m 3 auth=None"
    moved = call("GET", "/redirect")
    assert moved.status_code == 302
    assert moved.headers["Location"] == f"/api/v1/namespaces/{NS}/services/backend:api/proxy/landed?from=redirect"
    absolute = call("GET", "/absolute")
    assert absolute.headers["Location"] == f"/api/v1/namespaces/{NS}/services/backend:api/proxy/landed"
    page = call("GET", "/page")
    assert (
        page.text
        == f'<a href="/api/v1/namespaces/{NS}/services/backend:api/proxy/landed">in</a> <a href="http://out.test/">out</a>'
    )
    assert page.headers["Content-Length"] == str(len(page.content))
    # an upgrade through the proxy: the backend's 101, then bytes both ways
    host, port = server.removeprefix("https://").split(":")
    raw = ssl.create_default_context()
    raw.check_hostname, raw.verify_mode = False, ssl.CERT_NONE
    with raw.wrap_socket(socket.create_connection((host, int(port)), timeout=10)) as tls:
        tls.sendall(
            f"GET /api/v1/namespaces/{NS}/services/backend:api/proxy/upgrade HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += tls.recv(4096)
        assert answer.startswith(b"HTTP/1.0 101") or answer.startswith(b"HTTP/1.1 101"), answer
        tls.sendall(b"through the tunnel")
        echoed = b""
        while len(echoed) < len(b"through the tunnel"):
            echoed += tls.recv(4096)
        assert echoed == b"THROUGH THE TUNNEL"
    before = _sandbox_rss_kib(kube)
    peak = before
    total = 0
    with call("GET", "/big", stream=True) as big:
        assert big.headers["Content-Length"] == str(64 * 1024 * 1024)
        for chunk in big.iter_content(1024 * 1024):
            total += len(chunk)
            peak = max(peak, _sandbox_rss_kib(kube))
    assert total == 64 * 1024 * 1024
    assert peak - before < 24 * 1024, f"the sandbox grew by {peak - before} KiB while proxying 64 MiB"


# -- last: the sandbox stops under an open session ------------------------------------------------


def test_session_open_when_the_sandbox_stops(kube, transcript):
    import websocket

    from lab_helpers import sandbox as sb

    marker = "left-open-51c2"
    ws = _ws(kube, ["sh", "-c", f"sleep 600; : {marker}"], stdin=True, stdout=True)
    wait_for("the command running", lambda: _host_pids(marker))
    assert sb.stop()  # the fixture's sandbox (its LAB_STATE_DIR is set for the module)
    ws.settimeout(10)
    ended = False
    try:
        while True:
            op, _ = ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                ended = True
                break
    except (websocket.WebSocketConnectionClosedException, OSError):
        ended = True
    assert ended
    wait_for("the command ended with the sandbox", lambda: not _host_pids(marker), timeout=20)


def test_exec_where_containers_are_plain_processes(kube, transcript):
    """After the stop above: the sandbox again, its containers plain processes (no namespaces)."""
    from lab_helpers import sandbox as sb

    (kube.state / "sandbox" / "kubelet" / "isolation").write_text("none\n")
    sb.start()
    kube.kubectl("run", "-n", NS, "plain", "--image=busybox", "--", "sleep", "3600")
    kube.kubectl("wait", "-n", NS, "--for=condition=Ready", "pod/plain", "--timeout=60s")
    done = kube.kubectl("exec", "-n", NS, "plain", "--", "sh", "-c", "id -u; exit 6", check=False)
    assert (done.returncode, done.stdout) == (6, "65534\n")
    assert kube.kubectl("exec", "-i", "-n", NS, "plain", "--", "cat", input="piped\n").stdout == "piped\n"
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("kubectl", ["kubectl", "exec", "-it", "-n", NS, "plain", "--", "sh"], kube.env)
    try:
        assert b"$ " in _read_until(fd, b"$ "), "no prompt"
        os.write(fd, b"echo plain-$((40+2)); exit 3\r")
        assert b"plain-42" in _read_until(fd, b"plain-42")
        _read_until(fd, b"\x00", timeout=10)
    finally:
        deadline = time.monotonic() + 20
        while not (done_pid := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        if not done_pid[0]:
            os.kill(pid, 9)
            done_pid = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(done_pid[1]) == 3
