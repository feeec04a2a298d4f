"""An Application's source, as Argo CD's repo server makes it: the git repository fetched (over the
forge's smart HTTP, or a ``file://`` path), the revision resolved to a commit, the folder at that commit
rendered into manifests: ``helm template`` when it holds a ``Chart.yaml``, else its YAML files as they are
(a folder of Applications is the app of apps)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]
GIT_TIMEOUT_S = 60.0


class SourceError(Exception):
    """The source could not be fetched or rendered; the message is the Application's ComparisonError."""


@dataclass(frozen=True)
class Rendered:
    """What a source gave at one commit."""

    revision: str  # the commit's full sha
    manifests: list[Obj]
    source_type: str  # "Helm" or "Directory"


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", LC_ALL="C")
    try:
        done = subprocess.run(
            ["git", "-c", "credential.helper=", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except FileNotFoundError as err:
        raise SourceError("git is not installed on the machine running the sandbox; install git") from err
    except subprocess.TimeoutExpired as err:
        raise SourceError(f"git {args[0]} took over {GIT_TIMEOUT_S:.0f} s") from err
    if done.returncode != 0:
        raise SourceError(f"git {args[0]} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def _cache_of(state_dir: Path, repo_url: str) -> Path:
    return state_dir / "gitops" / "repos" / f"{hashlib.sha256(repo_url.encode()).hexdigest()[:16]}.git"


def fetch(state_dir: Path, repo_url: str) -> Path:
    """The controller's mirror of ``repo_url``, brought up to date (cloned the first time)."""
    if not repo_url:
        raise SourceError("spec.source.repoURL is empty: name the git repository to deploy from")
    mirror = _cache_of(state_dir, repo_url)
    if (mirror / "HEAD").is_file():
        _git("--git-dir", str(mirror), "remote", "update", "--prune")
    else:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="clone-", dir=mirror.parent))
        try:
            _git("clone", "--mirror", "--quiet", repo_url, str(tmp / "m.git"))
            (tmp / "m.git").rename(mirror)
        except SourceError as err:
            raise SourceError(f"{err} (repoURL {repo_url!r}: is it right, and public?)") from err
        finally:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    return mirror


def resolve(mirror: Path, revision: str) -> str:
    """A branch, tag, ``HEAD`` or (part of) a sha -> the commit's full sha."""
    rev = revision.strip() or "HEAD"
    for candidate in (rev, f"refs/heads/{rev}", f"refs/tags/{rev}"):
        try:
            return _git("--git-dir", str(mirror), "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}").strip()
        except SourceError:
            continue
    raise SourceError(f"unable to resolve '{rev}' to a commit SHA: no such branch, tag or commit in the repository")


def checkout(state_dir: Path, mirror: Path, sha: str, path: str) -> Path:
    """The folder ``path`` of commit ``sha``, extracted once into the controller's work folder."""
    path = path.strip().strip("/") or "."
    key = hashlib.sha256(f"{mirror}:{sha}:{path}".encode()).hexdigest()[:16]
    dest = state_dir / "gitops" / "work" / key
    if dest.is_dir():
        return dest / path
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    args = ["git", "--git-dir", str(mirror), "archive", "--format=tar", sha]
    if path != ".":
        args.append(path)
    done = subprocess.run(args, capture_output=True, env=env, timeout=GIT_TIMEOUT_S)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        raise SourceError(f"path {path!r} does not exist in revision {sha[:7]} ({why})")
    tmp = Path(tempfile.mkdtemp(prefix="tree-", dir=dest.parent if dest.parent.is_dir() else _mk(dest.parent)))
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(tmp, filter="data")
    try:
        tmp.rename(dest)
    except OSError:  # another reconcile extracted it first
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    return dest / path


def _mk(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load_documents(text: str, where: str) -> list[Obj]:
    """The objects of a multi-document YAML text (``kind: List`` flattened, empty documents skipped)."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as err:
        raise SourceError(f"{where}: not valid YAML: {err}") from err
    out: list[Obj] = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise SourceError(f"{where}: a document is not an object")
        if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            out += [i for i in doc["items"] if isinstance(i, dict)]
        else:
            out.append(doc)
    for obj in out:
        if not obj.get("apiVersion") or not obj.get("kind"):
            raise SourceError(f"{where}: an object has no apiVersion or kind: {str(obj)[:120]}")
    return out


def directory(folder: Path, recurse: bool = False) -> list[Obj]:
    """A plain folder's manifests (``.yaml``, ``.yml``, ``.json``), in name order."""
    pattern = "**/*" if recurse else "*"
    files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
    out: list[Obj] = []
    for file in files:
        out += load_documents(file.read_text(), str(file.relative_to(folder)))
    return out


def helm_args(helm_spec: Obj, chart: Path, work: Path, root: Path | None = None) -> list[str]:
    """``helm template`` flags for the Application's ``source.helm``, in Argo CD's order of precedence:
    valueFiles, then values, then valuesObject, then parameters."""
    args: list[str] = []
    for file in helm_spec.get("valueFiles") or []:
        target = (chart / str(file)).resolve()
        if not target.is_relative_to((root or chart).resolve()) or not target.is_file():
            raise SourceError(f"helm.valueFiles: {file} is not a file of the chart's folder")
        args += ["-f", str(target)]
    if helm_spec.get("values"):
        values = helm_spec["values"]
        text = values if isinstance(values, str) else yaml.safe_dump(values)
        (work / "values-inline.yaml").write_text(text)
        args += ["-f", str(work / "values-inline.yaml")]
    if helm_spec.get("valuesObject"):
        (work / "values-object.yaml").write_text(yaml.safe_dump(helm_spec["valuesObject"]))
        args += ["-f", str(work / "values-object.yaml")]
    for param in helm_spec.get("parameters") or []:
        flag = "--set-string" if param.get("forceString") else "--set"
        args += [flag, f"{param.get('name', '')}={param.get('value', '')}"]
    return args


def helm_template(
    helm: Path | None, state_dir: Path, chart: Path, release: str, namespace: str, helm_spec: Obj
) -> list[Obj]:
    """The chart rendered by the course's helm, as Argo CD renders it (``helm template``, no cluster access)."""
    if helm is None:
        raise SourceError(
            "helm is not installed for the sandbox: run `lab tools install`, then refresh the Application"
        )
    home = state_dir / "gitops" / "helm"
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    env.pop("KUBECONFIG", None)
    with tempfile.TemporaryDirectory(prefix="values-", dir=_mk(home)) as tmp:
        args = [str(helm), "template", release, str(chart), "--namespace", namespace or "default"]
        args += helm_args(helm_spec, chart, Path(tmp), state_dir / "gitops" / "work")
        try:
            done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired as err:
            raise SourceError("helm template took over a minute") from err
    if done.returncode != 0:
        raise SourceError(f"`helm template . --name-template {release}` failed: {done.stderr.strip()}")
    return load_documents(done.stdout, "helm template")


def render(
    state_dir: Path, helm: Path | None, source: Obj, release: str, namespace: str, *, fetch_now: bool
) -> Rendered:
    """Fetch (when ``fetch_now``) and render an Application's ``spec.source``."""
    url = str(source.get("repoURL", ""))
    mirror = (
        fetch(state_dir, url)
        if fetch_now or not (_cache_of(state_dir, url) / "HEAD").is_file()
        else _cache_of(state_dir, url)
    )
    sha = resolve(mirror, str(source.get("targetRevision", "") or "HEAD"))
    folder = checkout(state_dir, mirror, sha, str(source.get("path", "")))
    if not folder.is_dir():
        raise SourceError(f"path {source.get('path')!r} does not exist in revision {sha[:7]}")
    if (folder / "Chart.yaml").is_file():
        helm_spec = dict(source.get("helm") or {})
        name = str(helm_spec.get("releaseName") or release)
        return Rendered(sha, helm_template(helm, state_dir, folder, name, namespace, helm_spec), "Helm")
    directory_spec = source.get("directory") or {}
    return Rendered(sha, directory(folder, bool(directory_spec.get("recurse"))), "Directory")
