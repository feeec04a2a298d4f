"""The Application controller (Argo CD's application controller): for each Application, its source rendered
at the commit its ``targetRevision`` names, compared with what the cluster holds, synced automatically
(``syncPolicy.automated``: prune, selfHeal) or once when asked (``operation.sync``), and its status written
as Argo CD writes it: sync, health, operationState, resources, summary, history, conditions.

Git is fetched every ``LAB_GITOPS_POLL_S`` seconds (Argo CD: every 3 minutes, plus webhooks), and at once
for the ``argocd.argoproj.io/refresh`` annotation; a change to a tracked resource (label
``app.kubernetes.io/instance``) is compared at once, so selfHeal undoes ``kubectl scale`` within seconds.

As Argo CD by default, only Applications in the ``argocd`` namespace are worked on; elsewhere they are
plain objects (no status is written), which keeps a learner who is admin of a namespace from deploying
into others through it.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .....config import DEFAULT_GITOPS_POLL_S, gitops_poll_seconds
from .....errors import LabError
from ....errors import ApiError
from ...kubelet.registry import course_tool
from ...objects import rfc3339
from ...resources import Resource, resource_for, resource_of_kind
from ..loop import Change, Controller, Key
from . import health, sync
from .diff import drift, without
from .source import Rendered, SourceError, render

Obj = dict[str, Any]
INSTANCE = "app.kubernetes.io/instance"
REFRESH = "argocd.argoproj.io/refresh"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
ARGOCD_NS = "argocd"
IN_CLUSTER = ("https://kubernetes.default.svc", "")
HISTORY_LIMIT = 10
SELF_HEAL_GAP_S = 2.0  # the least time between two self-heals of one revision (Argo CD: a 5 s self-heal timeout)


def poll_seconds() -> float:
    """``LAB_GITOPS_POLL_S``: how often git is fetched (at least 0.5 s; a value that is no number: the default)."""
    try:
        return gitops_poll_seconds()
    except LabError:
        return DEFAULT_GITOPS_POLL_S


def applications(objects: Any) -> Resource | None:
    """The Application kind, once its CRD is served (None before: the controller is idle)."""
    return resource_for("argoproj.io", "v1alpha1", "applications", objects)


@dataclass
class Memo:
    """What the last fetch gave for one Application's source."""

    source_key: str
    fetched_at: float
    rendered: Rendered | None
    error: str


def _source_key(app: Obj) -> str:
    spec = app.get("spec") or {}
    parts = [spec.get("source"), spec.get("destination"), (app.get("metadata") or {}).get("name")]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _operation(app: Obj) -> Obj | None:
    """The one-shot operation asked for: top-level ``operation`` (Argo CD's) or ``spec.operation`` (accepted too)."""
    op = app.get("operation") or (app.get("spec") or {}).get("operation")
    return op if isinstance(op, dict) and isinstance(op.get("sync"), dict) else None


