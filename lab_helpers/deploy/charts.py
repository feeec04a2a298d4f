"""The course's Helm charts (``data/charts/api``, ``data/charts/worker``): rendered, linted, compared
and checked with the real ``helm`` (the course's pinned helm 4) and the cluster's own schemas.

A GitOps controller does what :func:`render` does (``helm template`` with the Application's values,
its name as the release) and applies the result; rendering here first shows what it will apply.
Each chart has a ``values.schema.json`` that refuses any key the chart does not read, so a value
given at the wrong place fails loudly instead of being ignored: :class:`ValuesError` turns Helm's
report into one line naming the key and what the chart reads instead.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import state_dir
from ..errors import MissingPiece, ServiceError, UsageError
from ..paths import data_dir
from ..tools import server_minor, tools_dir

__all__ = ["CHARTS", "Lint", "ValuesError", "chart_path", "diff", "lint", "render", "render_text", "validate"]

CHARTS = ("api", "worker")
HELM_TIMEOUT_S = 60.0
Values = dict[str, Any] | Path | str | None

# What a learner most likely meant by a key the chart does not read (the origin project's real
# mistakes among them). Any other unknown key: the message names where the schema has that key, or
# the keys the chart reads at that level.
_ENV_FROM = "the chart reads env (a list of {name, value}), puts it into <release>-config and mounts that with envFrom"
_API_GPU = "the API runs on CPU only (the worker chart reads resources.gpu.enabled)"
INSTEAD = {
    ("api", "probes"): "the chart's readiness probe is built in (GET /api/healthz every 2 s)",
    ("worker", "probes"): "the worker serves no HTTP, so the chart sets no probe",
    ("api", "envFrom"): _ENV_FROM,
    ("worker", "envFrom"): _ENV_FROM,
    ("api", "gpu"): _API_GPU,
    ("api", "resources.gpu"): _API_GPU,
    ("api", "replicaCount"): "the chart reads replicas",
    ("worker", "replicaCount"): "the chart reads replicas",
}
TYPE_WORDS = {"object": "a map", "array": "a list", "string": "a string", "integer": "a whole number",
              "number": "a number", "boolean": "true or false", "null": "empty"}  # fmt: skip
SCHEMA_LINE = re.compile(r"^- at '(?P<at>[^']*)': (?P<what>.*)$")


class ValuesError(UsageError):
    """The chart's schema refused the values; ``problems`` holds ``(key, message)`` per refusal."""

    def __init__(self, chart: str, problems: list[tuple[str, str]], helm_output: str = "") -> None:
        self.chart = chart
        self.problems = problems
        self.helm_output = helm_output
        super().__init__(
            "; ".join(message for _, message in problems),
            hint=f"Fix the values: data/charts/{chart}/values.yaml lists every value the {chart} chart reads.",
        )

    @property
    def keys(self) -> list[str]:
        """The dotted keys refused (``gpu.enabled``, ``env``)."""
        return [key for key, _ in self.problems]


@dataclass(frozen=True)
class Lint:
    """What ``helm lint --strict`` said: ``ok`` when it found no error or warning."""

    ok: bool
    messages: list[str] = field(default_factory=list)  # "[INFO] Chart.yaml: icon is recommended", ...

    @property
    def errors(self) -> list[str]:
        return [m for m in self.messages if m.startswith(("[ERROR]", "[WARNING]"))]

    def __str__(self) -> str:
        return ("lint clean" if self.ok else "lint failed") + "".join(f"\n  {m}" for m in self.messages)


# -- finding the chart and helm -----------------------------------------------------------------


def chart_path(name: str) -> Path:
    """The folder of the course's chart ``name`` (``api`` or ``worker``)."""
    path = data_dir() / "charts" / name
    if name not in CHARTS or not (path / "Chart.yaml").is_file():
        raise UsageError(f"the course has no chart {name!r}.", hint=f"Use one of: {', '.join(CHARTS)}.")
    return path


def _chart_dir(chart: str | Path) -> Path:
    """A course chart by name, or any chart folder (a clone of the infra repository's charts/api)."""
    if isinstance(chart, str) and "/" not in chart and not Path(chart).exists():
        return chart_path(chart)
    path = Path(chart)
    if not (path / "Chart.yaml").is_file():
        raise UsageError(f"{path} holds no Chart.yaml.", hint=f"Pass a chart folder or one of: {', '.join(CHARTS)}.")
    return path


def _helm() -> Path:
    """The course's helm (``lab tools install``), else the first on PATH."""
    course = tools_dir() / "helm"
    if course.is_file() and os.access(course, os.X_OK):
        return course
    found = shutil.which("helm")
    if found:
        return Path(found)
    raise MissingPiece("helm is not installed.", hint="Run `lab tools install` (the course's pinned helm 4).")


