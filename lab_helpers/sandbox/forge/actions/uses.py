"""The actions a step may ``uses:``, each done the way the real action does its part in the course's sandbox.

- ``actions/checkout@v4|v5``: a real ``git clone`` of the forge's repository into the workspace (or
  ``with.path``) and ``git checkout`` of the pushed commit, detached, as the action leaves it.
- ``docker/setup-buildx-action@v3``, ``docker/setup-qemu-action@v3``: accepted and logged (the sandbox's
  builder needs no builder instance and builds for its own platform).
- ``docker/login-action@v3``: accepted and logged; the password is masked and never used (the sandbox
  registry takes any push from a run).
- ``docker/metadata-action@v5``: tags and labels (``metadata.py``).
- ``docker/build-push-action@v5|v6``: the sandbox's image build (``context``, ``file``, ``target``, ``tags``,
  ``labels``), pushed to the sandbox registry when ``push: true``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .metadata import Event, docker_tags
from .records import iso
from .workspace import StepFailed, Workspace, git

__all__ = ["ACTIONS", "run_action"]


def _checkout(ws: Workspace, inputs: dict[str, str]) -> dict[str, str]:
    dest = (ws.dir / inputs["path"]).resolve() if inputs.get("path") else ws.dir
    if dest != ws.dir and ws.dir not in dest.parents:
        raise StepFailed(f"actions/checkout: path {inputs['path']!r} is outside the workspace")
    ws.log.line(f"Syncing repository: {ws.push.repository}")
    dest.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", str(dest))
    git("fetch", "--quiet", "--no-tags", str(ws.repo_path), ws.push.sha, cwd=dest)
    git("checkout", "--quiet", "--detach", ws.push.sha, cwd=dest)
    subject = git("log", "-1", "--format=%H '%s'", cwd=dest).strip()
    ws.log.line(f"HEAD is now at {subject[:7]}{subject[40:]}")
    return {"ref": ws.push.ref, "commit": ws.push.sha}


def _accepted(what: str) -> Callable[[Workspace, dict[str, str]], dict[str, str]]:
    def step(ws: Workspace, inputs: dict[str, str]) -> dict[str, str]:
        ws.log.line(f"{what} (the sandbox's builder needs nothing set up)")
        return {}

    return step


def _login(ws: Workspace, inputs: dict[str, str]) -> dict[str, str]:
    if inputs.get("password"):
        ws.masks.append(inputs["password"])
    registry = inputs.get("registry") or "docker.io"
    ws.log.line(f"Logging into {registry}...")
    ws.log.line("Login Succeeded! (the sandbox registry takes any push from a workflow run; nothing is stored)")
    return {}


def _metadata(ws: Workspace, inputs: dict[str, str]) -> dict[str, str]:
    event = Event(
        event_name=ws.push.event_name,
        ref=ws.push.ref,
        sha=ws.push.sha,
        repository=ws.push.repository,
        default_branch=ws.push.default_branch,
        url=f"{ws.push.server_url}/{ws.push.repository}",
        created=iso(time.time()) or "",
    )
    try:
        meta = docker_tags(
            inputs.get("images"), inputs.get("tags"), event, flavor=inputs.get("flavor"), labels=inputs.get("labels")
        )
    except ValueError as exc:
        raise StepFailed(str(exc)) from None
    ws.log.group("Docker tags")
    for tag in meta.tags:
        ws.log.line(tag)
    ws.log.endgroup()
    if not meta.tags:
        ws.log.line("##[warning]No Docker tag has been generated. Check tags input.")
    return meta.outputs()


def _lines(value: str | None) -> list[str]:
    text = value or ""
    parts = text.splitlines() if "\n" in text else text.split(",")
    return [p.strip() for p in parts if p.strip()]


def _build_push(ws: Workspace, inputs: dict[str, str]) -> dict[str, str]:
    context = (ws.dir / inputs.get("context", ".")).resolve()
    if context != ws.dir and ws.dir not in context.parents:
        raise StepFailed(f"docker/build-push-action: context {inputs.get('context')!r} is outside the workspace")
    if not context.is_dir() or not any(context.iterdir()):
        raise StepFailed(
            f"docker/build-push-action: the build context {inputs.get('context', '.')!r} is empty: "
            "add an actions/checkout step before the build"
        )
    dockerfile = inputs.get("file") or "Dockerfile"
    dockerfile_path = (ws.dir / dockerfile).resolve() if inputs.get("file") else context / "Dockerfile"
    if not dockerfile_path.is_file():
        raise StepFailed(f"docker/build-push-action: no Dockerfile at {dockerfile!r} in the checkout")
    in_context = context in dockerfile_path.parents
    tags = _lines(inputs.get("tags"))
    labels = dict(line.partition("=")[::2] for line in _lines(inputs.get("labels")))
    push = str(inputs.get("push", "false")).lower() == "true"
    if push and not tags:
        raise StepFailed("docker/build-push-action: push is true but no tags are given (tags: ...)")
    if ws.builder is None:
        raise StepFailed("docker/build-push-action: the sandbox's image builder is not available")
    ws.log.line(
        f"building {dockerfile} target {inputs.get('target') or '(last stage)'} in {inputs.get('context', '.')}"
    )
    build_args = dict(line.partition("=")[::2] for line in _lines(inputs.get("build-args")))
    try:
        built = ws.builder(
            ws.state_dir,
            context,
            dockerfile=str(dockerfile_path.relative_to(context)) if in_context else str(dockerfile_path),
            target=inputs.get("target") or None,
            tags=tags,
            labels=labels,
            build_args=build_args,
            push=push,
        )
    except Exception as exc:  # the builder's errors (a bad Dockerfile, a missing COPY source) fail the step
        raise StepFailed(f"docker/build-push-action: {exc}") from None
    refs = list(getattr(built, "refs", [])) if push else []
    for ref in refs:
        ws.log.line(f"pushed {ref}")
        if ref not in ws.images:
            ws.images.append(ref)
    if not push:
        ws.log.line("push is false: the image was built and not pushed")
    digest = str(getattr(built, "digest", ""))
    ws.log.line(f"digest: {digest}")
    return {"digest": digest, "imageid": digest, "metadata": ""}


ACTIONS: dict[str, Callable[[Workspace, dict[str, str]], dict[str, str]]] = {
    "actions/checkout": _checkout,
    "docker/setup-buildx-action": _accepted("Docker Buildx set up"),
    "docker/setup-qemu-action": _accepted("QEMU set up"),
    "docker/login-action": _login,
    "docker/metadata-action": _metadata,
    "docker/build-push-action": _build_push,
}


def run_action(ws: Workspace, uses: str, inputs: dict[str, str]) -> dict[str, str]:
    """Do one ``uses:`` step; its outputs (``steps.<id>.outputs``)."""
    action = uses.partition("@")[0]
    if action not in ACTIONS:
        raise StepFailed(f"Unable to resolve action `{uses}`: the course's runner does not implement it")
    return ACTIONS[action](ws, inputs)
