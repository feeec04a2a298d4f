"""Lab 06's grading corpus: the scores each submission must get, with lab 06's state checks read from the
submission's own sandbox forge, registry and cluster.

Auto-graded maximum: 21 points. Public: 06.triggers 2, 06.main-tags 1, 06.who-deploys 1, 06.worker-values 2,
06.gpu-pending 1, 06.bad-tag 2, 06.secret-fixed 1, 06.rollback 2, 06.cleanup-order 1 (13). On the sandbox:
06.who-deploys:serving 2 (the Application Synced and Healthy at the image of the forge's newest commit, the api
answering with the new version), 06.secret-fixed:history 2 (no secret in any commit of the forge's main),
06.rollback:healthy 2 (Synced and Healthy after the revert) and 06.cleanup-order:cleanup 2 (nothing left): 8.
State points count only when their exercise was answered.

Lab 06's own hostile cases (beside the shared set): one pushes the learner's clone to another learner's
repository and deletes and force-pushes the infra repository's ``main``; one force-pushes a rewritten history
(the charts taken out) to the infra repository's ``main`` while the Application follows it.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, before_check, builder, fill, insert_after

(
    TRIGGERS,
    TAGS,
    SEEDED,
    WHO,
    VALUES,
    PENDING,
    BAD_TAG,
    SECRET,
    ROLLBACK,
    ORDER,
) = (  # the answer cells' ids, and the given cell that pushes both repositories first
    "6a0e0008",
    "6a0e000a",
    "6a0e000e",
    "6a0e001f",
    "6a0e0024",
    "6a0e0028",
    "6a0e002c",
    "6a0e0030",
    "6a0e0037",
    "6a0e003c",
)
FULL = 21
TRIGGERS_RIGHT = """starts = {
    "main: sample_app/api.py changed": True,
    "main: README.md changed": False,
    "feature/login: sample_app/api.py changed": False,
    "develop: Dockerfile changed": True,
    "tag v1.2.0 pushed": True}"""
TAGS_RIGHT = '["main", "sha-8d3f2a9"]'
VALUES_RIGHT = (
    'fixed = {"replicas": 1, "image": wrong["image"], "resources": {"gpu": {"enabled": True}},\n'
    '         "env": [{"name": "POLL_S", "value": "1"}]}'
)
PENDING_RIGHT = (
    'gpu_reason = next(e.message for e in core.list_namespaced_event(NS, field_selector="reason=FailedScheduling").items\n'
    '                  if e.involved_object.name.startswith("sample-worker"))'
)
BAD_TAG_RIGHT = (
    'bad_tag = {"health": drill["status"]["health"]["status"],\n'
    '           "waiting_reason": drill_pods[0].status.container_statuses[0].state.waiting.reason}'
)
SECRET_RIGHT = "!git -C {app_dir} reset -q --hard HEAD~1\nfixed_push = forge.push(app_dir)"
ROLLBACK_RIGHT = "revert_sha = forge.revert(app_dir, bad_release)\npushed_revert = forge.push(app_dir)"
ORDER_RIGHT = 'cleanup_order = ["the Applications", "the namespace", "the cluster"]'

STUBS = {  # the learner's stub line of each answer cell, as released
    TRIGGERS: "starts = {name: None for name in pushes}",
    TAGS: "main_tags = None",
    WHO: "deployer = None",
    VALUES: 'fixed = {"replicas": 1, "image": wrong["image"]}',
    PENDING: "gpu_reason = None",
    BAD_TAG: "bad_tag = None",
    SECRET: "fixed_push = None",
    ROLLBACK: "revert_sha = None",
    ORDER: "cleanup_order = None",
}


def answer_with(nb, answers: dict[str, str]) -> None:
    for cell_id, code in answers.items():
        fill(nb, cell_id, STUBS[cell_id], code)


RIGHT = {
    TRIGGERS: TRIGGERS_RIGHT,
    TAGS: f"main_tags = {TAGS_RIGHT}",
    WHO: 'deployer = "the GitOps controller"',
    VALUES: VALUES_RIGHT,
    PENDING: PENDING_RIGHT,
    BAD_TAG: BAD_TAG_RIGHT,
    SECRET: SECRET_RIGHT,
    ROLLBACK: ROLLBACK_RIGHT,
    ORDER: ORDER_RIGHT,
}


def right(nb) -> None:
    answer_with(nb, RIGHT)


def partly_wrong(nb) -> None:
    """The README push said to start the workflow (4 of 5: 1.6 of 2), 'latest' among the tags (0), the workflow
    named as the deployer (0; the Application still serves the new version: 2), the values, the reason and the
    secret right (2, 1, 1 + 2), the health read as Progressing (1 of 2), the revert right (2 + 2), the cleanup
    order wrong (0; the cleanup cell still leaves nothing: 2): 1.6 + 2 + 2 + 1 + 1 + 1 + 2 + 2 + 2 + 2 = 16.6."""
    answer_with(
        nb,
        {
            **RIGHT,
            TRIGGERS: TRIGGERS_RIGHT.replace('"main: README.md changed": False', '"main: README.md changed": True'),
            TAGS: 'main_tags = ["main", "sha-8d3f2a9", "latest"]',
            WHO: 'deployer = "the workflow"',
            BAD_TAG: BAD_TAG_RIGHT.replace('drill["status"]["health"]["status"]', '"Progressing"'),
            ORDER: 'cleanup_order = ["the cluster", "the namespace", "the Applications"]',
        },
    )


def wrong(nb) -> None:
    """Wrong answers, the later exercises left undone: 0."""
    answer_with(nb, {TRIGGERS: "starts = {name: False for name in pushes}", TAGS: 'main_tags = ["latest"]'})


# --- lab 06's own hostile cells ------------------------------------------------------------------------

# Right after both repositories were pushed: another learner of the same forge gets a repository, then the
# learner's clone is pushed over it (plainly and with --force, with the clone's own credential helper), the
# infra repository's main is deleted, and a commit that drops the charts is force-pushed over it. Each
# refusal is recorded; any push the forge took turns exercise 3's answer into a leak.
PUSH_ELSEWHERE = """import subprocess as _sp