def _helm_env() -> dict[str, str]:
    """This process's environment, with Helm's cache and config in the state directory unless set."""
    env = dict(os.environ)
    root = state_dir() / "helm"
    for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
        env.setdefault(var, str(root / sub))
    return env


def _run_helm(args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(_helm()), *args], capture_output=True, text=True, timeout=HELM_TIMEOUT_S, env=_helm_env()
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(f"helm {args[0]} took over {HELM_TIMEOUT_S:g} s.", hint="Run it again.") from exc


# -- values -------------------------------------------------------------------------------------


def _values_doc(values: Values) -> dict[str, Any]:
    if values is None:
        return {}
    if isinstance(values, dict):
        return values
    path = Path(values)
    if not path.is_file():
        raise UsageError(f"values file {path} does not exist.", hint="Pass a dict or the path of a values YAML file.")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"values file {path} is not YAML: {exc}", hint="Fix its indentation or quoting.") from exc
    if doc is not None and not isinstance(doc, dict):
        raise UsageError(f"values file {path} is not a map of values.", hint="Its top level must be `key: value`.")
    return doc or {}


class _ValuesFile:
    """A values dict written to a temporary file for ``helm -f`` (a path is used as it is)."""

    def __init__(self, values: Values) -> None:
        self.values = values
        self._tmp: str | None = None

    def __enter__(self) -> list[str]:
        if self.values is None:
            return []
        if isinstance(self.values, dict):
            fd, self._tmp = tempfile.mkstemp(suffix=".yaml", prefix="values-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.values, fh)  # JSON is YAML, and keeps "1.10" a string
            return ["-f", self._tmp]
        _values_doc(self.values)  # a clear error for a missing or broken file
        return ["-f", str(self.values)]

    def __exit__(self, *exc: object) -> None:
        if self._tmp:
            os.unlink(self._tmp)


def _schema(chart_dir: Path) -> dict[str, Any]:
    path = chart_dir / "values.schema.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _at(schema: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """The schema of the object at ``keys`` (``items`` for list indexes)."""
    for key in keys:
        if key.isdigit() and "items" in schema:
            schema = schema["items"]
        else:
            schema = (schema.get("properties") or {}).get(key) or {}
    return schema


def _paths(schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, sub in (schema.get("properties") or {}).items():
        yield f"{prefix}{key}"
        yield from _paths(sub, f"{prefix}{key}.")


def _dotted(keys: list[str]) -> str:
    """``["env", "0", "valueFrom"]`` -> ``env[0].valueFrom``."""
    return "".join(f"[{k}]" if k.isdigit() else f".{k}" for k in keys).lstrip(".")


def _leaf_key(doc: Any, keys: list[str]) -> str:
    """``gpu`` given as ``{enabled: true}`` reads best as ``gpu.enabled`` (one leaf: its full path)."""
    node = doc
    for key in keys:
        try:
            node = node[int(key)] if isinstance(node, list) else (node or {}).get(key)
        except (IndexError, ValueError, AttributeError):
            return _dotted(keys)
    out = list(keys)
    while isinstance(node, dict) and len(node) == 1:
        (key, node), *_ = node.items()
        out.append(str(key))
    return _dotted(out)


def _unknown(chart: str, schema: dict[str, Any], doc: Any, parent: list[str], name: str) -> tuple[str, str]:
    key = _leaf_key(doc, [*parent, name])
    dotted = _dotted([*parent, name])
    instead = INSTEAD.get((chart, dotted))
    if instead is None:
        rest = key[len(dotted) :]
        known = set(_paths(schema))
        elsewhere = sorted(p for p in known if p.endswith(f".{name}") or p == name)
        if elsewhere:
            instead = "the chart reads " + " or ".join(p + rest if p + rest in known else p for p in elsewhere)
        else:
            reads = [_dotted([*parent, k]) for k in _at(schema, parent).get("properties") or {}]
            instead = f"the chart reads {', '.join(reads)}" if reads else "the chart reads nothing there"
    return key, f"{key} is not a value of the {chart} chart: {instead}"


def _problems(chart: str, chart_dir: Path, values: Values, output: str) -> list[tuple[str, str]]:
    """Helm's schema report (``- at '/env': got object, want array``) as ``(key, message)`` lines."""
    schema, doc = _schema(chart_dir), _values_doc(values)
    out: list[tuple[str, str]] = []
    for line in output.splitlines():
        m = SCHEMA_LINE.match(line.strip())
        if not m:
            continue
        parent = [p.replace("~1", "/").replace("~0", "~") for p in m["at"].split("/") if p]
        what = m["what"]
        if what == "validation failed":  # a heading: the lines under it say what failed
            continue
        extra = re.match(r"additional propert(?:y|ies) (.*) not allowed", what)
        if extra:
            for name in re.findall(r"'([^']*)'", extra[1]):
                out.append(_unknown(chart, schema, doc, parent, name))
            continue
        key = _dotted(parent) or "(the top level)"
        typed = re.match(r"got (\w+), want (\w+)", what)
        description = _at(schema, parent).get("description")
        if typed:
            got, want = (TYPE_WORDS.get(t, t) for t in typed.groups())
            msg = f"{key} is {got}, but the {chart} chart reads {key} as {description or want}"
        elif " does not match pattern " in what:
            given = what.split(" does not match pattern ")[0]
            msg = f"{key}: {given} is not {description}" if description else f"{key}: {what}"
        else:
            msg = f"{key}: {what}" + (f" ({description})" if description else "")
        out.append((key, msg))
    return out


# -- the verbs ----------------------------------------------------------------------------------


def _name(chart: str | Path, chart_dir: Path) -> str:
    return chart if isinstance(chart, str) and chart in CHARTS else chart_dir.name


def _check_release(release: str, namespace: str) -> None:
    dns = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    # Helm's limit is 53; "-deployment" makes the longest name, still under Kubernetes' 63
    if not dns.match(release) or len(release) > 52:
        raise UsageError(
            f"release name {release!r} is not a DNS label of at most 52 characters.",
            hint="Use lower-case letters, digits and '-', e.g. sample-api (it prefixes every object's name).",
        )
    if not dns.match(namespace) or len(namespace) > 63:
        raise UsageError(f"namespace {namespace!r} is not a DNS label.", hint="Use lower-case letters, digits and '-'.")


def render_text(chart: str | Path, values: Values = None, *, release: str, namespace: str) -> str:
    """The YAML ``helm template`` prints for the chart with ``values``, as the release ``release``."""
    chart_dir = _chart_dir(chart)
    _check_release(release, namespace)
    args = ["template", release, str(chart_dir), "--namespace", namespace, "--kube-version", f"1.{server_minor()}.0"]
    with _ValuesFile(values) as values_args:
        done = _run_helm(args + values_args)
    if done.returncode != 0:
        output = (done.stderr + done.stdout).strip()
        problems = _problems(_name(chart, chart_dir), chart_dir, values, output)
        if problems:
            raise ValuesError(_name(chart, chart_dir), problems, output)
        raise UsageError(f"helm template failed: {output}", hint="Check the chart's templates with helm lint.")
    return done.stdout


def render(chart: str | Path, values: Values = None, *, release: str, namespace: str) -> list[dict[str, Any]]:
    """The manifests the chart makes (``helm template``), in Helm's order; :class:`ValuesError` when the
    chart's schema refuses ``values`` (a dict, or the path of a values file)."""
    text = render_text(chart, values, release=release, namespace=namespace)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def lint(chart: str | Path, values: Values = None) -> Lint:
    """``helm lint --strict`` of the chart with ``values``: the schema, the templates, Chart.yaml."""
    chart_dir = _chart_dir(chart)
    with _ValuesFile(values) as values_args:
        done = _run_helm(["lint", str(chart_dir), "--strict", *values_args])
    messages = [ln.strip() for ln in (done.stdout + done.stderr).splitlines() if ln.strip().startswith("[")]
    return Lint(done.returncode == 0 and not any(m.startswith(("[ERROR]", "[WARNING]")) for m in messages), messages)


def _label(values: Values, fallback: str) -> str:
    return str(values) if isinstance(values, (str, Path)) else fallback


def _as_text(manifests: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for doc in manifests:
        meta = doc.get("metadata") or {}
        out.append(f"--- # {doc.get('kind')}/{meta.get('name')}\n")
        out.extend(yaml.safe_dump(doc, sort_keys=True, default_flow_style=False).splitlines(keepends=True))
    return out


def diff(chart: str | Path, values_a: Values, values_b: Values, *, release: str, namespace: str) -> str:
    """A unified diff of what the chart renders with ``values_a`` and with ``values_b`` ("" when the
    same): what a sync would change in the cluster."""
    a = _as_text(render(chart, values_a, release=release, namespace=namespace))
    b = _as_text(render(chart, values_b, release=release, namespace=namespace))
    return "".join(difflib.unified_diff(a, b, _label(values_a, "values_a"), _label(values_b, "values_b")))


def validate(manifests: list[dict[str, Any]]) -> list[str]:
    """What the cluster's schemas (the Kubernetes version the sandbox reports) refuse in ``manifests``,
    one line per object (empty: every object is valid, unknown fields included)."""
    import kubernetes_validate  # slow to import (jsonschema): only here

    version = f"1.{server_minor()}.0"
    out = []
    for doc in manifests:
        meta = doc.get("metadata") or {}
        what = f"{doc.get('kind')}/{meta.get('name')}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.absolute_path) or "(top level)"
            out.append(f"{what}: {where}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            out.append(f"{what}: {exc.message} (a custom resource? the built-in schemas hold only Kubernetes' own)")
    return out
