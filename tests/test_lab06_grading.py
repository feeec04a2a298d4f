"""Lab 06's corpus graded in one batch: each submission with its own sandbox forge, registry and cluster, the
state checks read from them outside the kernel (the Application Synced and Healthy at the image of the forge's
newest commit with the api answering the new version, no secret in the forge's history, nothing left after
the cleanup).

By default: the correct submission and one that pushes to another learner's repository and deletes and
force-pushes the infra repository's ``main`` (the forge refuses each). Under ``-m slow``: the partly wrong and
untouched submissions, the infra history rewritten under a following Application, and the shared hostile set.
"""

from __future__ import annotations

import pytest
from corpus.harness import assert_expected, grade_corpus, grade_of, load_cases
from corpus.hostile import CASES
from test_lab05_grading import outlived_pods

from lab_helpers.grading.isolation import Limits, namespaces_available

LIMITS = Limits(cell_s=300, notebook_s=600, memory_mb=2048, output_kb=512, probe_s=30)
MAX = 21
DEFAULT = ("correct", "push-elsewhere")
MORE = ("partly-wrong", "untouched", "rewrite-infra")

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


@pytest.fixture(scope="module")
def grader_tools(k8s_tools):
    """The grader's own pinned kubectl and helm, handed to each kernel read-only (it has no network)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(k8s_tools))
        yield k8s_tools


def report(graded: dict, names) -> str:
    each = ", ".join(f"{name} {grade_of(graded, name).seconds:.0f} s" for name in names)
    return f"lab 06: {len(names)} submissions graded in {graded['seconds']:.0f} s with 2 workers ({each})"


def assert_all(graded: dict, names, max_score: float = MAX) -> None:
    nothing_left(graded)
    failures = []
    for name in names:
        try:
            assert_expected(graded, name, max_score)
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert failures == []


def nothing_left(graded: dict) -> None:
    assert graded["left_running"] == [], "a submission's kernel, sandbox or pod outlived the batch"
    assert outlived_pods() == [], "a submission's pod outlived the batch"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, grader_tools):
    return grade_corpus("06", tmp_path_factory.mktemp("corpus06"), LIMITS, only=DEFAULT)


def test_nothing_is_left_running(graded):
    nothing_left(graded)
    print(report(graded, DEFAULT))


def test_each_submission_gets_its_expected_score(graded):
    assert_all(graded, DEFAULT)


def test_state_checks_read_the_submissions_own_forge_and_cluster(graded):
    correct = grade_of(graded, "correct")
    serving = correct.answers["06.who-deploys:serving"]["answer"]
    assert (serving["sync"], serving["health"]) == ("Synced", "Healthy")
    assert serving["image_tag"] == serving["head_tag"] and serving["version"] == "1.1.0-lab"
    healthy = correct.answers["06.rollback:healthy"]["answer"]
    assert (healthy["sync"], healthy["health"]) == ("Synced", "Healthy")
    assert healthy["image_tag"] == healthy["head_tag"] != serving["head_tag"]  # the revert's own build
    assert correct.answers["06.secret-fixed:history"]["answer"] == {"found": True, "findings": []}
    assert correct.answers["06.cleanup-order:cleanup"]["answer"] == {"left": [], "not_checked": []}
    for column in ("06.who-deploys:serving", "06.secret-fixed:history", "06.rollback:healthy"):
        assert correct.line_for(column).earned == 2, column


def test_pushes_to_another_learner_and_over_infra_main_are_refused(graded):
    g = grade_of(graded, "push-elsewhere")
    assert g.line_for("06.who-deploys").earned == 1  # no push the forge took turned the answer into a leak
    # the forge still served the learner's own loop afterwards: the grader's probe read it from outside
    serving = g.answers["06.who-deploys:serving"]["answer"]
    assert (serving["sync"], serving["health"]) == ("Synced", "Healthy") and serving["image_tag"] == serving["head_tag"]
    assert g.line_for("06.rollback:healthy").earned == 2


@pytest.mark.slow
def test_wrong_untouched_and_a_rewritten_infra_history(tmp_path, grader_tools):
    graded = grade_corpus("06", tmp_path, LIMITS, only=MORE)
    assert_all(graded, MORE)
    assert grade_of(graded, "partly-wrong").line_for("06.who-deploys:serving").earned == 2  # answered, if wrongly
    assert grade_of(graded, "untouched").line_for("06.cleanup-order:cleanup").earned == 0  # not answered
    print(report(graded, MORE))


@pytest.mark.slow
def test_full_hostile_set(tmp_path, grader_tools):
    names = tuple(n for n in CASES if n not in DEFAULT + MORE)
    graded = grade_corpus("06", tmp_path, LIMITS, only=names)
    assert_all(graded, names)
    print(report(graded, names))


def test_the_corpus_covers_every_check_and_the_maximum_is_the_keys(tmp_path):
    """The maximum above is the released key's: every public check of lab 06 and each state part it holds."""
    import warnings

    from lab_helpers.grading.key import load_key
    from lab_helpers.grading.release import release

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["06"], tmp_path)
    key = load_key(rel.key_dir, "06")
    cases = load_cases("06")
    assert [c.name for c in key.checks] == cases.SPEC.checks
    # every check is captured, 06.secret-fixed's too, whose cell runs `!git reset` (IPython syntax) before it
    assert sorted({c.check for c in key.captures}) == sorted(cases.SPEC.checks)
    assert key.max_score == MAX == cases.FULL
    assert sorted(c for c in key.columns() if ":" in c) == [
        "06.cleanup-order:cleanup",
        "06.rollback:healthy",
        "06.secret-fixed:history",
        "06.who-deploys:serving",
    ]
