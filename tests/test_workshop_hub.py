"""`lab workshop` as a JupyterHub service, against a real JupyterHub.

The Hub runs from its pip package (``python -m jupyterhub``) with a config written here: the
DummyAuthenticator with a password, SQLite in tmp_path, loopback ports, and a proxy class kept in
a dict (JupyterHub's documented extension point) instead of configurable-http-proxy, which needs
node. That proxy writes its routing table to a file; the test's browser sends each request where
the table says, as the real proxy would. The Hub launches ``lab workshop`` as a managed service
from the lines ``lab workshop --hub-config`` prints.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from lab_helpers.errors import UsageError
from lab_helpers.workshop.hub import HubGate, bind_address, hub_config, in_service_env, service_env

jupyterhub = pytest.importorskip("jupyterhub", reason="jupyterhub is not installed: pip install -e '.[test]'")

pytestmark = pytest.mark.timeout(180)

PASSWORD = "workshop-test-password"
PREFIX = "/services/workshop/"

PROXY = '''
import json
from jupyterhub.proxy import Proxy
from traitlets import Bool


class DictProxy(Proxy):
    """Routes in a dict, mirrored to ROUTES_FILE so the test can route its requests by them."""

    should_start = Bool(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.routes = {}

    def _save(self):
        with open(ROUTES_FILE + ".tmp", "w") as fh:
            json.dump(self.routes, fh)
        import os
        os.replace(ROUTES_FILE + ".tmp", ROUTES_FILE)

    async def add_route(self, routespec, target, data):
        routespec = self.validate_routespec(routespec)
        self.routes[routespec] = {"routespec": routespec, "target": target, "data": data}
        self._save()

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)
        self._save()

    async def get_all_routes(self):
        return dict(self.routes)
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Browser:
    """A requests session that sends each path where the Hub's proxy table says (longest prefix)."""

    def __init__(self, routes_file: Path) -> None:
        self.routes_file = routes_file
        self.session = requests.Session()

    def url(self, path: str) -> str:
        routes = json.loads(self.routes_file.read_text())
        spec = max((s for s in routes if path.startswith(s) or path + "/" == s), key=len)
        return routes[spec]["target"].rstrip("/") + path

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.url(path), allow_redirects=False, timeout=10, **kwargs)

    def follow(self, path: str, limit: int = 10) -> requests.Response:
        """GET and follow redirects through the table (Locations are paths, as behind one proxy)."""
        for _ in range(limit):
            response = self.request("GET", path)
            if response.status_code not in (301, 302, 303, 307):
                return response
            location = urllib.parse.urlsplit(response.headers["Location"])
            path = location.path + (f"?{location.query}" if location.query else "")
        raise AssertionError(f"more than {limit} redirects, last {path}")

    def login(self, user: str) -> None:
        page = self.request("GET", "/hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and xsrf, page.text[:500]
        response = self.request(
            "POST", "/hub/login", data={"username": user, "password": PASSWORD, "_xsrf": xsrf.group(1)}
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])


