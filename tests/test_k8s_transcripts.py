"""The real kubectl against the sandbox cluster: the transcript in ``k8s_transcripts/kubectl.txt``
(commands a learner types, their exit codes and the output lines that stay the same from run to
run), run in order against one sandbox with three Ready nodes. A step that differs fails its
section with the whole transcript up to it."""

from __future__ import annotations

import pytest
from k8s_fixtures import Expect, Step, Transcript, cluster, kube, load_transcript, parse_transcript

pytestmark = pytest.mark.timeout(600)

SECTIONS = load_transcript("kubectl.txt")

# Sections that fail because a piece of the cluster is missing or wrong, each with what is wrong.
XFAIL: dict[str, str] = {}


def _params():
    for name in SECTIONS:
        marks = [pytest.mark.xfail(strict=False, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.fixture(scope="module")
def transcript(kube, cluster, tmp_path_factory) -> Transcript:
    return Transcript(kube.env, tmp_path_factory.mktemp("kubectl-transcript"))


@pytest.mark.parametrize("section", list(_params()))
def test_kubectl(transcript, section):
    transcript.run(section, SECTIONS[section])


def test_transcript_steps_can_fail():
    """The checker itself: a wrong exit code, a missing line, a forbidden line and a timeout are each told."""
    steps = parse_transcript(
        "## s\n$ kubectl get x\n> --more\n@ exit 1\nliteral\n~ ^re\\d$\n! never\n!~ bad\n@ within 2\n"
    )["s"]
    step = steps[0]
    assert step.command == "kubectl get x\n--more" and step.exit == 1 and step.within == 2
    assert [e.kind for e in step.expect] == ["line", "re", "no-line", "no-re"]
    assert step.problems(1, "literal\nre7\n") == []
    assert step.problems(0, "literal\nre7\n") == ["exit code 0, expected 1"]
    assert step.problems(1, "literal\n") == ["no line matches '^re\\\\d$'"]
    assert len(step.problems(1, "literal\nre7\nnever\nvery bad\n")) == 2
    assert step.problems(None, "literal\nre7") == ["timed out after 120 s"]
    two = Step("x", 1, expect=[Expect("line", "a"), Expect("line", "a")])  # each expectation takes its own line
    assert two.problems(0, "a\n") and not two.problems(0, "a\na\n")
