"""Lab 05's corpus graded in one batch: each submission with its own sandbox cloud and cluster, the state
checks read from that cluster outside the kernel (the api Available with ready endpoints, the model on the
GPU node, the claim Bound to a volume of its size, the drill Pending, nothing left after the cleanup).

By default: the correct, partly wrong and untouched submissions, one that deletes what the grader's probe
reads, and one whose pod never exits. Under ``-m slow``: the shared hostile set and the pod that tries
the host's network and another namespace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus.harness import assert_expected, grade_corpus, grade_of, load_cases
from corpus.hostile import CASES

from lab_helpers.grading.isolation import Limits, namespaces_available

LIMITS = Limits(cell_s=90, notebook_s=240, memory_mb=2048, output_kb=512, probe_s=30)
MAX = 21
DEFAULT = ("correct", "partly-wrong", "untouched", "delete-probed", "never-exits")

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


def outlived_pods() -> list[str]:
    """Pod shims still running for a submission whose folder the grader already removed (each names its pod's
    folder under the submission's ``lab-grade-*`` root on its command line); the containers run under them."""
    left = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        for arg in args:
            text = arg.decode(errors="replace")
            if "/lab-grade-" in text and "/kubelet/pods/" in text:
                root = text.split("/run/", 1)[0]
                if not Path(root).exists():
                    left.append(f"{entry.name}: {text}")
    return left


@pytest.fixture(scope="module")
def grader_tools(k8s_tools):
    """The grader's own pinned kubectl and helm, as an instructor's `lab tools install` leaves them: handed to
    each kernel read-only (a kernel has no network to download them)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(k8s_tools))
        yield k8s_tools


@pytest.fixture(scope="module")
def graded(tmp_path_factory, grader_tools):
    return grade_corpus("05", tmp_path_factory.mktemp("corpus05"), LIMITS, only=DEFAULT)


def test_each_submission_gets_its_expected_score_and_nothing_is_left_running(graded):
    for name in DEFAULT:
        assert_expected(graded, name, MAX)
    assert grade_of(graded, "correct").score > grade_of(graded, "partly-wrong").score > 0
    assert graded["left_running"] == [], "a submission's kernel, sandbox or pod outlived the batch"
    assert outlived_pods() == [], "a submission's pod outlived the batch"
    each = ", ".join(f"{name} {grade_of(graded, name).seconds:.0f} s" for name in DEFAULT)
    print(f"lab 05: {len(DEFAULT)} submissions graded in {graded['seconds']:.0f} s with 2 workers ({each})")


def test_state_checks_read_the_submissions_own_cluster(graded):
    correct = grade_of(graded, "correct").answers
    api = correct["05.api-service:available"]["answer"]
    assert api["conditions"]["Available"] == "True" and api["ready_addresses"] >= 1
    model = correct["05.model-on-gpu:node"]["answer"]
    assert any(p["gpu_node"] and p["phase"] == "Running" for p in model["pods"])
    assert model["claim_phase"] == "Bound" and model["volume"]["size_gb"] == 1 and model["claimed"] == "1Gi"
    drill = correct["05.gpu-pending:state"]["answer"]
    assert (drill["phase"], drill["node"], drill["reason"], drill["gpus"]) == ("Pending", "", "Unschedulable", [2])
    assert correct["05.cleanup-order:cleanup"]["answer"] == {"left": [], "not_checked": []}
    # without the toleration the model ran on a CPU worker: the cluster says so, whatever the kernel printed
    wrong = grade_of(graded, "partly-wrong")
    assert not any(p["gpu_node"] for p in wrong.answers["05.model-on-gpu:node"]["answer"]["pods"])
    assert wrong.line_for("05.model-on-gpu:node").earned == 0
    # the given cells made the api and its Service, yet the untouched notebook earns no state point for them
    untouched = grade_of(graded, "untouched")
    assert untouched.answers["05.api-service:available"]["answer"]["available_replicas"] >= 1
    assert untouched.line_for("05.api-service:available").earned == 0


def test_deleting_what_the_probe_reads_earns_nothing_for_it(graded):
    g = grade_of(graded, "delete-probed")
    assert g.answers["05.api-service:available"]["answer"]["available_replicas"] == 0
    assert g.line_for("05.api-service:available").earned == 0 and g.line_for("05.api-service:endpoints").earned == 0
    assert g.line_for("05.api-service").earned == 3  # the manifest itself was right


def test_a_pod_that_never_exits_does_not_keep_the_lab_alive(graded):
    g = grade_of(graded, "never-exits")
    assert g.answers["05.cleanup-order:cleanup"]["answer"] == {"left": [], "not_checked": []}


@pytest.mark.slow
def test_full_hostile_set(tmp_path, grader_tools):
    own = tuple(load_cases("05").OWN)
    graded = grade_corpus("05", tmp_path, LIMITS, only=CASES + own)
    failures = []
    for name in CASES + own:
        try:
            assert_expected(graded, name, MAX)
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert failures == []
    assert graded["left_running"] == [], "a submission's kernel, sandbox or pod outlived the batch"
    assert outlived_pods() == [], "a submission's pod outlived the batch"