from lab_helpers.kube import add_user

add_user("learner-b")
other = forge.create_repo("sample-app", user="learner-b")
other_dir = forge.clone(other.clone_url, WORK / "learner-b-sample-app", name="B", email="b@example.org",
                        user="learner-b")
(other_dir / "README.md").write_text("learner-b's own work\\n")
other_head = forge.commit(other_dir, "learner-b's first commit")
assert forge.push(other_dir).ok, "learner-b could not push to its own repository"
infra_head = forge.remote_head("infra")


def attempt(workdir, *args):
    out = _sp.run(["git", "-C", str(workdir), *args], capture_output=True, text=True, timeout=120,
                  env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, stdin=_sp.DEVNULL)
    return out.returncode, (out.stderr or out.stdout).strip().splitlines()[-1:]


elsewhere = {
    "push to learner-b": attempt(app_dir, "push", other.clone_url, "HEAD:refs/heads/main"),
    "force-push to learner-b": attempt(app_dir, "push", "--force", other.clone_url, "HEAD:refs/heads/main"),
    "new branch at learner-b": attempt(app_dir, "push", other.clone_url, "HEAD:refs/heads/takeover"),
    "delete infra main": attempt(infra_dir, "push", "origin", "--delete", "main"),
}
try:
    _sp.run(["git", "-C", str(infra_dir), "checkout", "-q", "-b", "rewritten"], check=True)
    _sp.run(["git", "-C", str(infra_dir), "rm", "-rq", "charts"], check=True)
    (infra_dir / "README.md").write_text("history rewritten\\n")
    _sp.run(["git", "-C", str(infra_dir), "add", "README.md"], check=True)
    _sp.run(["git", "-C", str(infra_dir), "commit", "-q", "--amend", "-m", "history rewritten"], check=True)
    elsewhere["force-push infra main"] = attempt(infra_dir, "push", "--force", "origin", "rewritten:main")
finally:
    _sp.run(["git", "-C", str(infra_dir), "checkout", "-q", "-f", "main"], check=True)
