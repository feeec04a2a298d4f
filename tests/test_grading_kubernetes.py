"""Grading as Kubernetes Jobs: what the Job declares, what crosses into and out of a pod, why a Job
failed, and the planning model, without a cluster; then a class graded on the sandbox cluster
gives the same grades as local grading, resumes, retries with the reason and reports its status.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from k8s_fixtures import cluster, kube  # noqa: F401

from lab_helpers.grading.execute import Capture, Execution
from lab_helpers.grading.isolation import NOBODY_UID, Limits, namespaces_available
from lab_helpers.grading.kubernetes import cluster as kc
from lab_helpers.grading.kubernetes import manifests, planning, transfer
from lab_helpers.grading.kubernetes.progress import RunStatus

LIMITS = Limits(cell_s=10, notebook_s=40, memory_mb=512, output_kb=256)


# -- the Job's declared isolation ------------------------------------------------------------------


def _job(limits: Limits = LIMITS) -> dict:
    return manifests.grading_job(
        "lab-grade-00-abc", lab="00", run="r1", submission="/subs/a.ipynb", image="img:1", limits=limits, env={}
    )


def test_the_job_declares_the_isolation_a_real_cluster_enforces():
    job = _job()
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == NOBODY_UID
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] == 0
    # the only writable place is the scratch emptyDir; the payload is read-only
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/payload"]["readOnly"] is True and "emptyDir" in pod["volumes"][1]
    assert job["metadata"]["labels"] == pod_labels(job)


def pod_labels(job: dict) -> dict:
    return job["spec"]["template"]["metadata"]["labels"]


def test_requests_limits_and_deadline_follow_the_limits():
    small, big = _job(Limits(memory_mb=512, notebook_s=40)), _job(Limits(memory_mb=4096, notebook_s=600))
    res_small = small["spec"]["template"]["spec"]["containers"][0]["resources"]
    res_big = big["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert res_small["limits"]["memory"] == f"{512 + manifests.GRADER_OVERHEAD_MB}Mi"
    assert res_big["limits"]["memory"] == f"{4096 + manifests.GRADER_OVERHEAD_MB}Mi"
    assert res_small["requests"]["cpu"] == res_small["limits"]["cpu"] == "1"
    assert small["spec"]["activeDeadlineSeconds"] == 40 + manifests.START_MARGIN_S
    assert big["spec"]["activeDeadlineSeconds"] == 600 + manifests.START_MARGIN_S


def test_the_manifests_validate_against_the_real_kubernetes_schemas():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for doc in (_job(), manifests.deny_all_policy(), manifests.payload_config_map("x", "00", "r", "{}")):
        kubernetes_validate.validate(doc, "1.33", strict=True)


def test_the_network_policy_denies_all_traffic_of_grader_pods():
    policy = manifests.deny_all_policy()["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["egress"] == [] and policy["ingress"] == []
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels(_job()).items()


def test_the_payload_carries_no_key():
    text = transfer.payload(
        notebook="{}",
        learner="ada",
        limits=LIMITS.as_dict(),
        captures=[{"cell_id": "c1", "check": "00.x", "answer": "x", "context": {}, "pinned": {}}],
        backend="sandbox",
        nonce="n",
        require_isolation=True,
    )
    assert set(json.loads(text)) == {
        "format",
        "notebook",
        "learner",
        "limits",
        "captures",
        "backend",
        "nonce",
        "require_isolation",
        "probes",
        "tools",
    }
    assert json.loads(text)["probes"] == []  # a lab without state checks names no probe


def test_the_result_crosses_as_data_and_only_with_its_nonce():
    execution = Execution(captures=[Capture("00.x", True, [1, 2], {"n": 3}, "", 4)], finished=True, seconds=2.5)
    block = transfer.encode_result("good", execution, {"events.jsonl": '{"event": "done"}\n'}, "isolated")
    forged = transfer.encode_result("bad", Execution(finished=True), {}, "isolated")
    log = "noise\n" + block + forged
    back, files, isolation = transfer.decode_result(log, "good")
    assert back.captures == execution.captures and back.finished and back.seconds == 2.5
    assert files["events.jsonl"].startswith('{"event"') and isolation == "isolated"
    assert max(len(line) for line in block.splitlines()) <= 80  # short lines: no log line is split
    with pytest.raises(transfer.ResultMissing, match="printed no result"):
        transfer.decode_result(block, "other")


# -- why a Job failed, as the API reports it --------------------------------------------------------


def _pod(**status) -> dict:
    return {"metadata": {"name": "p"}, "status": status}


def test_failure_reasons_name_what_the_cluster_said():
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}
    oom = _pod(containerStatuses=[{"state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}])
    assert kc.failure_reason(failed, [oom]).startswith("OOMKilled")
    evicted = _pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    assert kc.failure_reason(failed, [evicted]) == "Evicted: The node was low on resource: memory."
    deadline = {
        "status": {
            "conditions": [
                {"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer"}
            ]
        }
    }
    assert kc.failure_reason(deadline, []).startswith("DeadlineExceeded: Job was active longer")
    crashed = _pod(containerStatuses=[{"state": {"terminated": {"reason": "Error", "exitCode": 1, "message": "boom"}}}])
    assert kc.failure_reason(failed, [crashed]) == "Error (exit 1): boom"
    pulling = _pod(containerStatuses=[{"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off"}}}])
    assert kc.stuck_reason([pulling]) == "ImagePullBackOff: Back-off"
    assert kc.stuck_reason([_pod(containerStatuses=[{"state": {"running": {}}}])]) == ""
    pending = _pod(
        phase="Pending",
        conditions=[
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/0 nodes are available"}
        ],
    )
    assert kc.unschedulable([pending]) == "0/0 nodes are available" and kc.unschedulable([oom]) == ""


# -- progress and the planning model ---------------------------------------------------------------


def test_status_gives_an_eta_from_the_jobs_so_far(tmp_path):
    status = RunStatus("00", "context sandbox", total=10, skipped=2, parallelism=2)
    assert status.eta_s() is None
    status.done, status.seconds = 4, [3.0, 5.0, 4.0, 4.0]
    assert status.eta_s() == pytest.approx(6 * 4.0 / 2)
    status.save(tmp_path)
    text = RunStatus.load(tmp_path).text()
    assert "4/10 graded" in text and "2 already graded" in text and "about 12 s left" in text


def test_status_without_a_run_says_how_to_start_one(tmp_path):
    from lab_helpers.errors import UsageError

    with pytest.raises(UsageError, match="no Kubernetes grading run"):
        RunStatus.load(tmp_path)


def test_planning_model_counts_slots_waves_and_sus():
    medium = planning.slots("m3.medium")  # 8 vCPUs, 30 GB; 1 CPU and 1.5 GB requested per pod
    assert medium == 7
    assert planning.wall_seconds(10, 4, 30.0) == 3 * 30.0
    p = planning.plan("00", 20.0, submissions=400, deadline_s=600, flavor="m3.medium")
    assert p.nodes == math.ceil(400 / (30 * 7)) and p.wall_s <= 600
    from lab_helpers.resources.cost import su_per_hour

    assert p.su == pytest.approx(p.nodes * su_per_hour("m3.medium") * (p.wall_s + planning.BOOT_S) / 3600)
    assert planning.plan("00", 700.0, flavor="m3.medium").nodes == 0  # one submission outlasts the deadline
    assert planning.cheapest("00", 20.0).su <= p.su


# -- on the sandbox cluster --------------------------------------------------------------------------

needs_namespaces = pytest.mark.skipif(
    not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}"
)
CASES = ("correct", "partly-wrong", "untouched", "sys-exit")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, kube, cluster):
    """Lab 00 released, four submissions, graded locally with 2 jobs (the reference)."""
    import nbformat
    from corpus.harness import load_cases

    from lab_helpers.grading.batch import grade
    from lab_helpers.grading.release import release

    root = tmp_path_factory.mktemp("k8s-grading")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["00"], root / "release")
    learner = nbformat.read(rel.learner_path, as_version=4)
    subs = root / "submissions"
    expect = load_cases("00").build(learner, subs, rel.version, [str(rel.key_dir)])
    for path in subs.glob("*.ipynb"):
        if path.stem not in CASES:
            path.unlink()
    key = root / "release" / "key"
    started = time.monotonic()
    grade("00", key, root / "local", [str(subs)], jobs=2, limits=LIMITS, progress=False)
    return {"root": root, "key": key, "subs": subs, "expect": expect, "local_s": time.monotonic() - started}


def _rows(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def on_jobs(classroom, kube):
    from lab_helpers.grading.kubernetes import grade_on_kubernetes

    out = classroom["root"] / "k8s"
    started = time.monotonic()
    book = grade_on_kubernetes(
        "00",
        classroom["key"],
        out,
        [str(classroom["subs"])],
        kubeconfig=kube.kubeconfig,
        parallelism=2,
        limits=LIMITS,
        progress=False,
    )
    return {"book": book, "out": out, "seconds": time.monotonic() - started}


@needs_namespaces
def test_jobs_give_the_same_grades_as_local_grading(classroom, on_jobs):
    local = {(r["submission"], r["score"]) for r in _rows(classroom["root"] / "local")}
    jobs = {(r["submission"], r["score"]) for r in _rows(on_jobs["out"])}
    assert jobs == local
    assert len(jobs) == len(CASES)
    for g in on_jobs["book"].grades:
        assert g.score == pytest.approx(classroom["expect"][Path(g.submission).stem].score), g
    for name in ("grades.csv", "lms.csv", "summary.html", "manual-grading.csv", "grading.log"):
        assert (on_jobs["out"] / name).exists(), name
    assert len(list((on_jobs["out"] / "feedback").glob("*.html"))) == len(CASES)


@needs_namespaces
def test_the_pod_isolated_the_kernel_and_the_run_left_nothing_behind(on_jobs, kube):
    log = (on_jobs["out"] / "grading.log").read_text()
    assert log.count("own network (loopback only), pid and mount namespaces") == len(CASES)
    assert "kernel of" in log and "PRIVILEGED" not in log
    jobs = json.loads(
        kube.kubectl("get", "jobs,configmaps", "-l", "app.kubernetes.io/name=lab-grade", "-o", "json").stdout
    )
    assert jobs["items"] == []
    policy = json.loads(kube.kubectl("get", "networkpolicy", manifests.POLICY_NAME, "-o", "json").stdout)
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"] and not policy["spec"].get("egress")


@needs_namespaces
def test_a_rerun_skips_what_is_graded_and_regrade_forces_one(classroom, on_jobs, kube):
    from lab_helpers.grading.kubernetes import grade_on_kubernetes

    before = _rows(on_jobs["out"])
    one = str(classroom["subs"] / "correct.ipynb")
    grade_on_kubernetes(
        "00", classroom["key"], on_jobs["out"], [str(classroom["subs"])], kubeconfig=kube.kubeconfig, progress=False
    )
    status = RunStatus.load(on_jobs["out"])
    assert (status.total, status.skipped, status.done) == (0, len(CASES), 0)
    grade_on_kubernetes(
        "00",
        classroom["key"],
        on_jobs["out"],
        [str(classroom["subs"])],
        kubeconfig=kube.kubeconfig,
        regrade=[one],
        limits=LIMITS,
        progress=False,
    )
    status = RunStatus.load(on_jobs["out"])
    assert (status.total, status.done, status.finished) == (1, 1, True)
    assert {(r["submission"], r["score"]) for r in _rows(on_jobs["out"])} == {
        (r["submission"], r["score"]) for r in before
    }
    shown = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "grade", "--status", "--out", str(on_jobs["out"])],
        capture_output=True,
        text=True,
        timeout=60,
        env=kube.env,
    )
    assert shown.returncode == 0, shown.stderr
    assert "lab 00 on context sandbox" in shown.stdout and "finished" in shown.stdout and "1/1 graded" in shown.stdout


@needs_namespaces
def test_a_job_that_cannot_start_is_retried_once_then_reported(classroom, kube, tmp_path):
    from lab_helpers.grading.kubernetes import grade_on_kubernetes

    book = grade_on_kubernetes(
        "00",
        classroom["key"],
        tmp_path / "out",
        [str(classroom["subs"] / "correct.ipynb")],
        kubeconfig=kube.kubeconfig,
        image="visualizing-compute/no-such-grader:0.1.0",
        pull_grace_s=1.0,
        limits=LIMITS,
        progress=False,
    )
    (g,) = book.grades
    assert g.score == 0
    (problem,) = g.problems
    # one reason per attempt; a back-off's message quotes the pull error before it (as kubelet 1.31+ does)
    attempts = re.findall(r"(?:was run: |; )(ErrImagePull|ImagePullBackOff): ", problem)
    assert problem.startswith("the grading Job failed twice") and len(attempts) == 2, problem
    status = RunStatus.load(tmp_path / "out")
    assert status.failed == 1 and len(status.retried) == 1 and "correct.ipynb" in status.retried[0]


@needs_namespaces
def test_the_planning_model_predicts_a_scaled_down_sandbox_run(classroom, on_jobs, kube):
    """Seconds per Job measured one at a time; the model's wall time for the class two at a time, within 25 %."""
    from lab_helpers.grading.kubernetes import grade_on_kubernetes

    out = classroom["root"] / "calibrate"
    subs = [str(classroom["subs"] / f"{name}.ipynb") for name in ("correct", "untouched")]
    grade_on_kubernetes(
        "00", classroom["key"], out, subs, kubeconfig=kube.kubeconfig, parallelism=1, limits=LIMITS, progress=False
    )
    per_job = sum(RunStatus.load(out).seconds) / 2
    predicted = planning.wall_seconds(len(CASES), 2, per_job)
    measured = on_jobs["seconds"]
    assert abs(measured - predicted) <= 0.25 * measured, (measured, predicted, per_job)


