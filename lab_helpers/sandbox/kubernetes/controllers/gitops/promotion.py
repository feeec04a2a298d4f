"""The course's Promotion kind, a small Kargo: it watches one repository of the sandbox registry for tags
matching ``spec.image.allowTags``, takes the newest pushed, and sets the Application's Helm parameter
(``image.tag`` unless ``spec.parameter`` says otherwise); the Application controller then syncs it. Kargo
writes the change to git through Warehouses, Freight and Stages; this sets it on the Application itself."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from ...kubelet.image_store import TagInfo, list_tags
from ...objects import rfc3339
from ...resources import Resource, resource_for
from ..loop import Change, Controller, Key
from .application import ARGOCD_NS, applications, poll_seconds

Obj = dict[str, Any]
HISTORY_LIMIT = 10


def promotions(objects: Any) -> Resource | None:
    """The Promotion kind, once its CRD is served."""
    return resource_for("deploy.course.example", "v1alpha1", "promotions", objects)


def newest(tags: list[TagInfo], allow: str) -> TagInfo | None:
    """The newest pushed tag matching the regular expression ``allow`` (any tag when empty)."""
    pattern = re.compile(allow) if allow else None
    matching = [t for t in tags if pattern is None or pattern.search(t.name)]
    return max(matching, key=lambda t: (t.pushed_at, t.name), default=None)


def set_parameter(app: Obj, name: str, value: str) -> bool:
    """Set ``spec.source.helm.parameters[name]`` (added when absent); whether it changed."""
    helm = app.setdefault("spec", {}).setdefault("source", {}).setdefault("helm", {})
    params = helm.setdefault("parameters", [])
    for param in params:
        if param.get("name") == name:
            if str(param.get("value")) == value:
                return False
            param["value"] = value
            return True
    params.append({"name": name, "value": value, "forceString": True})
    return True


class PromotionController(Controller):
    name = "promotion-controller"

    def _kind(self) -> Resource | None:
        res = promotions(self.objects)
        return None if res is None else (self.cache.resource(res.key) or res)

    def observe(self, change: Change) -> None:
        in_argocd = (change.obj.get("metadata") or {}).get("namespace") == ARGOCD_NS
        if in_argocd and change.res.group == "deploy.course.example" and change.res.kind == "Promotion":
            if change.old is None or change.old.get("spec") != change.obj.get("spec"):
                meta = change.obj.get("metadata") or {}
                self.queue.add((str(meta.get("namespace", "")), str(meta.get("name", ""))))

    def keys(self) -> Iterable[Key]:
        res = self._kind()
        if res is None:
            return ()
        return [(ARGOCD_NS, p["metadata"]["name"]) for p in self.cache.list(res, ARGOCD_NS)]

    def reconcile(self, key: Key) -> float | None:
        res, apps = self._kind(), applications(self.objects)
        if res is None:
            return None
        promo = self.cache.get(res, key[0], key[1]) if key[0] == ARGOCD_NS else None
        if promo is None or promo["metadata"].get("deletionTimestamp"):
            return None
        spec = promo.get("spec") or {}
        status = copy.deepcopy(promo.get("status") or {})
        target = spec.get("application") or {}
        app_ns, app_name = str(target.get("namespace") or key[0]), str(target.get("name", ""))
        parameter = str(spec.get("parameter") or "image.tag")
        repository = str((spec.get("image") or {}).get("repoURL", ""))
        message = ""
        try:
            found = newest(
                list_tags(self.ctx.state_dir, repository), str((spec.get("image") or {}).get("allowTags", ""))
            )
        except (ValueError, re.error) as err:
            found, message = None, f"spec.image: {err}"
        app = self.objects.get(apps, app_ns, app_name) if apps is not None and app_name else None
        if not message and found is None:
            message = f"no tag of {repository} matches allowTags {spec.get('image', {}).get('allowTags', '')!r} yet"
        elif not message and app is None:
            message = f"there is no Application {app_name!r} in namespace {app_ns}"
        elif found is not None and app is not None and apps is not None:
            if set_parameter(app, parameter, found.name):
                self.objects.update(apps, app)
                history = list(status.get("history") or [])
                history.append({"tag": found.name, "digest": found.digest, "promotedAt": rfc3339()})
                status["history"] = history[-HISTORY_LIMIT:]
                status["promotedAt"] = rfc3339()
            status.update(tag=found.name, digest=found.digest, pushedAt=rfc3339(found.pushed_at))
            message = f"{app_ns}/{app_name} runs {repository}:{found.name} ({parameter})"
        status["message"] = message
        status["phase"] = (
            "Promoted" if found is not None and app is not None and not message.startswith("no ") else "Waiting"
        )
        if status != (promo.get("status") or {}):
            fresh = self.objects.get(res, key[0], key[1])
            if fresh is not None:
                fresh["status"] = status
                self.objects.update(res, fresh)
        return poll_seconds()
