"""The sample application's web page in a real browser: submit a digit, watch its job go queued -> done.

Every part runs as its own local process (``python -m sample_app.api``, ``.web``, ``.worker``,
``.model``) against real PostgreSQL and Valkey servers and the sandbox's Swift
(sample_app_fixtures.py). A small reverse proxy stands in for the cluster's Ingress: ``/api``
to the api, everything else to the web page, one origin, as the page expects. Chromium (Debian's,
driven by Playwright, launched as in test_browser.py) opens the page, picks a sample digit and
submits it; the job's row shows ``queued`` while no worker runs, then ``done`` with the model's
label once one starts. A screenshot goes to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_app_fixtures import (
    app_process,
    free_port,
    http_get,
    model_url,  # noqa: F401  (fixture)
    postgres_url,  # noqa: F401  (fixture)
    process_log,
    valkey_url,  # noqa: F401  (fixture)
    wait_until,
    weights_dir,  # noqa: F401  (fixture)
)
from sandbox_fixtures import sandbox  # noqa: F401  (fixture)
from test_browser import ARTIFACTS, CHROMIUM_FLAGS, _chromium

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SAMPLE = "3"  # the page's sample button for a digit from scikit-learn's digits set
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class IngressProxy(http.server.ThreadingHTTPServer):
    """``/api`` and ``/api/...`` to the api, the rest to the web page: the cluster Ingress's two rules."""

    daemon_threads = True

    def __init__(self, api: str, web: str) -> None:
        self.backends = {"api": urllib.parse.urlsplit(api), "web": urllib.parse.urlsplit(web)}
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: IngressProxy
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        backend = self.server.backends["api" if path == "/api" or path.startswith("/api/") else "web"]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        upstream = http.client.HTTPConnection(backend.hostname, backend.port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST = do_HEAD = _forward

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the api and web processes log every request themselves


@pytest.fixture()
def app_env(postgres_url, valkey_url, sandbox, model_url) -> dict[str, str]:
    return {
        "DATABASE_URL": postgres_url,
        "QUEUE_URL": valkey_url,
        "UPLOADS_CONTAINER": "uploads-browser",
        "OS_CLOUD": "sandbox",
        "OS_CLIENT_CONFIG_FILE": str(sandbox.clouds_yaml),
        "MODEL_URL": model_url,
        "POLL_S": "0.2",
    }


@pytest.fixture()
def ingress(app_env, tmp_path) -> Iterator[str]:
    """The api and the web page as processes behind one origin; yields its URL."""
    api_port, web_port = free_port(), free_port()
    with (
        app_process("api", tmp_path, PORT=str(api_port), **app_env) as api,
        app_process("web", tmp_path, PORT=str(web_port)) as web,
    ):
        wait_until(lambda: http_get(f"http://127.0.0.1:{api_port}/api/healthz"), "the api", proc=api)
        wait_until(lambda: http_get(f"http://127.0.0.1:{web_port}/healthz"), "the web page", proc=web)
        proxy = IngressProxy(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}")
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            yield proxy.url
        finally:
            proxy.shutdown()
            proxy.server_close()


def _row(page, job_id: str):
    return page.locator(f"#jobs tbody tr[data-job-id='{job_id}']")


def test_a_digit_submitted_on_the_page_is_labelled_by_the_worker(ingress, app_env, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert json.loads(http_get(f"{ingress}/api/version"))["version"]  # the proxy routes /api
    console: list[str] = []
    failed: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.on(
                "console",
                lambda m: (
                    console.append(f"{m.type}: {m.text} ({m.location.get('url')})") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda exc: console.append(f"uncaught: {exc}"))
            page.on("requestfailed", lambda r: failed.append(f"{r.method} {r.url}: {r.failure}"))
            page.on(
                "response",
                lambda r: failed.append(f"{r.request.method} {r.url}: {r.status}") if r.status >= 400 else None,
            )
            page.goto(f"{ingress}/", wait_until="load")
            page.locator("#api-version").filter(has_text=".").wait_for(timeout=15_000)
            assert page.locator("#digit-grid button").count() == 64

            page.locator(f"#sample-{SAMPLE}").click()
            assert page.locator("#pixels").input_value().count(",") == 63
            page.locator("#submit").click()
            message = page.locator("#message").filter(has_text="queued")
            message.wait_for(timeout=15_000)
            job_id = message.inner_text().split()[1]
            row = _row(page, job_id)
            row.wait_for(timeout=15_000)
            # no worker yet: the job waits in the queue, and the page says so
            assert row.get_attribute("data-status") == "queued"
            assert row.locator("td").nth(1).inner_text() == "queued"
            page.screenshot(path=str(ARTIFACTS / "sample-app-queued.png"))

            with app_process("worker", tmp_path, **app_env) as worker:
                # the page refreshes every 2 s: the row turns to done with the model's label
                done = page.locator(f"#jobs tbody tr[data-job-id='{job_id}'][data-status='done']")
                try:
                    done.wait_for(timeout=30_000)
                except Exception:
                    pytest.fail(f"the job never showed done; worker log:\n{process_log(tmp_path, 'worker')[-3000:]}")
                assert worker.poll() is None, "the worker exited"
            cells = row.locator("td").all_inner_texts()
            assert cells[0] == job_id[:8] and cells[1] == "done", cells
            assert cells[2] == SAMPLE, f"the model labelled sample {SAMPLE} as {cells[2]}: {cells}"
            assert 0 < float(cells[3]) <= 1 and cells[4] == "", cells
            page.screenshot(path=str(ARTIFACTS / "sample-app-done.png"))
        finally:
            browser.close()
    job = json.loads(http_get(f"{ingress}/api/jobs/{job_id}"))
    assert (job["status"], str(job["label"])) == ("done", SAMPLE)
    assert not console, f"the page logged errors: {console}"
    assert not failed, f"requests failed: {failed}"
    assert Path(ARTIFACTS / "sample-app-done.png").stat().st_size > 10_000