@pytest.fixture
def hub(tmp_path):
    """A real JupyterHub that launches `lab workshop` as a managed service; stopped at the end."""
    hub_port, public_port, service_port = _free_port(), _free_port(), _free_port()
    state = tmp_path / "workshop"
    routes_file = tmp_path / "routes.json"
    command = [sys.executable, "-m", "lab_helpers", "workshop", "--state", str(state)]
    config = "\n".join(
        [
            f"ROUTES_FILE = {str(routes_file)!r}",
            PROXY,
            "c = get_config()  # noqa",
            "c.JupyterHub.proxy_class = DictProxy",
            f"c.JupyterHub.bind_url = 'http://127.0.0.1:{public_port}'",
            f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{hub_port}'",
            f"c.JupyterHub.db_url = 'sqlite:///{tmp_path / 'jupyterhub.sqlite'}'",
            f"c.JupyterHub.cookie_secret_file = {str(tmp_path / 'cookie_secret')!r}",
            f"c.JupyterHub.pid_file = {str(tmp_path / 'jupyterhub.pid')!r}",
            "c.JupyterHub.authenticator_class = 'dummy'",
            f"c.DummyAuthenticator.password = {PASSWORD!r}",
            "c.Authenticator.allow_all = True",
            "c.Authenticator.admin_users = {'ada'}",
            hub_config(command, service_port),  # the very lines `lab workshop --hub-config` prints
            "c.JupyterHub.load_groups = {'instructors': {'users': ['grace']}}",
        ]
    )
    (tmp_path / "jupyterhub_config.py").write_text(config)
    log = (tmp_path / "hub.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    hub = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(tmp_path / "jupyterhub_config.py")],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    browser = Browser(routes_file)

    def log_tail() -> str:
        return (tmp_path / "hub.log").read_text()[-4000:]

    try:
        deadline = time.monotonic() + 60
        while True:
            assert hub.poll() is None, f"the Hub exited:\n{log_tail()}"
            assert time.monotonic() < deadline, f"the Hub or the service did not come up in 60 s:\n{log_tail()}"
            try:
                if routes_file.exists() and PREFIX in json.loads(routes_file.read_text()):
                    if browser.request("GET", PREFIX + "healthz").status_code == 200:
                        break
            except (requests.ConnectionError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        yield browser, state, service_port, log_tail
    finally:
        hub.send_signal(signal.SIGTERM)  # the Hub stops its managed services on the way out
        try:
            hub.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait(timeout=10)
        log.close()
        deadline = time.monotonic() + 10
        while _listening(service_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            os.killpg(hub.pid, 0)  # anything left in the Hub's session (the service) is a leak
            leftover = True
            os.killpg(hub.pid, signal.SIGKILL)
        except ProcessLookupError:
            leftover = False
        assert not leftover, "a process of the Hub's session was left running"
        assert not _listening(service_port), "the workshop service still listens after the Hub stopped"


def test_the_hub_launches_the_workshop_and_its_oauth_guards_the_dashboard(hub):
    browser, state, service_port, log_tail = hub

    # 1. an anonymous browser is sent to the Hub's OAuth authorize page, with state and PKCE
    response = browser.request("GET", PREFIX)
    assert response.status_code == 302, response.text
    location = urllib.parse.urlsplit(response.headers["Location"])
    query = urllib.parse.parse_qs(location.query)
    assert location.path == "/hub/api/oauth2/authorize"
    assert query["client_id"] == ["service-workshop"] and query["state"] and query["code_challenge"]
    assert browser.request("GET", PREFIX + "api/room").status_code == 401
    # ... and without a Hub session the authorize page sends it on to the Hub's login
    assert urllib.parse.urlsplit(browser.follow(PREFIX).url).path == "/hub/login"

    # 2. an admin signs in at the Hub, goes through OAuth to the service and sees the dashboard
    admin = Browser(browser.routes_file)
    admin.login("ada")
    page = admin.follow(PREFIX)
    assert page.status_code == 200, (page.status_code, page.text[:300], log_tail())
    assert "<title>Workshop view</title>" in page.text
    room = admin.request("GET", PREFIX + "api/room")
    assert room.status_code == 200 and "learners" in room.json()
    join = admin.request("GET", PREFIX + "api/join-token").json()["join_token"]
    assert join == (state / "join-token").read_text().strip()

    # a member of the instructors' group gets in too
    grace = Browser(browser.routes_file)
    grace.login("grace")
    assert grace.follow(PREFIX).status_code == 200

    # 3. a signed-in user who is neither gets 403 with one line saying what to do
    bob = Browser(browser.routes_file)
    bob.login("bob")
    refused = bob.follow(PREFIX)
    assert refused.status_code == 403
    assert "bob" in refused.text and "instructors" in refused.text and refused.text.count("\n") <= 1
    assert bob.request("GET", PREFIX + "api/room").status_code == 403
    assert bob.request("POST", PREFIX + "api/join-token").status_code == 403

    # 4. learners send results with the join token; without it they are refused
    result = {"id": "r1", "name": "03.month-su", "status": "passed", "earned": 1.0, "points": 1.0, "at": time.time()}
    body = {"learner": "lin", "results": [result]}
    learner = requests.Session()
    headers = {"X-Learner-Key": "a-learner-key-0123456789"}
    url = browser.url(PREFIX + "api/results")
    assert learner.post(url, json=body, headers=headers, timeout=10).status_code == 401
    sent = learner.post(url, json=body, headers={**headers, "Authorization": f"Bearer {join}"}, timeout=10)
    assert sent.status_code == 200 and sent.json() == {"accepted": 1, "new": 1}
    deadline = time.monotonic() + 10  # the room's JSON is rebuilt at most once a second
    while "lin" not in json.dumps(admin.request("GET", PREFIX + "api/room").json()["learners"]):
        assert time.monotonic() < deadline, "the learner's result never reached the dashboard"
        time.sleep(0.2)


def test_hub_mode_without_the_hubs_environment_refuses_with_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    done = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "workshop", "--hub", "--state", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert "JUPYTERHUB_SERVICE_URL" in done.stderr and "--hub-config" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_service_environment_and_bind_address():
    env = {
        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/workshop",
        "JUPYTERHUB_API_TOKEN": "not-a-real-token",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api/",
        "JUPYTERHUB_CLIENT_ID": "service-workshop",
        "JUPYTERHUB_SERVICE_NAME": "workshop",
    }
    found = service_env(env)
    assert in_service_env(env) and not in_service_env({})
    assert found.address == ("127.0.0.1", 10101)
    assert (found.prefix, found.hub_prefix, found.oauth_callback) == (
        "/services/workshop/",
        "/hub/",
        "/services/workshop/oauth_callback",
    )
    with pytest.raises(UsageError, match="JUPYTERHUB_API_TOKEN is not set"):
        service_env({k: v for k, v in env.items() if k != "JUPYTERHUB_API_TOKEN"})
    with pytest.raises(UsageError, match="not an http address"):
        bind_address("unix:/run/workshop.sock")
    gate = HubGate(found, group="teachers")
    assert gate.allowed({"kind": "user", "name": "a", "admin": True, "groups": []})
    assert gate.allowed({"kind": "user", "name": "t", "admin": False, "groups": ["teachers"]})
    assert not gate.allowed({"kind": "user", "name": "s", "admin": False, "groups": ["instructors"]})
    assert not gate.allowed({"kind": "service", "name": "other", "admin": False, "groups": []})
    signed = gate._sign("token-value")
    assert gate._unsign(signed) == "token-value" and gate._unsign("token-value.forged") is None
