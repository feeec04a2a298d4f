"""A workflow file read, checked against GitHub's published workflow schema, then against the subset the
course's runner supports (``SUBSET`` in ``__init__``): anything outside it is a :class:`WorkflowError`
naming the file and the key, as GitHub shows "Invalid workflow file"."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import check_jsonschema.builtin_schemas.vendor as vendored_schemas
import jsonschema
import yaml

from ....paths import load_yaml

__all__ = ["SUPPORTED_ACTIONS", "Workflow", "WorkflowError", "parse", "runner_kind"]

TOP_KEYS = {"name", "run-name", "on", "env", "jobs", "permissions"}
EVENT_KEYS = {
    "push": {"branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"},
    "pull_request": {"branches", "branches-ignore", "paths", "paths-ignore", "types"},
    "workflow_dispatch": {"inputs"},
}
JOB_KEYS = {"name", "needs", "if", "runs-on", "outputs", "steps", "env", "permissions", "timeout-minutes"}
STEP_KEYS = {"name", "id", "run", "uses", "with", "env", "if", "working-directory", "shell", "timeout-minutes"}
# action -> the major versions the course's runner implements
SUPPORTED_ACTIONS = {
    "actions/checkout": ("v4", "v5"),
    "docker/setup-buildx-action": ("v3",),
    "docker/setup-qemu-action": ("v3",),
    "docker/login-action": ("v3",),
    "docker/metadata-action": ("v5",),
    "docker/build-push-action": ("v5", "v6"),
}


class WorkflowError(ValueError):
    """A workflow file GitHub would reject, or one using what the course's runner does not support."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"Invalid workflow file: {path}: {message}")
        self.path = path
        self.detail = message


@dataclass(frozen=True)
class Workflow:
    path: str  # .github/workflows/deploy.yaml
    name: str
    doc: dict[str, Any]

    @property
    def on(self) -> Any:
        return self.doc["on"]

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.doc["jobs"]


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads((Path(vendored_schemas.__file__).parent / "github-workflows.json").read_text())
    return jsonschema.Draft7Validator(schema)


@lru_cache(maxsize=1)
def _runners() -> dict[str, Any]:
    return load_yaml("ci.yaml")


def runner_kind(runs_on: Any) -> str | None:
    """``"hosted"`` for ``ubuntu-*``, ``"cluster"`` for ``[self-hosted, cluster]`` or a scale set listed in
    ``data/ci.yaml``; None for a runner the course has not (Windows, macOS, an unknown label)."""
    runners = _runners()
    labels = [str(x) for x in (runs_on if isinstance(runs_on, list) else [runs_on])]
    if len(labels) == 1 and fnmatch.fnmatchcase(labels[0], runners["hosted"]["pattern"]):
        return "hosted"
    cluster = runners["cluster"]
    if sorted(labels) == sorted(cluster["labels"]) or (len(labels) == 1 and labels[0] in cluster["scale_sets"]):
        return "cluster"
    return None


def _load(path: str, text: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkflowError(path, f"YAML could not be read: {exc}") from None
    if not isinstance(doc, dict):
        raise WorkflowError(path, "a workflow is a YAML mapping with `on` and `jobs`")
    if True in doc:  # YAML 1.1 reads the key `on` as the boolean true; GitHub reads it as "on"
        doc["on"] = doc.pop(True)
    return doc


def _where(parts: list[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _schema_check(path: str, doc: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (len(e.path), list(map(str, e.path))))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = _where([*error.path, *extra[:1]])
        raise WorkflowError(path, f"Unexpected value '{extra[0] if extra else where}' at {where}")
    raise WorkflowError(path, f"{_where(list(error.path))}: {error.message[:300]}")


def _unsupported(path: str, where: str, key: str, hint: str = "") -> WorkflowError:
    tail = f" ({hint})" if hint else ""
    return WorkflowError(path, f"'{key}' at {where} is not supported by the course's runner{tail}; see SUBSET")


def _subset_check(path: str, doc: dict[str, Any]) -> None:
    for key in doc:
        if key not in TOP_KEYS:
            raise _unsupported(path, "the top level", key)
    on = doc["on"]
    events = on if isinstance(on, dict) else {e: None for e in (on if isinstance(on, list) else [on])}
    for event, spec in events.items():
        if event not in EVENT_KEYS:
            raise _unsupported(path, "on", f"on.{event}", "push, pull_request and workflow_dispatch are")
        for key in spec or {}:
            if key not in EVENT_KEYS[event]:
                raise _unsupported(path, f"on.{event}", key)
    for job_id, job in doc["jobs"].items():
        for key in job:
            if key not in JOB_KEYS:
                hint = "reusable workflows are not" if key == "uses" else ""
                raise _unsupported(path, f"jobs.{job_id}", key, hint)
        if runner_kind(job.get("runs-on")) is None:
            raise WorkflowError(
                path,
                f"jobs.{job_id}.runs-on {job.get('runs-on')!r} names no runner the course has: use ubuntu-latest "
                "(hosted) or [self-hosted, cluster] (data/ci.yaml)",
            )
        for dep in [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs") or []:
            if dep not in doc["jobs"]:
                raise WorkflowError(path, f"jobs.{job_id}.needs names '{dep}', which is not a job of this workflow")
        for i, step in enumerate(job.get("steps") or []):
            where = f"jobs.{job_id}.steps[{i}]"
            for key in step:
                if key not in STEP_KEYS:
                    raise _unsupported(path, where, key)
            if step.get("shell", "bash") != "bash":
                raise _unsupported(path, where, f"shell: {step['shell']}", "only bash is")
            if "uses" in step:
                action, _, version = str(step["uses"]).partition("@")
                if SUPPORTED_ACTIONS.get(action) is None or version not in SUPPORTED_ACTIONS[action]:
                    known = ", ".join(f"{a}@{'|'.join(v)}" for a, v in SUPPORTED_ACTIONS.items())
                    raise _unsupported(path, where, f"uses: {step['uses']}", f"the runner implements {known}")
        if not job.get("steps"):
            raise WorkflowError(path, f"jobs.{job_id} has no steps")
    _check_cycles(path, doc["jobs"])


def _check_cycles(path: str, jobs: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, int] = {}

    def visit(job_id: str, trail: tuple[str, ...]) -> None:
        if seen.get(job_id) == 2:
            return
        if seen.get(job_id) == 1:
            raise WorkflowError(path, f"jobs form a cycle through needs: {' -> '.join([*trail, job_id])}")
        seen[job_id] = 1
        needs = jobs[job_id].get("needs") or []
        for dep in [needs] if isinstance(needs, str) else needs:
            visit(dep, (*trail, job_id))
        seen[job_id] = 2

    for job_id in jobs:
        visit(job_id, ())


def parse(path: str, text: str) -> Workflow:
    """The workflow in ``text`` (the file at ``path`` in the repository); a :class:`WorkflowError` when GitHub's
    schema or the course's subset rejects it."""
    doc = _load(path, text)
    _schema_check(path, doc)
    _subset_check(path, doc)
    return Workflow(path, str(doc.get("name") or path), doc)
