"""Helm 4 against the sandbox cluster, from its own starting point: the chart ``helm create`` writes
installs with ``--wait``, passes ``helm test`` (busybox wget of the chart's Service), upgrades,
rolls back and uninstalls, leaving nothing of the release behind (``k8s_transcripts/helm.txt``)."""

from __future__ import annotations

import pytest
from k8s_fixtures import Transcript, cluster, kube, load_transcript

pytestmark = pytest.mark.timeout(600)

SECTIONS = load_transcript("helm.txt")

# Sections that fail because a piece of the cluster is missing or wrong, each with what is wrong.
XFAIL: dict[str, str] = {}


def _params():
    for name in SECTIONS:
        marks = [pytest.mark.xfail(strict=False, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.fixture(scope="module")
def transcript(kube, cluster, tmp_path_factory) -> Transcript:
    return Transcript(kube.env, tmp_path_factory.mktemp("helm-transcript"))


@pytest.mark.parametrize("section", list(_params()))
def test_helm(transcript, section):
    transcript.run(section, SECTIONS[section])
