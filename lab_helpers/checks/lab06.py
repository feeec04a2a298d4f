"""Lab 06 "Push to deploy": checks.

The judges derive each answer from the real pieces, never from a table of answers: which pushes
start a workflow is decided by the course's workflow runner's own trigger rules (the ones it runs
pushes with), the tags of a push by its metadata step, the worker's values by rendering the
course's own chart with real Helm (its schema refuses what the chart ignores), the rollback by
git itself (a revert's tree undoes the bad commit). State checks read the learner's forge, registry
and cluster right after the check cell: the Application Synced and Healthy at the image of the
forge's newest commit, no secret in the history of main, nothing left after the cleanup.
"""

from __future__ import annotations

from typing import Any

from .answers import choice_answer, fold, order_verdict, rendered_chart, sentence
from .registry import Verdict, register

__all__ = ["probe_forge_secrets", "probe_leftovers", "probe_new_version"]

APP_REPO, RELEASE, GITOPS_NS = "sample-app", "sample-api", "argocd"
GPU = "nvidia.com/gpu"
SELECTOR = "didn't match Pod's node affinity/selector"  # the scheduler's words when no node has the GPU label


@register(
    "06.triggers",
    points=2,
    question="Which of these pushes start the workflow?",
    shape="a dict: each push's description (str, as given) -> bool",
)
def _triggers(answer, context):
    from ..deploy.ci import starts_workflow

    pushes: dict[str, dict] = context["pushes"]
    if not isinstance(answer, dict):
        return Verdict.no(f"Answer with a dict from each description to True or False; got {type(answer).__name__}.")
    missing = [k for k in pushes if k not in answer]
    if missing:
        return Verdict.no(f"Missing {missing[0]!r}: keep every description of the stub as a key.")
    not_bool = [k for k in pushes if not isinstance(answer[k], bool)]
    if not_bool:
        return Verdict.no(f"{not_bool[0]!r}: answer True or False (a bool), not {answer[not_bool[0]]!r}.")
    wrong = []
    for name, push in pushes.items():
        truth = starts_workflow(context["workflow"], ref=push["ref"], files=push["files"])
        if answer[name] != truth:
            wrong.append(name)
    if not wrong:
        return Verdict.ok("Branch (or tag) filter and paths filter both decide; tags skip the paths filter.")
    hints = []
    for name in wrong:
        ref = pushes[name]["ref"]
        if ref.startswith("refs/tags/"):
            hints.append(f"{name!r}: a tag is matched by on.push.tags, and paths filters are not evaluated for tags")
        elif not any(ref == f"refs/heads/{b}" for b in ("main", "develop")):
            hints.append(f"{name!r}: on.push.branches lists main and develop only")
        else:
            hints.append(f"{name!r}: compare the files it changes with on.push.paths")
    return Verdict((len(pushes) - len(wrong)) / len(pushes), sentence(hints))


@register(
    "06.main-tags",
    points=1,
    question="Which image tags does the metadata step compute for a push of this commit to main?",
    shape="a list of str: the tags, without the image's name",
)
def _main_tags(answer, context):
    from ..deploy.ci import image_tags

    if not isinstance(answer, (list, tuple)) or not all(isinstance(t, str) for t in answer):
        return Verdict.no("Answer with a list of tags, each a str (e.g. ['a-tag', 'another']).")
    truth = image_tags(context["workflow"], job="api", ref=context["ref"], sha=context["sha"])
    given = [t.strip().rsplit(":", 1)[-1] for t in answer]
    if sorted(given) == sorted(truth):
        return Verdict.ok(f"{', '.join(truth)}: the branch's name, and sha- with the commit's first seven characters.")
    said = []
    extra = sorted(set(given) - set(truth))
    if "latest" in extra:
        said.append("no 'latest' here: with these rules it comes with a semver tag (a push of v1.2.3), not a branch")
    elif extra:
        said.append(f"{extra[0]!r} is not made by a push to main (pr and semver rules apply to pull requests and tags)")
    short = sorted(set(truth) - set(given))
    if short:
        said.append(f"one is missing: rule {'type=sha' if short[0].startswith('sha-') else 'type=ref,event=branch'}")
    return Verdict.no(sentence(said))


WHO = ("the workflow", "the promotion step", "the GitOps controller", "git")