accepted = [name for name, (code, _) in elsewhere.items() if code == 0]
if forge.remote_head("sample-app", owner="learner-b") != other_head:
    accepted.append("learner-b's main moved")
if forge.remote_head("infra") != infra_head:
    accepted.append("infra's main moved")
print("refused:", {name: said for name, (code, said) in elsewhere.items() if code})
ELSEWHERE_ACCEPTED = accepted"""

# After the change was followed (the Application Synced at it): infra's history rewritten without the
# charts, force-pushed to main. Refused, the Application stays Synced and Healthy; taken, the controller
# loses its chart, and the cell waits for it to say so before exercise 3's check and its state probe.
REWRITE_INFRA = """import subprocess as _sp

infra_before = forge.remote_head("infra")
try:
    _sp.run(["git", "-C", str(infra_dir), "checkout", "-q", "--orphan", "rewritten"], check=True)
    _sp.run(["git", "-C", str(infra_dir), "rm", "-rq", "--cached", "charts"], check=True)
    (infra_dir / "README.md").write_text("history rewritten\\n")
    _sp.run(["git", "-C", str(infra_dir), "add", "README.md"], check=True)
    _sp.run(["git", "-C", str(infra_dir), "commit", "-q", "-m", "a new beginning"], check=True)
    rewrite = _sp.run(["git", "-C", str(infra_dir), "push", "--force", "origin", "rewritten:main"],
                      capture_output=True, text=True, timeout=120, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                      stdin=_sp.DEVNULL)
finally:
    _sp.run(["git", "-C", str(infra_dir), "checkout", "-q", "-f", "main"], check=True)
print("the forge said:", rewrite.stderr.strip().splitlines()[-3:])
if rewrite.returncode == 0 or forge.remote_head("infra") != infra_before:
    for _ in range(150):  # taken: give the controller time to read the new history before the probe does
        if gitops.summary(RELEASE) and not gitops.synced_with(RELEASE, image_tag=NEW_TAG):
            break
        time.sleep(0.2)
    deployer = "LEAKED: the forge took a rewritten history of infra's main\""""

ACCEPTED_LEAKS = """if ELSEWHERE_ACCEPTED:
    deployer = "LEAKED: the forge took " + ", ".join(ELSEWHERE_ACCEPTED)"""


def push_elsewhere(nb) -> None:
    right(nb)
    insert_after(nb, SEEDED, PUSH_ELSEWHERE, "hostile1")
    before_check(nb, WHO, ACCEPTED_LEAKS)


def rewrite_infra(nb) -> None:
    right(nb)
    before_check(nb, WHO, REWRITE_INFRA)


SPEC = LabCorpus(
    lab="06",
    checks=[
        "06.triggers",
        "06.main-tags",
        "06.who-deploys",
        "06.worker-values",
        "06.gpu-pending",
        "06.bad-tag",
        "06.secret-fixed",
        "06.rollback",
        "06.cleanup-order",
    ],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=TRIGGERS,
    late=ORDER,
    slot=(TAGS, "main_tags", TAGS_RIGHT),
    deleted=("6a0e0015", ORDER),  # the chart diff (a given cell) and the order's cell
    scores={
        "correct": FULL,
        "partly-wrong": 16.6,
        "untouched": 0,
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 2,  # the triggers (2), captured before the loop
        "memory-bomb": FULL,
        "sys-exit": FULL,
        "os-exit": 2,  # the triggers, captured before the kernel exits
        "kill-kernel": FULL - 2,  # killed after the order: the cleanup cell never ran, so its state check is not done
        "deleted-cells": FULL - 3,  # the order's cell restored as released: not done (1, and its cleanup 2)
        "duplicated-reordered": FULL,
        "redefined-check": 0,
        "monkeypatch": 0,
        "fake-pass-lines": 0,
        "read-hidden": FULL,
        "huge-output": FULL,
        "network-call": FULL,
    },
)

# lab 06's own cases: name -> (how to build it, the score it must get)
OWN = {
    "push-elsewhere": (push_elsewhere, FULL),
    "rewrite-infra": (rewrite_infra, FULL),
}


build = builder(SPEC, OWN)
