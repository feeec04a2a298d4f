"""The ApplicationSet controller (Argo CD's): generators give parameter sets, the template becomes one
Application per set, owned by the ApplicationSet; Applications no longer generated are deleted (policy
``sync``; ``create-only`` and ``create-update`` keep them). Generators: ``scmProvider.gitea`` over the
course's forge (a Gitea-like API: ``owner``, ``api`` = the forge's ``/git`` base URL, ``allBranches``,
``scmProvider.filters`` with ``repositoryMatch``, ``branchMatch``, ``pathsExist``, ``pathsDoNotExist``) and ``list``.
Template parameters: ``{{organization}}``, ``{{repository}}``, ``{{url}}``, ``{{branch}}``,
``{{branchNormalized}}``, ``{{sha}}``, ``{{short_sha}}`` (``{{ .repository }}`` with ``goTemplate``)."""

from __future__ import annotations

import copy
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from ....errors import ApiError
from ...apiserver import writes
from ...objects import rfc3339
from ...resources import Resource, resource_for
from ..loop import Change, Controller, Key
from .application import ARGOCD_NS, applications, poll_seconds
from .sync import message_of

Obj = dict[str, Any]
MANAGER = "argocd-applicationset-controller"
HTTP_TIMEOUT_S = 10.0
_PARAM = re.compile(r"\{\{\s*(\.?)([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


class GeneratorError(Exception):
    """A generator could not list its parameters; the message goes into the ApplicationSet's conditions."""


def applicationsets(objects: Any) -> Resource | None:
    return resource_for("argoproj.io", "v1alpha1", "applicationsets", objects)


def _get(url: str) -> tuple[int, Any]:
    if not url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise GeneratorError(f"{url}: the sandbox reaches only its own forge (http://127.0.0.1:<port>/git)")
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as resp:  # noqa: S310 (loopback only, checked above)
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise GeneratorError(f"the forge at {url} did not answer: {err}") from err


def gitea(spec: Obj, filters: list[Obj] | None = None) -> list[Obj]:
    """The parameter sets of an ``scmProvider.gitea`` generator: one per repository (and branch) passing one
    of ``filters`` (``scmProvider.filters``; all when there are none)."""
    owner, api = str(spec.get("owner", "")), str(spec.get("api", "")).rstrip("/")
    if not owner or not api:
        raise GeneratorError("scmProvider.gitea needs owner and api (the forge's base URL, ending in /git)")
    base = f"{api}/api/v1"
    code, repos = _get(f"{base}/users/{urllib.parse.quote(owner)}/repos")
    if code != 200 or not isinstance(repos, list):
        raise GeneratorError(f"the forge answered {code} for {owner}'s repositories: is owner {owner!r} right?")
    filters = [f for f in filters or [] if isinstance(f, dict)]
    out = []
    for repo in sorted(repos, key=lambda r: str(r.get("name", ""))):
        name = str(repo.get("name", ""))
        code, branches = _get(f"{base}/repos/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}/branches")
        if code != 200 or not isinstance(branches, list):
            continue  # an empty repository has no branches
        default = str(repo.get("default_branch") or "main")
        wanted = branches if spec.get("allBranches") else [b for b in branches if b.get("name") == default]
        for branch in wanted:
            params = {
                "organization": owner,
                "repository": name,
                "url": str(repo.get("clone_url", "")),
                "branch": str(branch.get("name", "")),
                "branchNormalized": re.sub(r"[^a-z0-9-]", "-", str(branch.get("name", "")).lower()),
                "sha": str((branch.get("commit") or {}).get("id", "")),
                "short_sha": str((branch.get("commit") or {}).get("id", ""))[:8],
                "labels": "",
            }
            if not filters or any(_passes(f, params, base) for f in filters):
                out.append(params)
    return out


def _passes(rule: Obj, params: Obj, base: str) -> bool:
    """One filter: every condition it names holds (Argo CD: filters are ORed, conditions in one ANDed)."""
    if rule.get("repositoryMatch") and not re.search(str(rule["repositoryMatch"]), params["repository"]):
        return False
    if rule.get("branchMatch") and not re.search(str(rule["branchMatch"]), params["branch"]):
        return False
    repo = f"{base}/repos/{urllib.parse.quote(params['organization'])}/{urllib.parse.quote(params['repository'])}"
    ref = urllib.parse.quote(params["branch"])
    for path in rule.get("pathsExist") or []:
        if _get(f"{repo}/contents/{urllib.parse.quote(str(path).strip('/'))}?ref={ref}")[0] != 200:
            return False
    for path in rule.get("pathsDoNotExist") or []:
        if _get(f"{repo}/contents/{urllib.parse.quote(str(path).strip('/'))}?ref={ref}")[0] == 200:
            return False
    return True


def generate(generator: Obj) -> list[Obj]:
    """The parameter sets of one generator."""
    if "scmProvider" in generator:
        provider = generator["scmProvider"] or {}
        if "gitea" not in provider:
            raise GeneratorError(f"scmProvider {sorted(provider)}: the sandbox's forge speaks the gitea provider's API")
        return gitea(provider["gitea"] or {}, provider.get("filters"))
    if "list" in generator:
        return [dict(e) for e in (generator["list"] or {}).get("elements") or [] if isinstance(e, dict)]
    raise GeneratorError(f"generator {sorted(generator)} is not supported here: use scmProvider.gitea or list")


def render(template: Any, params: Obj, go: bool) -> Any:
    """The template with ``{{name}}`` (``{{ .name }}`` with goTemplate) replaced in every string."""
    if isinstance(template, dict):
        return {render(k, params, go): render(v, params, go) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, params, go) for v in template]
    if isinstance(template, str):

        def sub(m: re.Match[str]) -> str:
            dotted, name = m.group(1) == ".", m.group(2)
            if dotted != go or name not in params:
                return m.group(0)
            return str(params[name])

        return _PARAM.sub(sub, template)
    return template


