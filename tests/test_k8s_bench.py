"""`lab bench cluster --json`: rows for every figure at each object count, from a temporary sandbox
and cluster (the learner's state directory left alone). Small numbers: it checks the rows, not
timing thresholds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(300)


def test_bench_cluster_json(tmp_path, k8s_tools):
    env = dict(os.environ)
    env.update(
        {
            "LAB_STATE_DIR": str(tmp_path),
            "LAB_SANDBOX_BOOT_S": "0.2",
            "LAB_POD_START_S": "0.2",
            "PATH": f"{k8s_tools}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    for var in ("KUBECONFIG", "OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "LAB_BACKEND"):
        env.pop(var, None)
    out = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "bench", "cluster", "--json", "-n", "3", "--objects", "5", "25"],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout)["results"]
    names = {r["name"] for r in rows}
    for count in (5, 25):
        where = f" ({count} objects)"
        expected = {
            "kubectl get pods" + where,
            "kubectl get configmaps" + where,
            "Python client: list pods" + where,
            "Python client: list configmaps" + where,
            "watch: create -> ADDED seen" + where,
            "apply-to-Ready, 3-replica Deployment" + where,
            "helm install --wait (helm create's chart)" + where,
        }
        assert expected <= names, sorted(expected - names)
        assert all(r["objects"] == count for r in rows if r["name"].endswith(where))
        assert all(r["objects"] == count for r in rows if f"({count} objects" in r["name"])
    busy = " (25 objects, controllers busy)"
    assert {"kubectl get pods" + busy, "apply-to-Ready, 3-replica Deployment" + busy} <= names
    assert {
        "start the service",
        "lab cluster create (3 nodes Ready)",
        "PVC create -> Bound (1 GiB, default class)",
        "ingress: GET / through the ingress port",
        "ingress: GET / straight to the Service",
    } <= names
    for row in rows:
        assert 0 < row["p50_ms"] <= row["p95_ms"], row
        assert row["n"] >= 1
    by_name = {r["name"]: r for r in rows}
    assert by_name["kubectl get pods (5 objects)"]["n"] == 3
    ready = by_name["apply-to-Ready, 3-replica Deployment (25 objects)"]
    assert ready["p50_ms"] >= 200  # the pods stayed ContainerCreating for the 0.2 s asked for
    assert "= 1200 ms (met at p50)" in ready["note"] or "= 1200 ms (missed at p50)" in ready["note"]
    assert "goal p50 < 150 ms (" in by_name["kubectl get pods (25 objects)"]["note"]
    assert not (tmp_path / "sandbox").exists()  # the learner's state directory was not touched


def test_a_failed_run_keeps_its_evidence(tmp_path, monkeypatch):
    """The benchmark's sandbox is temporary: when a figure fails, its log and the admin's view of the
    cluster are kept in the learner's state directory, and the error says where."""
    from lab_helpers.bench import cluster as bench
    from lab_helpers.errors import ServiceError

    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "state"))
    root = tmp_path / "sandbox"
    root.mkdir()
    (root / "sandbox.log").write_text("kubelet: pod stuck\n")

    class Clients:
        def kubectl(self, *args, **kw):
            if "events" in args:
                raise ServiceError("kubectl get events exited 1")
            return "NAMESPACE NAME READY\n"

    kept = bench._keep_evidence(Clients(), root)
    assert kept == tmp_path / "state" / "bench-cluster-failure"
    assert (kept / "sandbox.log").read_text() == "kubelet: pod stuck\n"
    assert (kept / "workloads.txt").read_text().startswith("NAMESPACE NAME READY")
    assert "kubectl get events" in (kept / "events.txt").read_text()  # a failure to look is written down too
