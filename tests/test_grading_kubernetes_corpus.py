"""Lab 00's hostile corpus through the Job path: each submission is a Kubernetes Job on the sandbox
cluster, whose process pods isolate nothing by themselves, so the pod's grader must (namespaces
inside a user namespace, a fresh root, uid 65534 with no capabilities).

Every case must get the score it gets on one machine, the feedback must name the limit it hit,
and nothing of the key may reach the pod or any output: the escapes (lifting mounts, peeking
through /proc, writing out) aim at the key, the output folder and the submissions, which are not
in the pod at all.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
import warnings
from pathlib import Path

import pytest
from corpus.harness import load_cases
from corpus.hostile import ESCAPES, stamp
from k8s_fixtures import cluster, kube  # noqa: F401

from lab_helpers.grading.isolation import Limits, namespaces_available

LIMITS = Limits(cell_s=10, notebook_s=40, memory_mb=512, output_kb=256)
CLEAN = "nothing of the grader's was reachable"

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, kube, cluster):
    import nbformat

    from lab_helpers.grading.kubernetes import grade_on_kubernetes
    from lab_helpers.grading.release import release
    from lab_helpers.paths import labs_dir

    root = tmp_path_factory.mktemp("k8s-corpus")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["00"], root / "release")
    canary = "CANARY" + secrets.token_hex(16)
    hidden = rel.key_dir / "hidden.py"
    hidden.write_text(hidden.read_text() + f"\n# {canary}\n")
    key, out, subs = root / "release" / "key", root / "out", root / "submissions"
    secret_paths = [str(rel.key_dir), str(key), str(labs_dir()), str(out), str(subs), str(root / "release")]
    cases = load_cases("00")
    learner = nbformat.read(rel.learner_path, as_version=4)
    expect = cases.build(learner, subs, rel.version, secret_paths)
    for name in ESCAPES:
        nb = copy.deepcopy(learner)
        cases._right(nb)
        cases._answer(nb, cases.WHY, ESCAPES[name](secret_paths, "why_separate", repr(CLEAN)))
        stamp(nb, name, rel.version, "00")
        nbformat.write(nb, subs / f"{name}.ipynb")
    started = time.monotonic()
    book = grade_on_kubernetes(
        "00", key, out, [str(subs)], kubeconfig=kube.kubeconfig, parallelism=2, limits=LIMITS, progress=False
    )
    return {"book": book, "out": out, "expect": expect, "seconds": time.monotonic() - started, "canary": canary}


def _grade(graded, name):
    return next(g for g in graded["book"].grades if Path(g.submission).stem == name)


def _feedback(graded, name) -> str:
    from lab_helpers.grading.feedback import feedback_name

    return (graded["out"] / "feedback" / feedback_name(_grade(graded, name).submission)).read_text(encoding="utf-8")


def test_every_case_gets_the_score_it_gets_on_one_machine(graded):
    assert len(graded["book"].grades) == len(graded["expect"]) + len(ESCAPES)
    for name, expect in graded["expect"].items():
        g = _grade(graded, name)
        assert g.score == pytest.approx(expect.score), (name, g.lines, g.limits_hit, g.problems, g.notes)
        assert g.learner == expect.learner
        html = _feedback(graded, name)
        for phrase in (expect.limit, expect.problem, expect.note):
            if phrase:
                assert phrase in html, f"{name}: feedback does not mention {phrase!r}"
        if not expect.problem:
            assert g.problems == [], (name, g.problems)
    assert graded["seconds"] < 400, f"the corpus took {graded['seconds']:.0f} s"


def test_limits_bite_inside_the_pod(graded):
    loop = _grade(graded, "loop-ignores-interrupt")
    assert loop.seconds < LIMITS.notebook_s + 15  # stopped at the notebook limit, not left running
    folder = next((graded["out"] / "logs").glob("memory-bomb-*"))
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert any(e.get("ename") == "MemoryError" for e in events if e.get("event") == "cell-error")


def test_the_escapes_find_nothing_in_the_pod(graded):
    correct = _grade(graded, "correct")
    for name in ESCAPES:
        g = _grade(graded, name)
        assert g.answers["00.why-separate"]["answer"] == CLEAN, (name, g.answers["00.why-separate"])
        assert g.score == correct.score, (name, g.lines)


def test_no_key_byte_reached_any_output_and_every_kernel_was_unprivileged(graded):
    for path in graded["out"].rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert graded["canary"].encode() not in data, path
            assert b"LEAKED" not in data or path.suffix == ".ipynb" and b"'LEAKED '" in data, path
    log = (graded["out"] / "grading.log").read_text()
    assert log.count(": unprivileged: uid 65534") >= len(graded["expect"]) - 1  # the corrupt one never ran
    assert "PRIVILEGED" not in log
