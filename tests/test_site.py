"""`lab site`: the course as a static website. Pages from executed notebooks made static (figures drawn by
the shipped plotly.js, widgets as their saved state, no grader's key), and the whole site built from the
labs this test run executed once, scanned for leaks and opened over file:// in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from lab_helpers.catalog import Lab, all_labs, find_lab
from lab_helpers.cli import main
from lab_helpers.site import SiteError, build_site, find_leaks, scan_folder
from lab_helpers.site.outputs import PLOTLY_MIME, WIDGET_STATE_MIME, WIDGET_VIEW_MIME
from lab_helpers.site.pages import binder_url, index_page, lab_page

FIGURE = {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], "layout": {"title": {"text": "Two bars"}}}


def _executed_notebook() -> dict:
    """A small executed notebook as papermill writes it: a figure, a widget with an output area, a hidden check."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"input_path": "/home/someone/labs/00.ipynb"}
    out_id, box_id, drop_id = "o" * 32, "b" * 32, "d" * 32
    nb.metadata["widgets"] = {
        WIDGET_STATE_MIME: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                box_id: {
                    "model_name": "VBoxModel",
                    "state": {"children": [f"IPY_MODEL_{drop_id}", f"IPY_MODEL_{out_id}"]},
                },
                drop_id: {
                    "model_name": "DropdownModel",
                    "state": {
                        "_model_name": "DropdownModel",
                        "description": "View",
                        "index": 1,
                        "_options_labels": ["everything", "storage"],
                    },
                },
                out_id: {
                    "model_name": "OutputModel",
                    "state": {
                        "outputs": [{"output_type": "display_data", "data": {PLOTLY_MIME: FIGURE}, "metadata": {}}]
                    },
                },
            },
        }
    }
    figure_cell = nbformat.v4.new_code_cell("fig.show()")
    figure_cell.outputs = [nbformat.v4.new_output("display_data", data={PLOTLY_MIME: FIGURE})]
    widget_cell = nbformat.v4.new_code_cell("explorer()")
    widget_cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={WIDGET_VIEW_MIME: {"model_id": box_id, "version_major": 2}, "text/plain": "VBox(...)"},
            execution_count=2,
        )
    ]
    hidden = nbformat.v4.new_code_cell("assert answer == 42  # the grader's key")
    hidden.metadata["tags"] = ["hidden-check"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Lab 00: a test\n\nIntro."), figure_cell, widget_cell, hidden]
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def _lab() -> Lab:
    return Lab("00", "a-test", "A test", 15, Path("00-a-test.ipynb"), ("Read a figure", "Move a | slider"))


def test_a_page_draws_figures_with_the_shipped_plotly_and_keeps_no_key():
    page = lab_page(_executed_notebook(), _lab(), "https://github.com/owner/course")
    text = json.dumps(page)
    assert "grader's key" not in text and "hidden-check" not in text
    assert "papermill" not in page["metadata"] and "widgets" not in page["metadata"]
    outputs = [o for c in page["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert all(PLOTLY_MIME not in o.get("data", {}) and WIDGET_VIEW_MIME not in o.get("data", {}) for o in outputs)
    drawn = [o["data"]["text/html"] for o in outputs if "Plotly.newPlot" in o.get("data", {}).get("text/html", "")]
    assert len(drawn) == 2, "the figure and the widget's output area each draw their figure"
    assert not any("<script src=" in h or "cdn" in h.lower() or "require(" in h for h in drawn)
    ids = [re.search(r'id="([^"]+)"', h).group(1) for h in drawn]
    assert ids == ["00-figure-1", "00-figure-2"]
    note = next(
        o["data"]["text/html"] for o in outputs if "lab-widget-static" in o.get("data", {}).get("text/html", "")
    )
    assert "View: storage (one of everything, storage)" in note
    about = page["cells"][1]["source"]
    assert "about 15 minutes" in about and "Read a figure" in about and "`lab start 00`" in about
    assert "https://mybinder.org/v2/gh/owner/course/main?urlpath=lab/tree/labs-workspace/00-a-test.ipynb" in about


def test_binder_link_only_for_a_github_repository():
    assert binder_url("https://gitlab.example/owner/course", _lab()) is None
    assert binder_url("https://github.com/owner/course.git", _lab()).startswith(
        "https://mybinder.org/v2/gh/owner/course/"
    )


def test_index_lists_every_lab_with_minutes_and_objectives():
    labs = all_labs()
    text = index_page(labs, {lab.number: lab.name for lab in labs})
    for lab in labs:
        assert f"[{lab.title}]({lab.name}.ipynb) | {lab.minutes} |" in text
        assert lab.objectives[0].replace("|", "\\|") in text
    assert "{toctree}" in text and f"About {sum(lab.minutes for lab in labs)} minutes" in text


def test_leak_scan_finds_this_machines_paths_and_credentials(tmp_path):
    assert find_leaks(f"saved to {Path.home()}/x") and find_leaks("application_credential_secret: s")
    assert find_leaks("a figure of 4 GPUs on 127.0.0.1") == []
    (tmp_path / "page.html").write_text("-----BEGIN RSA " + "PRIVATE KEY-----")  # made up, joined at run time
    (tmp_path / "clean.html").write_text("nothing here")
    assert scan_folder(tmp_path) == {"page.html": ["a credential"]}


def test_missing_executed_notebook_and_a_foreign_out_folder_are_refused(tmp_path, capsys):
    lab = find_lab("00")
    with pytest.raises(SiteError, match=r"no executed notebook for lab 00 .*lab run 00"):
        build_site(tmp_path / "site", [lab], executed=tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    with pytest.raises(SiteError, match="nothing was removed"):
        build_site(tmp_path / "mine", [lab], executed=tmp_path)
    assert (tmp_path / "mine" / "thesis.tex").exists()
    assert main(["site", "--out", str(tmp_path / "s"), "--executed", str(tmp_path / "no")]) == 2
    assert "no such folder" in capsys.readouterr().err


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def built_site(executed_labs, tmp_path_factory):
    labs = all_labs()
    executed = executed_labs.folder_of(labs)
    out = tmp_path_factory.mktemp("site") / "site"
    started = time.perf_counter()
    result = build_site(out, labs, executed=executed, say=lambda line: None)
    print(f"site built from executed labs in {time.perf_counter() - started:.1f} s: {result.seconds}")
    return labs, result


def test_site_from_the_executed_labs_has_a_page_per_lab_and_no_leak(built_site):
    labs, result = built_site
    assert result.pages == [lab.name for lab in labs]
    assert scan_folder(result.out) == {}
    assert (result.out / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    for page in [result.index, *(result.out / f"{lab.name}.html" for lab in labs)]:
        text = page.read_text()
        assert not re.search(r'<(script|link|img)[^>]*(src|href)="(https?:)?//', text), (
            f"{page.name} fetches from the network"
        )
    index = result.index.read_text()
    assert all(f"{lab.name}.html" in index for lab in labs)


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_every_page_opens_from_file_with_its_figures_and_search(built_site):
    from playwright.sync_api import sync_playwright

    labs, result = built_site
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.fail("Debian's chromium is required for this test: apt-get install chromium")
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.on("console", lambda msg: msg.type == "error" and errors.append(f"{page.url}: {msg.text}"))
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
            page.on("request", lambda req: req.url.startswith("file://") or outside.append(req.url))
            figures = 0
            for html in [result.index, *(result.out / f"{lab.name}.html" for lab in labs)]:
                page.goto(html.as_uri(), wait_until="load")
                assert page.locator("nav, .bd-sidebar").count(), f"{html.name} has no navigation"
                count = page.locator(".plotly-graph-div").count()
                for index in range(count):
                    page.locator(".plotly-graph-div").nth(index).locator(".main-svg").first.wait_for(
                        state="attached", timeout=30_000
                    )
                figures += count
            assert figures >= len(labs), "the labs' figures are missing from their pages"
            page.goto((result.out / "search.html").as_uri() + "?q=roofline", wait_until="load")
            hits = page.locator("#search-results ul.search li a")
            hits.first.wait_for(timeout=30_000)
            one = find_lab("01").name
            assert any(one in (href or "") for href in hits.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
        finally:
            browser.close()
    assert errors == [], errors
    assert outside == [], f"the site fetched from the network: {outside[:5]}"