def _sync_options(app: Obj) -> set[str]:
    return {str(o) for o in ((app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions") or []}


def _ref(obj: Obj) -> tuple[str, str, str, str]:
    api_version = str(obj.get("apiVersion", ""))
    meta = obj.get("metadata") or {}
    return (
        api_version.rpartition("/")[0],
        str(obj.get("kind", "")),
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )


class ApplicationController(Controller):
    name = "argocd-application-controller"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._memo: dict[Key, Memo] = {}
        self._healed: dict[Key, float] = {}  # when each Application was last self-healed

    # -- which keys ------------------------------------------------------------------------------
    def _apps(self) -> Resource | None:
        res = applications(self.objects)
        return None if res is None else (self.cache.resource(res.key) or res)

    def observe(self, change: Change) -> None:
        res = change.res
        if res.group == "argoproj.io" and res.kind == "Application":
            meta = change.obj.get("metadata") or {}
            in_argocd = meta.get("namespace") == ARGOCD_NS
            if in_argocd and (
                change.type != "MODIFIED" or change.old is None or _wanted(change.old) != _wanted(change.obj)
            ):
                self.queue.add((str(meta.get("namespace", "")), str(meta.get("name", ""))))
        labels = (change.obj.get("metadata") or {}).get("labels") or {}
        owner = labels.get(INSTANCE) if isinstance(labels, dict) else None
        if owner is None and change.old is not None:
            owner = ((change.old.get("metadata") or {}).get("labels") or {}).get(INSTANCE)
        if owner:
            apps = self._apps()
            if apps is not None:
                if self.cache.get(apps, ARGOCD_NS, str(owner)) is not None:
                    self.queue.add((ARGOCD_NS, str(owner)))

    def keys(self) -> Iterable[Key]:
        apps = self._apps()
        if apps is None:
            return ()
        return [(ARGOCD_NS, a["metadata"]["name"]) for a in self.cache.list(apps, ARGOCD_NS)]

    # -- one Application -------------------------------------------------------------------------
    def reconcile(self, key: Key) -> float | None:
        apps = self._apps()
        if apps is None:
            return None
        app = self.cache.get(apps, key[0], key[1]) if key[0] == ARGOCD_NS else None
        if app is None:
            self._memo.pop(key, None)
            return None
        if app["metadata"].get("deletionTimestamp"):
            return self._finalize(apps, app)
        poll = poll_seconds()
        now = time.time()
        annotations = app["metadata"].get("annotations") or {}
        memo = self._memo.get(key)
        refresh = REFRESH in annotations
        if memo is None or memo.source_key != _source_key(app) or refresh or now - memo.fetched_at >= poll:
            memo = self._fetch(app, now)
            self._memo[key] = memo
            if refresh:
                self._clear_refresh(apps, app)
        status = copy.deepcopy(app.get("status") or {})
        status["sourceType"] = memo.rendered.source_type if memo.rendered else status.get("sourceType", "")
        problem = memo.error or self._spec_problem(app)
        if problem:
            status["conditions"] = [{"type": "ComparisonError", "message": problem, "lastTransitionTime": rfc3339()}]
            status["sync"] = {"status": "Unknown", "comparedTo": self._compared_to(app), "revision": ""}
            status["health"] = {"status": health.UNKNOWN, "message": problem}
            op = _operation(app)
            if op is not None:
                status["operationState"] = self._op_state(op, "Error", problem, now, None, [], app)
                self._clear_operation(apps, app)
            self._write_status(apps, app, status)
            return max(0.5, poll - (time.time() - memo.fetched_at))
        assert memo.rendered is not None
        status["conditions"] = []
        desired = self._desired(app, memo.rendered)
        compared = self._compare(app, desired)
        op = _operation(app)
        started = time.time()
        wait = 0.0
        if op is None and self._auto_sync_wanted(app, compared, memo.rendered.revision, status):
            heal = self._is_heal(memo, status)
            wait = SELF_HEAL_GAP_S - (started - self._healed.get(key, 0.0)) if heal else 0.0
            if wait <= 0:
                if heal:
                    self._healed[key] = started
                op = {}
        if op is not None:
            if not op:
                op = {"sync": {"revision": memo.rendered.revision, "prune": self._automated(app).get("prune", False)},
                      "initiatedBy": {"automated": True}}  # fmt: skip
                last = status.get("operationState") or {}
                if last.get("phase") in ("Failed", "Error") and (last.get("syncResult") or {}).get("revision") == (
                    memo.rendered.revision
                ):
                    op["retryCount"] = int(last.get("retryCount", 0)) + 1
            if _operation(app) is not None:
                self._clear_operation(apps, app)
            asked = str((op.get("sync") or {}).get("revision") or "")
            if asked and asked != "HEAD" and not memo.rendered.revision.startswith(asked):
                status = self._sync_other(app, op, asked, status, started)  # `argocd app sync --revision`
            else:
                status = self._sync(app, op, desired, compared, memo.rendered, status, started)
            self.cache.sync()
            compared = self._compare(app, desired)
        self._fill(status, app, compared, memo.rendered)
        self._write_status(apps, app, status)
        again = max(0.5, poll - (time.time() - memo.fetched_at))
        return min(again, max(0.1, wait)) if wait > 0 else again

    @staticmethod
    def _is_heal(memo: Memo, status: Obj) -> bool:
        """Whether an automated sync would re-apply the revision already synced (drift, not a new commit)."""
        history = status.get("history") or []
        return bool(history) and memo.rendered is not None and history[-1].get("revision") == memo.rendered.revision

    # -- source ----------------------------------------------------------------------------------
    def _fetch(self, app: Obj, now: float) -> Memo:
        spec = app.get("spec") or {}
        source = spec.get("source") or {}
        ns = str((spec.get("destination") or {}).get("namespace", ""))
        try:
            rendered = render(
                self.ctx.state_dir, course_tool("helm"), source, app["metadata"]["name"], ns, fetch_now=True
            )
            return Memo(_source_key(app), now, rendered, "")
        except SourceError as err:
            return Memo(_source_key(app), now, None, f"rpc error: code = Unknown desc = {err}")

    def _spec_problem(self, app: Obj) -> str:
        spec = app.get("spec") or {}
        dest = spec.get("destination") or {}
        if str(dest.get("server", "")) not in IN_CLUSTER or str(dest.get("name", "in-cluster")) != "in-cluster":
            return (
                f"cluster {dest.get('server') or dest.get('name')!r} has not been configured: the sandbox has one "
                "cluster, server https://kubernetes.default.svc (name in-cluster)"
            )
        if str(spec.get("project", "default")) != "default":
            return f'application references project {spec.get("project")} which does not exist: use project "default"'
        return ""

    def _compared_to(self, app: Obj) -> Obj:
        spec = app.get("spec") or {}
        return {"source": spec.get("source") or {}, "destination": spec.get("destination") or {}}

    def _desired(self, app: Obj, rendered: Rendered) -> list[Obj]:
        """The rendered objects as they are applied: the destination namespace filled in, the tracking label set."""
        dest_ns = str(((app.get("spec") or {}).get("destination") or {}).get("namespace", ""))
        out = []
        for raw in rendered.manifests:
            obj = copy.deepcopy(raw)
            meta = obj.setdefault("metadata", {})
            res = resource_of_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")), self.objects)
            if res is not None and not res.namespaced:
                meta.pop("namespace", None)
            elif not meta.get("namespace"):
                meta["namespace"] = dest_ns or "default"
            meta.setdefault("labels", {})
            if not isinstance(meta["labels"], dict):
                meta["labels"] = {}
            meta["labels"][INSTANCE] = app["metadata"]["name"]
            out.append(obj)
        return out

    # -- comparing -------------------------------------------------------------------------------
    def _compare(self, app: Obj, desired: list[Obj]) -> list[tuple[Resource | None, Obj, Obj | None, list[str]]]:
        """Each desired object with its kind, its live object and its drift; then live objects git no longer has
        (desired ``{}``, drift ``["<extra>"]``)."""
        out: list[tuple[Resource | None, Obj, Obj | None, list[str]]] = []
        seen = set()
        for obj in desired:
            if sync.hook_of(obj):
                continue  # hooks run in a sync; they are not part of what is compared
            res = resource_of_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")), self.objects)
            meta = obj["metadata"]
            live = (
                self.cache.get(
                    self.cache.resource(res.key) or res, str(meta.get("namespace", "")), str(meta.get("name", ""))
                )
                if res
                else None
            )
            out.append((res, obj, live, drift(ignoring(obj, app), live)))
            if res is not None:
                seen.add((res.key, str(meta.get("namespace", "")) if res.namespaced else "", str(meta.get("name"))))
        name = app["metadata"]["name"]
        for res in self.cache.kinds():
            if res.kind in ("Event", "Pod", "ReplicaSet", "EndpointSlice", "Endpoints", "ControllerRevision", "Lease"):
                continue
            for live in self.cache.list(res):
                meta = live.get("metadata") or {}
                if ((meta.get("labels") or {}).get(INSTANCE)) != name or meta.get("ownerReferences"):
                    continue
                if meta.get("deletionTimestamp") or sync.hook_of(live):
                    continue
                ident = (res.key, str(meta.get("namespace", "")) if res.namespaced else "", str(meta.get("name")))
                if ident not in seen and not (res.group == "argoproj.io" and res.kind == "Application" and
                                              meta.get("name") == name):  # fmt: skip
                    out.append((res, {}, live, ["<extra>"]))
        return out

    def _automated(self, app: Obj) -> Obj:
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
        return auto if isinstance(auto, dict) else ({} if auto is None else {"enabled": True})

    def _auto_sync_wanted(self, app: Obj, compared: list, revision: str, status: Obj) -> bool:
        policy = (app.get("spec") or {}).get("syncPolicy") or {}
        if "automated" not in policy or policy.get("automated") is None:
            return False
        auto = self._automated(app)
        if auto.get("enabled") is False:
            return False
        out_of_sync = any(d and (d != ["<extra>"] or auto.get("prune")) for _, _, _, d in compared)
        if not out_of_sync:
            return False
        if not compared and not auto.get("allowEmpty"):
            return False
        last = status.get("operationState") or {}
        last_rev = ((last.get("syncResult") or {}).get("revision")) or (
            (last.get("operation") or {}).get("sync") or {}
        ).get("revision")
        if last_rev == revision:
            if last.get("phase") in ("Failed", "Error"):
                return retry_due(policy.get("retry"), last, time.time())  # else not retried for the same revision
            if not auto.get("selfHeal"):
                return False  # without selfHeal, drift after a sync of this revision is left (OutOfSync)
        return True

    # -- syncing ---------------------------------------------------------------------------------
    def _sync(
        self, app: Obj, op: Obj, desired: list[Obj], compared: list, rendered: Rendered, status: Obj, started: float
    ) -> Obj:
        opts = _sync_options(app) | {str(o) for o in (op.get("sync") or {}).get("syncOptions") or []}
        dest_ns = str(((app.get("spec") or {}).get("destination") or {}).get("namespace", ""))
        do_prune = bool((op.get("sync") or {}).get("prune"))
        prune = [
            (res, live) for res, obj, live, d in compared if d == ["<extra>"] and res is not None and live is not None
        ]
        outcome: sync.Outcome
        owner = sync.owner_of(self.objects, str(app["metadata"].get("namespace", "")))
        problem = sync.ensure_namespace(self.objects, dest_ns, owner) if "CreateNamespace=true" in opts else ""
        if problem:
            outcome = sync.Outcome("Failed", f"namespace {dest_ns} could not be created: {problem}")
        else:
            outcome = sync.run(self.objects, desired, prune, do_prune=do_prune)
        finished = time.time()
        status["operationState"] = self._op_state(
            op, outcome.phase, outcome.message, started, rendered, outcome.items, app, finished
        )
        history = list(status.get("history") or [])
        source = (app.get("spec") or {}).get("source") or {}
        repeat = (
            bool(history) and history[-1].get("revision") == rendered.revision and history[-1].get("source") == source
        )
        if outcome.phase == "Succeeded" and not (repeat and (op.get("initiatedBy") or {}).get("automated")):
            history.append(
                {
                    "id": (max((int(h.get("id", 0)) for h in history), default=-1) + 1),
                    "revision": rendered.revision,
                    "deployStartedAt": rfc3339(started),
                    "deployedAt": rfc3339(finished),
                    "source": copy.deepcopy((app.get("spec") or {}).get("source") or {}),
                    "initiatedBy": op.get("initiatedBy") or {"username": "learner"},
                }
            )
            limit = int((app.get("spec") or {}).get("revisionHistoryLimit", HISTORY_LIMIT))
            status["history"] = history[-max(1, limit) :]
        return status

    def _sync_other(self, app: Obj, op: Obj, revision: str, status: Obj, started: float) -> Obj:
        """A one-shot sync to another revision than ``targetRevision`` (the app then compares against its target)."""
        spec = app.get("spec") or {}
        source = {**(spec.get("source") or {}), "targetRevision": revision}
        ns = str((spec.get("destination") or {}).get("namespace", ""))
        try:
            other = render(
                self.ctx.state_dir, course_tool("helm"), source, app["metadata"]["name"], ns, fetch_now=False
            )
        except SourceError as err:
            status["operationState"] = self._op_state(op, "Error", str(err), started, None, [], app)
            return status
        desired = self._desired(app, other)
        return self._sync(app, op, desired, self._compare(app, desired), other, status, started)

    def _op_state(
        self,
        op: Obj,
        phase: str,
        message: str,
        started: float,
        rendered: Rendered | None,
        items: list,
        app: Obj,
        finished: float | None = None,
    ) -> Obj:
        source = copy.deepcopy((app.get("spec") or {}).get("source") or {})
        state: Obj = {
            "operation": {
                "sync": copy.deepcopy(op.get("sync") or {}),
                "initiatedBy": op.get("initiatedBy") or {"username": "learner"},
            },
            "phase": phase,
            "message": message,
            **({"retryCount": op["retryCount"]} if op.get("retryCount") else {}),
            "startedAt": rfc3339(started),
            "finishedAt": rfc3339(finished or time.time()),
        }
        if rendered is not None:
            state["operation"]["sync"].setdefault("revision", rendered.revision)
            state["syncResult"] = {
                "revision": rendered.revision,
                "source": source,
                "resources": [i.as_json() for i in items],
            }
        return state

    # -- status ----------------------------------------------------------------------------------
    def _fill(self, status: Obj, app: Obj, compared: list, rendered: Rendered) -> None:
        resources, healths, images = [], [], set()
        for res, obj, live, d in compared:
            ref_obj = obj or live or {}
            group, kind, ns, name = _ref(ref_obj)
            if res is not None and not res.namespaced:
                ns = ""
            entry: Obj = {"group": group, "version": str(ref_obj.get("apiVersion", "")).rpartition("/")[2], "kind": kind,
                          "namespace": ns, "name": name, "status": "Synced" if not d else "OutOfSync"}  # fmt: skip
            if d == ["<extra>"]:
                entry["requiresPruning"] = True
            assessed = health.assess(live, group, kind) if d != ["<extra>"] or live else None
            if assessed is not None:
                entry["health"] = {"status": assessed[0], **({"message": assessed[1]} if assessed[1] else {})}
                if d != ["<extra>"]:
                    healths.append((assessed, f"{kind}/{name}"))
            resources.append(entry)
            for source in (obj, live):
                images.update(_images_of(source or {}))
        status["resources"] = resources
        out_of_sync = any(d for _, _, _, d in compared)
        status["sync"] = {
            "status": "OutOfSync" if out_of_sync else "Synced",
            "revision": rendered.revision,
            "comparedTo": self._compared_to(app),
        }
        app_health = health.worst([h[0][0] for h in healths])
        message = next((f"{where}: {h[1]}" for h, where in healths if h[0] == app_health and h[1]), "")
        status["health"] = {"status": app_health, **({"message": message} if message else {})}
        status["summary"] = {"images": sorted(images)}
        status["sourceType"] = rendered.source_type
        status["observedAt"] = status.get("observedAt") or rfc3339()

    def _write_status(self, apps: Resource, app: Obj, status: Obj) -> None:
        """Write the status when something in it changed (the times of a reconcile alone are no change)."""
        old = app.get("status") or {}
        messages = [(c.get("type"), c.get("message")) for c in old.get("conditions") or []]
        if messages == [(c.get("type"), c.get("message")) for c in status.get("conditions") or []]:
            status["conditions"] = copy.deepcopy(old.get("conditions") or [])  # kept with their first time
        strip = ("reconciledAt", "observedAt")
        if {k: v for k, v in old.items() if k not in strip} == {k: v for k, v in status.items() if k not in strip}:
            return
        status["reconciledAt"] = rfc3339()
        status["observedAt"] = status["reconciledAt"]
        fresh = self.objects.get(apps, app["metadata"].get("namespace", ""), app["metadata"]["name"])
        if fresh is None:
            return
        fresh["status"] = status
        self.objects.update(apps, fresh)

    def _clear_refresh(self, apps: Resource, app: Obj) -> None:
        fresh = self.objects.get(apps, app["metadata"].get("namespace", ""), app["metadata"]["name"])
        if fresh is not None and REFRESH in (fresh["metadata"].get("annotations") or {}):
            del fresh["metadata"]["annotations"][REFRESH]
            self.objects.update(apps, fresh)

    def _clear_operation(self, apps: Resource, app: Obj) -> None:
        fresh = self.objects.get(apps, app["metadata"].get("namespace", ""), app["metadata"]["name"])
        if fresh is None:
            return
        fresh.pop("operation", None)
        (fresh.get("spec") or {}).pop("operation", None)
        self.objects.update(apps, fresh)

    # -- deletion --------------------------------------------------------------------------------
    def _finalize(self, apps: Resource, app: Obj) -> float | None:
        """The resources finalizer: every resource the Application tracks deleted, then the finalizer removed."""
        if FINALIZER not in (app["metadata"].get("finalizers") or []):
            return None
        name = app["metadata"]["name"]
        left = 0
        for res in self.cache.kinds():
            if res.kind in ("Event", "Pod", "ReplicaSet"):
                continue
            for live in self.cache.list(res):
                meta = live.get("metadata") or {}
                if (meta.get("labels") or {}).get(INSTANCE) != name or meta.get("ownerReferences"):
                    continue
                if res.group == "argoproj.io" and res.kind == "Application" and meta.get("name") == name:
                    continue
                left += 1
                if not meta.get("deletionTimestamp"):
                    try:
                        self.objects.delete(res, str(meta.get("namespace", "")), meta["name"], propagation="Foreground")
                    except ApiError:
                        pass
        if left:
            return 0.5
        fresh = self.objects.get(apps, app["metadata"].get("namespace", ""), name)
        if fresh is not None:
            fresh["metadata"]["finalizers"] = [f for f in fresh["metadata"].get("finalizers") or [] if f != FINALIZER]
            self.objects.update(apps, fresh)
        self._memo.pop((str(app["metadata"].get("namespace", "")), name), None)
        return None


def _wanted(app: Obj) -> str:
    """What of an Application asks the controller for work (not its status)."""
    meta = app.get("metadata") or {}
    parts = [
        app.get("spec"),
        app.get("operation"),
        meta.get("annotations"),
        meta.get("deletionTimestamp"),
        meta.get("finalizers"),
    ]
    return json.dumps(parts, sort_keys=True, default=str)


def _images_of(obj: Obj) -> set[str]:
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("containers", "initContainers"):
                for c in node.get(key) or []:
                    if isinstance(c, dict) and c.get("image"):
                        out.add(str(c["image"]))
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj.get("spec") or {})
    return out


def _seconds(text: Any, default: float) -> float:
    """A Go duration (``5s``, ``1m30s``, ``3m``) in seconds."""
    found = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", str(text or ""))
    if not found:
        return default
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in found)


def retry_due(retry: Any, last: Obj, now: float) -> bool:
    """Whether a failed automated sync is tried again now: ``syncPolicy.retry.limit`` (negative: no limit) not used
    up and its back-off (``duration`` x ``factor`` per try, at most ``maxDuration``) passed since it finished."""
    if not isinstance(retry, dict):
        return False
    limit, count = int(retry.get("limit", 0)), int(last.get("retryCount", 0))
    if 0 <= limit <= count:
        return False
    backoff = retry.get("backoff") or {}
    delay = _seconds(backoff.get("duration"), 5.0) * float(backoff.get("factor", 2)) ** count
    delay = min(delay, _seconds(backoff.get("maxDuration"), 180.0))
    finished = parse_time(str(last.get("finishedAt", "")))
    return finished is None or now - finished >= delay


def parse_time(text: str) -> float | None:
    """An RFC 3339 time (``2026-01-02T03:04:05Z``) as seconds since the epoch."""
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def ignoring(obj: Obj, app: Obj) -> Obj:
    """``obj`` without the fields ``spec.ignoreDifferences`` names for it (``jsonPointers``), so drift there is not
    OutOfSync (an autoscaler's replicas, say)."""
    group, kind, ns, name = _ref(obj)
    pointers: list[str] = []
    for rule in (app.get("spec") or {}).get("ignoreDifferences") or []:
        if not isinstance(rule, dict) or rule.get("kind") != kind or str(rule.get("group", "")) != group:
            continue
        if rule.get("name") not in (None, name) or rule.get("namespace") not in (None, ns):
            continue
        pointers += [str(p) for p in rule.get("jsonPointers") or []]
    return without(obj, pointers) if pointers else obj