def test_the_dockerfile_builds_a_non_root_grader_without_the_lab_sources():
    text = (Path(__file__).resolve().parents[1] / "Dockerfile").read_text(encoding="utf-8")
    stage = text.split(" AS grader", 1)[1]
    assert "util-linux" in stage and "iproute2" in stage  # unshare and ip, for the pod's own isolation
    assert "USER 65534:65534" in stage
    assert '"lab_helpers.grading.kubernetes.pod"' in stage
    assert "_course' / 'labs'" in stage and "shutil.rmtree(labs)" in stage  # the solutions stay out of the image


def test_a_pod_that_cannot_isolate_refuses_in_one_line_unless_the_pod_is_the_isolation(monkeypatch):
    from lab_helpers.grading.kubernetes import pod

    monkeypatch.setattr(pod, "user_namespaces", lambda: (False, "unshare --user failed: Operation not permitted"))
    with pytest.raises(pod.Refused) as refused:
        pod.pod_isolation(required=True)  # the sandbox: process pods isolate nothing themselves
    message = str(refused.value)
    assert "\n" not in message and "fix: " in message and "Operation not permitted" in message
    live = pod.pod_isolation(required=False)  # a real cluster's pod: the runtime's namespaces, said in the log
    assert not live.namespaces and "the pod is the isolation" in live.describe()
    monkeypatch.setattr(pod, "user_namespaces", lambda: (True, ""))
    inside = pod.pod_isolation(required=True)
    assert inside.namespaces and inside.user_namespace and inside.drop_to_uid == NOBODY_UID


def test_lab_05_is_taken_on_the_job_path_now_that_its_pods_carry_kubectl_and_helm(tmp_path):
    from lab_helpers.grading.kubernetes import fanout
    from lab_helpers.grading.release import release

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        release(["05"], tmp_path / "release")
    settings = fanout._settings("05", tmp_path / "release" / "key", tmp_path / "out", LIMITS, "sandbox", "here")
    assert settings.key.lab == "05" and "05" in fanout.TOOL_LABS
    assert "Kubernetes Jobs on here" in (tmp_path / "out" / "grading.log").read_text()
