import json
import os
import subprocess
import sys

KERNELS = {"copy", "scale", "add", "triad", "dot", "gemm", "h2d", "d2h", "launch"}


def test_json_output_is_only_json_with_the_schema(tmp_path):
    env = dict(os.environ, LAB_STATE_DIR=str(tmp_path), LAB_BENCH_ELEMENTS="300000")
    done = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "bench", "gpu", "--json", "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # nothing but JSON on stdout
    assert set(data) >= {"device", "results"}
    assert data["device"]["kind"] in ("cpu", "gpu")
    assert data["device"]["spec_note"]
    for record in data["results"]:
        assert record["kernel"] in KERNELS
        assert isinstance(record["variant"], str)
        assert record["bytes"] is not None or record["flops"] is not None
        assert record["seconds"] > 0
        assert "gbps" in record and "tflops" in record and "fraction_of_peak" in record
    variants = {(r["kernel"], r["variant"]) for r in data["results"]}
    assert ("triad", "naive") in variants and ("triad", "single-pass") in variants
    assert any(v.startswith("sweep-") for _, v in variants)
    headline = [r for r in data["results"] if r["kernel"] == "copy"]
    assert headline[0]["n"] == 300000
    if data["device"]["kind"] == "cpu":
        assert any(s["reason"] == "no device; host copies only" for s in data["skipped"])


def test_table_output_names_the_device(tmp_path):
    env = dict(os.environ, LAB_STATE_DIR=str(tmp_path), LAB_BENCH_ELEMENTS="200000")
    done = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "bench", "gpu", "--quick", "--no-sweep"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "kernel" in done.stdout and "triad" in done.stdout
    assert "size sweep" not in done.stdout


def test_bench_path_imports_no_notebook_libraries():
    code = (
        "import sys, runpy\n"
        "from lab_helpers.cli import build_parser\n"
        "build_parser()\n"
        "import lab_helpers.gpu.bench, lab_helpers.gpu.device, lab_helpers.gpu.specs\n"
        "bad = [m for m in ('plotly', 'jupyter_client', 'ipywidgets', 'openstack', 'platformdirs', 'cupy') if m in sys.modules]\n"
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