class ApplicationSetController(Controller):
    name = "argocd-applicationset-controller"

    def _kind(self) -> Resource | None:
        res = applicationsets(self.objects)
        return None if res is None else (self.cache.resource(res.key) or res)

    def observe(self, change: Change) -> None:
        res = change.res
        if (change.obj.get("metadata") or {}).get("namespace") != ARGOCD_NS:
            return  # as Argo CD by default: ApplicationSets of the argocd namespace only
        if res.group == "argoproj.io" and res.kind == "ApplicationSet":
            if change.old is None or change.old.get("spec") != change.obj.get("spec") or change.type == "DELETED":
                meta = change.obj.get("metadata") or {}
                self.queue.add((str(meta.get("namespace", "")), str(meta.get("name", ""))))
        elif res.group == "argoproj.io" and res.kind == "Application" and change.type == "DELETED":
            for ref in (change.obj.get("metadata") or {}).get("ownerReferences") or []:
                if ref.get("kind") == "ApplicationSet":
                    self.queue.add((str(change.obj["metadata"].get("namespace", "")), str(ref.get("name", ""))))

    def keys(self) -> Iterable[Key]:
        res = self._kind()
        if res is None:
            return ()
        return [(ARGOCD_NS, a["metadata"]["name"]) for a in self.cache.list(res, ARGOCD_NS)]

    def reconcile(self, key: Key) -> float | None:
        res, apps = self._kind(), applications(self.objects)
        if res is None or apps is None:
            return None
        appset = self.cache.get(res, key[0], key[1]) if key[0] == ARGOCD_NS else None
        if appset is None or appset["metadata"].get("deletionTimestamp"):
            return None  # its Applications go with it (garbage collection of their ownerReferences)
        spec = appset.get("spec") or {}
        go = bool(spec.get("goTemplate"))
        policy = str((spec.get("syncPolicy") or {}).get("applicationsSync") or "sync")
        conditions: list[Obj] = []
        wanted: dict[str, Obj] = {}
        try:
            for generator in spec.get("generators") or []:
                for params in generate(generator if isinstance(generator, dict) else {}):
                    app = render(copy.deepcopy(spec.get("template") or {}), params, go)
                    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **app}
                    meta = app.setdefault("metadata", {})
                    meta["namespace"] = key[0]
                    meta["ownerReferences"] = [
                        {
                            "apiVersion": "argoproj.io/v1alpha1",
                            "kind": "ApplicationSet",
                            "name": key[1],
                            "uid": appset["metadata"]["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ]
                    if not meta.get("name"):
                        raise GeneratorError("the template's metadata.name is empty: name it, e.g. '{{repository}}'")
                    wanted[str(meta["name"])] = app
        except (GeneratorError, re.error) as err:
            conditions.append(self._cond("ErrorOccurred", "True", "ApplicationGenerationFromParamsError", str(err)))
            self._status(res, appset, conditions, None)
            return poll_seconds()
        errors = []
        caller = writes.Caller(user="sandbox-admin", manager=MANAGER, manager_given=True, validation="Strict")
        for name, app in sorted(wanted.items()):
            exists = self.cache.get(apps, key[0], name) is not None
            if exists and policy == "create-only":
                continue
            try:
                writes.patch(
                    self.objects, apps, key[0], name, writes.APPLY, json.dumps(app).encode(), caller, force=True
                )
            except ApiError as err:
                errors.append(f"{name}: {message_of(err)}")
        if policy in ("sync", "create-delete"):
            for app in self.cache.list(apps, key[0]):
                owners = app["metadata"].get("ownerReferences") or []
                mine = any(o.get("uid") == appset["metadata"]["uid"] for o in owners)
                if mine and app["metadata"]["name"] not in wanted and not app["metadata"].get("deletionTimestamp"):
                    try:
                        self.objects.delete(apps, key[0], app["metadata"]["name"])
                    except ApiError as err:
                        errors.append(f"{app['metadata']['name']}: {message_of(err)}")
        if errors:
            conditions.append(self._cond("ErrorOccurred", "True", "ApplicationSetUpdateError", "; ".join(errors)))
        else:
            conditions.append(
                self._cond(
                    "ErrorOccurred",
                    "False",
                    "ApplicationSetUpToDate",
                    "All applications have been generated successfully",
                )
            )
        conditions.append(
            self._cond(
                "ResourcesUpToDate",
                "False" if errors else "True",
                "ApplicationSetUpToDate",
                f"{len(wanted)} applications generated",
            )
        )
        self._status(res, appset, conditions, sorted(wanted))
        return poll_seconds()

    @staticmethod
    def _cond(kind: str, status: str, reason: str, message: str) -> Obj:
        return {"type": kind, "status": status, "reason": reason, "message": message}

    def _status(self, res: Resource, appset: Obj, conditions: list[Obj], names: list[str] | None) -> None:
        old = appset.get("status") or {}
        status: Obj = {"conditions": conditions}
        if names is not None:
            status["resources"] = [{"group": "argoproj.io", "version": "v1alpha1", "kind": "Application",
                                    "namespace": appset["metadata"]["namespace"], "name": n} for n in names]  # fmt: skip
        elif "resources" in old:
            status["resources"] = old["resources"]
        strip = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in old.get("conditions") or []]
        if strip == conditions and status.get("resources") == old.get("resources"):
            return
        for cond in conditions:
            cond["lastTransitionTime"] = rfc3339()
        fresh = self.objects.get(res, appset["metadata"]["namespace"], appset["metadata"]["name"])
        if fresh is not None:
            fresh["status"] = status
            self.objects.update(res, fresh)
