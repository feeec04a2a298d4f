"""The workshop dashboard in a real browser (Debian's Chromium through Playwright) with simulated learners.

It signs in, shows every learner and one plotly figure (an SVG) per check, logs no console error,
and redraws by itself when a new result arrives. Simulated learners post over HTTP, including a
forged id, an oversized body and malformed JSON: refused, and the page keeps everything it had.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_browser import CHROMIUM_FLAGS, _chromium

from lab_helpers.workshop.server import running

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ARTIFACTS = Path(os.environ.get("LAB_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


def _post(url: str, learner: str, results: list[dict], key: str, join: str = "", raw: bytes | None = None) -> int:
    body = raw if raw is not None else json.dumps({"learner": learner, "results": results}).encode()
    headers = {"Content-Type": "application/json", "X-Learner-Key": key, "Authorization": f"Bearer {join}"}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/api/results", body, headers), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _result(rid: str, name: str, status: str) -> dict:
    return {"id": rid, "name": name, "status": status, "earned": 0.0, "points": 1.0, "at": time.time()}


def test_dashboard_shows_the_room_and_refreshes_in_place(tmp_path):
    from playwright.sync_api import sync_playwright

    server = running(tmp_path / "room", refresh_s=0.5)
    url, tokens = server.url, server.workshop.tokens
    statuses = ("passed", "failed", "partial", "passed", "failed")
    for i in range(12):
        results = [
            _result(f"a{j}", name, statuses[(i + j) % 5]) for j, name in enumerate(["00.a40-count", "03.month-su"])
        ]
        assert _post(url, f"learner-{i:02d}", results[: 1 + i % 2], f"key-{i:02d}-0123456789", tokens.join) == 200
    # bad input from the room: refused, nothing the page shows is lost
    assert (
        _post(url, "learner-00", [_result("x", "00.a40-count", "failed")], "forged-key-0123456789", tokens.join) == 403
    )
    assert _post(url, "stranger", [_result("x", "00.a40-count", "failed")], "stranger-key-0123456789") == 401
    assert _post(url, "learner-01", [], "key-01-0123456789", raw=b"{" + b" " * 70_000) == 413
    assert _post(url, "learner-01", [], "key-01-0123456789", raw=b"{oops") == 400
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{url}/", wait_until="domcontentloaded")
                page.locator("input[name=token]").fill(tokens.instructor)
                page.locator("button[type=submit]").click()
                page.locator("#learners tbody tr").first.wait_for(timeout=30_000)
                assert page.locator("#learners tbody tr").count() == 12
                figures = page.locator(".check-figure")
                checks = json.loads(
                    urllib.request.urlopen(
                        urllib.request.Request(
                            f"{url}/api/room", headers={"Authorization": f"Bearer {tokens.instructor}"}
                        )
                    ).read()
                )["checks"]
                page.wait_for_function(
                    f"document.querySelectorAll('.check-figure .main-svg').length >= {len(checks)}", timeout=30_000
                )
                assert figures.count() == len(checks) >= 29
                failing = page.locator("#check-03\\.month-su").get_attribute("data-failing")
                assert page.locator("#stuck").inner_text().startswith("Where the room is stuck")
                # a new learner and a new failure arrive: the page redraws without a reload
                page.evaluate("window.__sameDocument = true")
                assert (
                    _post(
                        url, "late-comer", [_result("l1", "03.month-su", "failed")], "late-key-0123456789", tokens.join
                    )
                    == 200
                )
                page.locator("#learners tbody tr[data-learner='late-comer']").wait_for(timeout=15_000)
                page.wait_for_function(
                    f"document.querySelector('#check-03\\\\.month-su').dataset.failing === '{int(failing) + 1}'",
                    timeout=15_000,
                )
                assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of refreshing"
                page.screenshot(path=str(ARTIFACTS / "workshop-dashboard.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.stop()
    assert not errors, f"console errors: {errors}"