@register(
    "06.who-deploys",
    points=1,
    question="Which piece of the loop changed the api's Deployment in the cluster?",
    shape="one of the str 'the workflow', 'the promotion step', 'the GitOps controller', 'git'",
    hidden="the grader sees the Application Synced and Healthy at the image of your newest commit, and the api "
    "answering with the new version",
)
def _who_deploys(answer, context):
    chosen, problem = choice_answer(answer, WHO)
    if problem:
        return problem
    managers = [str(m) for m in context.get("managers") or []]
    writers = ", ".join(managers) or "none"
    if chosen == "the GitOps controller":
        return Verdict.ok(f"The Deployment's field managers say so: {writers}. The workflow only pushed an image.")
    why = {
        "the workflow": "the workflow built and pushed an image; it holds no credential for the cluster",
        "the promotion step": "the promotion step changed the Application (a value in it), not the Deployment",
        "git": "git holds what should be; something in the cluster has to make it so",
    }[chosen]
    return Verdict.no(f"{why}. Look at who manages the Deployment's fields: {writers}.")


@register(
    "06.worker-values",
    points=2,
    question="Write the worker chart's values: one replica, a GPU the chart's way, POLL_S=1 the chart's way.",
    shape="a dict of the worker chart's values",
)
def _worker_values(answer, context):
    rendered, deployment, problem = rendered_chart("worker", answer, "sample-worker")
    if problem:
        return problem
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    said, right = [], 0
    if spec.get("replicas") == 1:
        right += 1
    else:
        said.append(f"replicas renders as {spec.get('replicas')}, not 1")
    limits = [((c.get("resources") or {}).get("limits") or {}).get(GPU) for c in pod.get("containers", [])]
    if any(str(x) == "1" for x in limits):
        right += 1
    else:
        said.append("no container asks for nvidia.com/gpu: the chart reads resources.gpu.enabled")
    env = {}
    for obj in rendered:
        if obj.get("kind") == "ConfigMap":
            env.update(obj.get("data") or {})
    for c in pod.get("containers", []):
        env.update({e.get("name"): e.get("value") for e in c.get("env") or [] if "value" in e})
    if str(env.get("POLL_S")) == "1":
        right += 1
    else:
        said.append("POLL_S=1 is not in what the chart renders: env is a list of {name, value}")
    if said:
        return Verdict(right / 3, sentence(said))
    return Verdict.ok("The schema accepts them and the chart renders a GPU request and POLL_S=1.")


@register(
    "06.gpu-pending",
    points=1,
    question="Why is the worker's pod Pending? Quote the scheduler.",
    shape="a str: the message of the pod's FailedScheduling event",
)
def _gpu_pending(answer, context):
    if not isinstance(answer, str) or not answer.strip():
        return Verdict.no("Answer with the FailedScheduling event's message (a str), read from the namespace's events.")
    text = answer.strip()
    if f"Insufficient {GPU}" not in text and SELECTOR not in text:
        return Verdict.no(
            "That message does not say why no node fits: the scheduler's names the GPU nodes' selector "
            f"('{SELECTOR}') or the GPU itself ('Insufficient {GPU}')."
        )
    nodes = context.get("nodes")
    if nodes is not None and not text.startswith(f"0/{nodes} nodes are available"):
        return Verdict.no(f"Quote this cluster's event whole: it starts with '0/{nodes} nodes are available'.")
    if context.get("phase") not in (None, "Pending"):
        return Verdict.no(f"The worker's pod is {context.get('phase')}, not Pending: deploy it with the fixed values.")
    return Verdict.ok(
        "No node of this cluster is a GPU node (none carries the label the chart selects, none offers "
        f"{GPU}): the pod waits, Pending, until a GPU node group exists."
    )


@register(
    "06.bad-tag",
    points=2,
    question="What do the Application's health and the pod's waiting reason say about a tag that does not exist?",
    shape="a dict: {'health': str, 'waiting_reason': str}",
)
def _bad_tag(answer, context):
    if not isinstance(answer, dict) or not {"health", "waiting_reason"} <= set(answer):
        return Verdict.no("Answer with a dict of the stub's two keys, health and waiting_reason.")
    said, right = [], 0
    if fold(answer["health"]) == fold("Degraded") and fold(context.get("health")) == fold("Degraded"):
        right += 1
    else:
        said.append(
            "the Application's status.health.status turns Degraded once the Deployment's progress deadline passes"
        )
    reasons = {fold(r) for r in context.get("reasons") or []}
    if fold(answer["waiting_reason"]) in reasons and fold(answer["waiting_reason"]) in {
        fold("ImagePullBackOff"),
        fold("ErrImagePull"),
    }:
        right += 1
    else:
        said.append("the pod's container waits with ImagePullBackOff (or ErrImagePull between tries)")
    if said:
        return Verdict(right / 2, sentence(said))
    return Verdict.ok("The YAML was fine, so the sync succeeded; the health says what the cluster could not do.")


