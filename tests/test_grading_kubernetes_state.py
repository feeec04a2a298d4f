"""Labs that check their cloud's state (03, 04) graded as Kubernetes Jobs on the sandbox cluster.

Each pod boots the submission's own sandbox cloud and runs the lab's state probes after their cells,
exactly as local grading does; the probes travel by name (course functions in lab_helpers.checks),
never the key: the payload holds no judge, no points, no description, and the key's canary is in
no payload and no output. The snapshots come back in the answer log and are judged here, so the
`submission` and `score` columns match local grading's for the same submissions.
"""

from __future__ import annotations

import csv
import json
import secrets
import time
from pathlib import Path

import pytest
from corpus.harness import grade_corpus
from k8s_fixtures import cluster, kube  # noqa: F401

from lab_helpers.grading.isolation import Limits, namespaces_available

LIMITS = Limits(cell_s=20, notebook_s=90, memory_mb=1536, output_kb=256, probe_s=30)
CASES = {
    "03": ("correct", "partly-wrong", "untouched", "kill-kernel"),
    "04": ("correct", "partly-wrong", "untouched", "read-hidden"),
}
JUDGES = {  # text of the key's hidden cells that must never reach a pod
    "03": ("_ssh_on_the_cloud", "judge_open_ssh", "tcp 22 open and nothing else", "_cleaned_up", "hidden_check"),
    "04": ("_volume_attached", "_tail_rebuilt", "attached to the lab's server", "_cleaned_up", "hidden_check"),
}

pytestmark = pytest.mark.skipif(not namespaces_available()[0], reason=f"no namespaces: {namespaces_available()[1]}")


def _rows(out: Path) -> set[tuple[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {(r["submission"], r["score"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module", params=sorted(CASES))
def graded(request, tmp_path_factory, kube, cluster, monkeypatch_module):
    from lab_helpers.grading.kubernetes import cluster as kc
    from lab_helpers.grading.kubernetes import grade_on_kubernetes
    from lab_helpers.grading.kubernetes.progress import RunStatus

    lab = request.param
    local = grade_corpus(lab, tmp_path_factory.mktemp(f"k8s-state-{lab}"), LIMITS, only=CASES[lab])
    canary = "CANARY" + secrets.token_hex(16)
    hidden = next(local["key"].rglob("hidden.py"))
    hidden.write_text(hidden.read_text() + f"\n# {canary}\n")
    payloads: list[str] = []
    submit = kc.Cluster.submit

    def recording(self, config_map: dict, job: dict) -> None:
        payloads.extend(config_map["data"].values())
        submit(self, config_map, job)

    monkeypatch_module.setattr(kc.Cluster, "submit", recording)
    out = local["root"] / "k8s"
    started = time.monotonic()
    book = grade_on_kubernetes(
        lab,
        local["key"],
        out,
        [str(local["root"] / "submissions")],
        kubeconfig=kube.kubeconfig,
        parallelism=2,
        limits=LIMITS,
        progress=False,
    )
    monkeypatch_module.undo()
    seconds = time.monotonic() - started
    per_job = RunStatus.load(out).seconds
    print(f"lab {lab}: {len(per_job)} Jobs in {seconds:.1f} s, {sum(per_job) / len(per_job):.1f} s per Job")
    return {
        "lab": lab,
        "local": local,
        "book": book,
        "out": out,
        "payloads": payloads,
        "canary": canary,
        "seconds": seconds,
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_jobs_give_the_same_submission_and_score_as_local_grading(graded):
    local = _rows(graded["local"]["out"])
    assert _rows(graded["out"]) == local and len(local) == len(CASES[graded["lab"]])
    for g in graded["book"].grades:
        expect = graded["local"]["expect"][Path(g.submission).stem]
        assert g.score == expect.score, (g.submission, [(line.column, line.earned) for line in g.lines], g.problems)


def test_the_probes_read_each_submissions_own_cloud_inside_its_pod(graded):
    by_name = {Path(g.submission).stem: g for g in graded["book"].grades}
    local = {Path(g.submission).stem: g for g in graded["local"]["gradebook"].grades}
    state_columns = [c for c in by_name["correct"].answers if c.count(":")]
    assert state_columns, by_name["correct"].answers.keys()
    for name, g in by_name.items():
        for column in state_columns:  # the same snapshots as on one machine, column by column
            here, there = g.answers.get(column), local[name].answers.get(column)
            assert (here or {}).get("answer") == (there or {}).get("answer"), (name, column, here, there)
        for line in g.lines:
            if line.hidden:
                assert line.earned == local[name].line_for(line.column).earned, (name, line.column)
    if graded["lab"] == "03":
        rules = by_name["correct"].answers["03.open-ssh:state"]["answer"]["rules"]
        assert [(r["protocol"], r["port_range_min"], r["port_range_max"]) for r in rules] == [("tcp", 22, 22)]
        assert by_name["correct"].answers["03.su-stopped:cleanup"]["answer"] == {"left": [], "not_checked": []}
        assert "03.su-stopped:cleanup" not in by_name["kill-kernel"].answers  # killed before its cleanup cell
    else:
        attached = by_name["correct"].answers["04.cleanup-order:attached"]["answer"]
        assert [(v["status"], v["on_lab_server"]) for v in attached] == [("in-use", True)]
        assert by_name["correct"].line_for("04.cleanup-order:cleanup").earned == 2


def test_the_payload_names_probes_and_holds_no_judge_and_no_key(graded):
    assert graded["payloads"], "no ConfigMap was submitted"
    for text in graded["payloads"]:
        assert graded["canary"] not in text
        for word in JUDGES[graded["lab"]]:
            assert word not in text, word
        probes = json.loads(text)["probes"]
        assert probes and all(set(p) == {"check", "part", "after", "probe"} for p in probes)
        assert all(p["probe"].startswith(f"lab_helpers.checks.lab{graded['lab']}:probe_") for p in probes)
    for path in graded["out"].rglob("*"):
        if path.is_file():
            assert graded["canary"].encode() not in path.read_bytes(), path
    log = (graded["out"] / "grading.log").read_text()
    assert "own network (loopback only), pid and mount namespaces" in log and "PRIVILEGED" not in log


def test_a_key_whose_probe_lives_in_the_key_is_refused_in_one_line(graded, kube, tmp_path):
    import shutil

    from lab_helpers.errors import UsageError
    from lab_helpers.grading.kubernetes import grade_on_kubernetes

    key = tmp_path / "key"
    shutil.copytree(graded["local"]["key"], key)
    hidden = next(key.rglob("hidden.py"))
    hidden.write_text(
        hidden.read_text()
        + "\n\ndef _probe_in_the_key(conn):\n    return 1\n\n\n"
        + f"@state_check({graded['lab']!r} + '.extra', points=1, description='x', probe=_probe_in_the_key)\n"
        + "def _extra(snapshot, context):\n    return True\n"
    )
    with pytest.raises(UsageError) as refused:
        grade_on_kubernetes(
            graded["lab"],
            key,
            tmp_path / "out",
            [str(graded["local"]["root"] / "submissions")],
            kubeconfig=kube.kubeconfig,
            progress=False,
        )
    message = str(refused.value)
    assert "\n" not in message and "_probe_in_the_key" in message
    assert f"move the probe into lab_helpers/checks/lab{graded['lab']}.py" in message
    assert not (tmp_path / "out" / "grades.csv").exists()
