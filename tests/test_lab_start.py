"""`lab start` blocks, so it is checked by a smoke test: start, wait until JupyterLab answers, stop."""

import json
import urllib.request

import pytest

from jupyter_server import running_lab


@pytest.mark.timeout(180)
def test_lab_start_serves_the_learner_copy(tmp_path):
    workspace = tmp_path / "ws"
    with running_lab(workspace) as base:
        with urllib.request.urlopen(f"{base}/api/contents?token=test-token", timeout=10) as resp:
            names = {item["name"] for item in json.load(resp)["content"]}
        assert "00-start-here.ipynb" in names
        with urllib.request.urlopen(f"{base}/api/contents/00-start-here.ipynb?token=test-token", timeout=10) as resp:
            text = json.dumps(json.load(resp)["content"])
        assert "BEGIN SOLUTION" not in text and "a40_count = None" in text
        with urllib.request.urlopen(f"{base}/lab?token=test-token", timeout=10) as resp:
            assert resp.status == 200