@register(
    "06.secret-fixed",
    points=1,
    question="Push the deploy file again without the credential in it (and not in any commit).",
    shape="a str: the sha of the commit your successful push sent",
    hidden="the grader scans every commit of the forge's main branch of your app repository for secrets",
)
def _secret_fixed(answer, context):
    if not isinstance(answer, str) or len(answer.strip()) < 7:
        return Verdict.no("Answer with the sha of your pushed commit (a str: fixed_push.sha).")
    if not context.get("pushed"):
        return Verdict.no(f"The push was refused: {context.get('refused') or 'read its message'}.")
    findings = context.get("findings") or []
    if findings:
        return Verdict.no(f"The deploy file still holds what a scanner calls a secret ({findings[0]}).")
    return Verdict.ok("Pushed clean: the credential never reached the forge, so there is nothing to rotate.")


@register(
    "06.rollback",
    points=2,
    question="Roll the bad release back the GitOps way: revert its commit and push the revert.",
    shape="a str: the sha of the revert commit",
    hidden="the grader sees the Application Synced and Healthy at the image of the forge's newest commit",
)
def _rollback(answer, context):
    if not isinstance(answer, str) or not answer.strip():
        return Verdict.no("Answer with the revert commit's sha (a str), as forge.revert returns it.")
    facts, bad = context.get("facts") or {}, str(context.get("bad") or "")
    sha = answer.strip()
    if not facts.get("commit"):
        return Verdict.no(f"{sha[:12]} is not a commit of your app repository's clone.")
    if bad and (sha.startswith(bad) or bad.startswith(sha)):
        return Verdict.no("That is the bad commit itself: answer with the commit that reverts it.")
    if not facts.get("after"):
        return Verdict.no("That commit does not come after the bad one: a revert is a new commit on top of it.")
    if not facts.get("undone"):
        changed = ", ".join(facts.get("changed") or []) or "its files"
        return Verdict.no(f"That commit does not undo the bad one's changes to {changed}: use git revert.")
    if not facts.get("newest"):
        return Verdict(
            0.5, "The revert is right, but it is not your branch's newest commit: push it (and nothing after it)."
        )
    return Verdict.ok("Reverted in git and pushed: the loop built, promoted and rolled out the old code again.")


CLEANUP_BEFORE = (
    (
        "the Applications",
        "the namespace",
        "the controller would recreate what the namespace held while its Application lives",
    ),
    ("the namespace", "the cluster", "the namespace's claims must go while the cluster can still delete their volumes"),
)


@register(
    "06.cleanup-order",
    points=1,
    question="Order the lab's deletions so that nothing is left behind.",
    shape="a list of the names in `steps` (str), first deletion first",
    hidden="nothing the lab created (Applications, namespace, VMs, volumes, floating IPs) was left after the cleanup",
)
def _cleanup_order(answer, context):
    steps = [str(s) for s in context.get("steps", [])]
    return order_verdict(
        answer,
        steps,
        CLEANUP_BEFORE,
        "Applications, then the namespace, then the cluster: each deletion while what it needs still exists.",
    )


# --- what the grader reads from the learner's forge, registry and cluster --------------------------


def _namespace() -> str:
    from ..marks import Marks

    return Marks.for_lab("06").name("app")


def probe_new_version(conn: Any) -> dict:
    """The api Application's sync and health, the image tag it runs, the tag of the forge's newest
    commit of the app repository, and the version the api answers with through its Ingress."""
    from ..deploy import git as forge
    from ..deploy import gitops

    out: dict[str, Any] = {"sync": None, "health": None, "image_tag": None, "head_tag": None, "version": None}
    try:
        app = gitops.application(RELEASE)
    except Exception:  # no Application (never made, or deleted): nothing serves
        return out
    status = app.get("status") or {}
    out["sync"] = (status.get("sync") or {}).get("status")
    out["health"] = (status.get("health") or {}).get("status")
    out["image_tag"] = gitops.helm_parameter(RELEASE, "image.tag")
    head = forge.remote_head(APP_REPO)
    out["head_tag"] = f"sha-{head[:7]}" if head else None
    try:
        import requests

        base = gitops.ingress_url(_namespace(), f"{RELEASE}-ingress")
        out["version"] = requests.get(f"{base}/api/version", timeout=5).json().get("version")
    except Exception:  # no ingress answering: the version stays unknown
        pass
    return out


def probe_forge_secrets(conn: Any) -> dict:
    """What the secret scanner finds in the commits of the forge's main branch of the app repository."""
    from ..deploy import git as forge

    try:
        findings = forge.scan_history(APP_REPO)
    except Exception as exc:  # no repository on the forge
        return {"found": False, "findings": [], "error": str(exc)[:200]}
    return {"found": True, "findings": [f"{f.path}:{f.line} {f.type}" for f in findings]}


def probe_leftovers(conn: Any) -> dict:
    """What of lab 06 is left: its Applications, its namespace, and every marked cloud resource."""
    from .leftovers import gitops_leftovers

    return gitops_leftovers(conn, "06")
