"""Lab 07's corpus graded in one batch: each submission with its own sandbox cloud and cluster, the deployment's
state read from it outside the kernel (the Application Synced and Healthy, the api answering through the ingress,
its pods requesting what the design sized; nothing left after the cleanup).

By default: the correct submission and one that answers exercise 7 right and deploys other values. Under
``-m slow``: the partly wrong and untouched submissions, and the shared hostile set.
"""

from __future__ import annotations

import pytest
from corpus.harness import grade_corpus, grade_of, load_cases
from corpus.hostile import CASES
from test_lab06_grading import assert_all, grader_tools, nothing_left  # noqa: F401  (grader_tools: a fixture)

from lab_helpers.grading.isolation import Limits, namespaces_available

LIMITS = Limits(cell_s=300, notebook_s=600, memory_mb=2048, output_kb=512, probe_s=30)
MAX = 24  # the key's maximum: 20 graded automatically, the design note's 4 by a person
AUTO = 20
DEFAULT = ("correct", "deploys-other-values")
MORE = ("partly-wrong", "untouched")

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


def report(graded: dict, names) -> str:
    each = ", ".join(f"{name} {grade_of(graded, name).seconds:.0f} s" for name in names)
    return f"lab 07: {len(names)} submissions graded in {graded['seconds']:.0f} s with 2 workers ({each})"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, grader_tools):
    return grade_corpus("07", tmp_path_factory.mktemp("corpus07"), LIMITS, only=DEFAULT)


def test_each_submission_gets_its_expected_score_and_nothing_is_left(graded):
    nothing_left(graded)
    assert_all(graded, DEFAULT, MAX)
    print(report(graded, DEFAULT))


def test_the_state_check_reads_what_runs_not_what_was_answered(graded):
    correct = grade_of(graded, "correct")
    serving = correct.answers["07.api-values:serving"]["answer"]
    assert (serving["sync"], serving["health"], serving["healthz"]) == ("Synced", "Healthy", {"ok": True})
    assert serving["replicas"] == serving["ready"] == 2
    assert all(r == {"cpu": "250m", "memory": "256Mi"} for r in serving["requests"]), serving["requests"]
    assert correct.line_for("07.api-values:serving").earned == 3
    assert correct.answers["07.api-values:cleanup"]["answer"] == {"left": [], "not_checked": []}
    other = grade_of(graded, "deploys-other-values")
    assert other.line_for("07.api-values").earned == 2  # the answer was right...
    deployed = other.answers["07.api-values:serving"]["answer"]
    assert deployed["replicas"] == 1 and deployed["requests"] == [{"cpu": "10m", "memory": "16Mi"}]
    assert other.line_for("07.api-values:serving").earned == 0  # ...what ran was not


@pytest.mark.slow
def test_wrong_and_untouched(tmp_path, grader_tools):
    graded = grade_corpus("07", tmp_path, LIMITS, only=MORE)
    assert_all(graded, MORE, MAX)
    print(report(graded, MORE))


@pytest.mark.slow
def test_full_hostile_set(tmp_path, grader_tools):
    names = tuple(n for n in CASES if n not in DEFAULT + MORE)
    graded = grade_corpus("07", tmp_path, LIMITS, only=names)
    assert_all(graded, names, MAX)
    print(report(graded, names))


def test_the_corpus_covers_every_check_and_the_maximum_is_the_keys(tmp_path):
    """The maximum above is the released key's: every public check of lab 07, its two state parts, and the note
    graded by hand (with its rubric in the key, not in the learner's notebook)."""
    import warnings

    from lab_helpers.grading.key import load_key
    from lab_helpers.grading.release import release

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["07"], tmp_path)
    key = load_key(rel.key_dir, "07")
    cases = load_cases("07")
    assert [c.name for c in key.checks] == cases.SPEC.checks
    assert sorted({c.check for c in key.captures}) == sorted(cases.SPEC.checks)
    manual = [c for c in key.checks if c.manual]
    assert [c.name for c in manual] == ["07.design-note"] and manual[0].points == 4
    assert key.max_score == MAX and MAX - 4 == AUTO == cases.FULL
    assert sorted(c for c in key.columns() if ":" in c) == ["07.api-values:cleanup", "07.api-values:serving"]
    assert "Design and why" in key.rubrics()["07.design-note"]
    learner = rel.learner_path.read_text()
    assert "Design and why" not in learner and "rubric" not in learner.lower()
