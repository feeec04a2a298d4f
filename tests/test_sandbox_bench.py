"""`lab bench sandbox --json`: numbers from a temporary sandbox, the learner's left alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(180)


def test_bench_sandbox_json(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab_helpers",
            "bench",
            "sandbox",
            "--json",
            "-n",
            "3",
            "--boot-s",
            "0.1",
            "--servers",
            "20",
            "--objects",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {r["name"]: r for r in json.loads(out.stdout)["results"]}
    assert {"list flavors", "show server", "list 20 servers (detail)", "list 30 objects", "PUT 1 KiB object"} <= set(
        rows
    )
    for row in rows.values():
        assert 0 < row["p50_ms"] <= row["p95_ms"]
    assert rows["create server -> ACTIVE (+ delete)"]["p50_ms"] >= 100  # BUILD lasted the 0.1 s asked for
    assert not (tmp_path / "sandbox").exists()  # the learner's state directory was not touched
