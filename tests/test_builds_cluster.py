"""Built images on the sandbox cluster: a pod naming a pushed tag runs the files that tag's build
recorded (the new code for the new tag, the old code still for the old one), its ``imageID`` is the
build's digest, and a tag never pushed is ImagePullBackOff naming the tags the registry holds."""

from __future__ import annotations

import json
import time

import pytest
from k8s_fixtures import cluster, kube  # noqa: F401

from lab_helpers.sandbox.kubernetes.kubelet import builds

# Under slow: lab 06's run serves each pushed commit's code from its built image on every CI run.
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

NS = "builds"
REPO = "registry.example/learner/hello"
DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY hello.py ./\nCMD ["python", "hello.py"]\n'


def _wait(what, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


def _pod(name: str, image: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]},
        }
    )


def _status(kube, name: str) -> dict:
    return json.loads(kube.kubectl("get", "pod", "-n", NS, name, "-o", "json").stdout).get("status", {})


def test_each_tag_runs_the_code_it_was_built_from(kube, cluster, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "hello.py").write_text("print('hello from one')\n")
    one = builds.build(kube.state / "sandbox", ctx, tags=[f"{REPO}:sha-1111111"])
    (ctx / "hello.py").write_text("print('hello from two')\n")
    two = builds.build(kube.state / "sandbox", ctx, tags=[f"{REPO}:sha-2222222"])
    assert one.digest != two.digest
    kube.kubectl("create", "namespace", NS)
    for name, tag in (("new", "sha-2222222"), ("old", "sha-1111111"), ("missing", "sha-3333333")):
        kube.kubectl("apply", "-n", NS, "-f", "-", input=_pod(name, f"{REPO}:{tag}"))
    for name, digest, words in (("new", two.digest, "two"), ("old", one.digest, "one")):
        _wait(f"{name} Succeeded", lambda n=name: _status(kube, n).get("phase") == "Succeeded")
        assert kube.kubectl("logs", "-n", NS, name).stdout == f"hello from {words}\n"
        assert _status(kube, name)["containerStatuses"][0]["imageID"] == f"{REPO}@{digest}"
    described = kube.kubectl("describe", "pod", "-n", NS, "new").stdout
    assert f"Image:          {REPO}:sha-2222222" in described and two.digest in described
    waiting = _wait(
        "ImagePullBackOff",
        lambda: (
            ((_status(kube, "missing").get("containerStatuses") or [{}])[0].get("state", {}).get("waiting") or {}).get(
                "reason"
            )
            == "ImagePullBackOff"
            and _status(kube, "missing")["containerStatuses"][0]["state"]["waiting"]["message"]
        ),
    )
    assert f"the sandbox registry holds {REPO} at tags sha-2222222, sha-1111111 only" in waiting
