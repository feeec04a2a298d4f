"""JupyterLab in a real browser: open lab 00, run all cells, see the figure and the widget render.

Playwright drives Debian's chromium by its executable path (no browser download). The screenshot
is kept in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from jupyter_server import running_lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(os.environ.get("LAB_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TOKEN = "browser-test"


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Debian's chromium is required for this test: apt-get install chromium")
    return path


def _wait_for_idle_kernel(base: str, timeout_s: float = 90) -> None:
    """JupyterLab starts the kernel asynchronously: wait until /api/sessions reports it idle."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={TOKEN}", timeout=5) as resp:
            sessions = json.load(resp)
        states = [s["kernel"]["execution_state"] for s in sessions if s.get("path", "").endswith("00-start-here.ipynb")]
        if states and states[0] == "idle":
            return
        time.sleep(0.5)
    raise TimeoutError("the lab 00 kernel never reported idle")


def test_lab_00_renders_figure_and_widget(tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_lab(tmp_path / "ws", token=TOKEN) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/00-start-here.ipynb?token={TOKEN}", wait_until="domcontentloaded")
            page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
            _wait_for_idle_kernel(base)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            plot = page.locator(".js-plotly-plot").first
            plot.wait_for(state="visible", timeout=120_000)
            dropdown = page.locator(".widget-dropdown select").first
            dropdown.wait_for(state="visible", timeout=120_000)
            widget_plot = page.locator(".widget-output .js-plotly-plot").first
            widget_plot.wait_for(state="visible", timeout=60_000)
            page.locator(".lab-check").first.wait_for(timeout=60_000)
            plot.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)  # let the notebook's virtual scroller paint the cells
            page.screenshot(path=str(ARTIFACTS / "lab00-jupyterlab.png"))
            assert page.locator(".js-plotly-plot .main-svg").count() >= 1, "plotly drew no SVG"
            options = dropdown.locator("option").all_inner_texts()
            assert "physical" in options and "storage" in options
            # the widget really works: switching the view redraws the figure with that branch
            dropdown.select_option("storage")
            page.locator(".widget-output .js-plotly-plot", has_text="The hierarchy: storage (sunburst)").first.wait_for(
                timeout=30_000
            )
            dropdown.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "lab00-storage-view.png"))
            checks = page.locator(".lab-check").all_inner_texts()
            # the learner copy has no answers yet: the check says so instead of failing with a traceback
            assert any("00.a40-count" in text and "not done" in text for text in checks), checks
            assert not page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']", has_text="Traceback"
            ).count()
            _saved_figures_reopen_interactive(page, tmp_path / "ws" / "00-start-here.ipynb")
        finally:
            browser.close()


def _plotly_outputs(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text())
    return [
        o["data"]
        for c in notebook["cells"]
        for o in c.get("outputs", [])
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]


def _saved_figures_reopen_interactive(page, path: Path) -> None:
    """Save, re-open: the figure is drawn live at once (no picture standing in for it) and answers hover."""
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while not _plotly_outputs(path) and time.monotonic() < deadline:
        time.sleep(0.5)
    saved = _plotly_outputs(path)
    assert saved, "the saved notebook has no plotly figure"
    assert not any("image/png" in data for data in saved), (
        "a picture was saved beside a figure: re-opened, it stands in for it"
    )
    page.reload(wait_until="domcontentloaded")
    figure = page.locator(".jp-RenderedPlotly").first
    figure.wait_for(timeout=60_000)
    figure.locator(".plot-container .main-svg").first.wait_for(timeout=30_000)  # drawn by plotly.js, not a picture
    assert not figure.locator("img.plot-img").is_visible()
    figure.scroll_into_view_if_needed()
    for surface in figure.locator("g.slice path.surface").all()[:8]:
        surface.hover(force=True)
        if figure.locator(".hoverlayer .hovertext").count():
            break
    page.screenshot(path=str(ARTIFACTS / "lab00-reopened-hover.png"))
    assert figure.locator(".hoverlayer .hovertext").count(), "hovering the re-opened figure showed no label"
