"""The CustomResourceDefinition controllers of the API server (naming, establishing, finalizing), as one:

- names: the CRD's names are accepted unless another CRD of the same group already took the plural,
  a short name or the kind (``NamesAccepted``, ``status.acceptedNames``);
- establishing: a CRD whose names are accepted is ``Established`` and its kind is served (discovery,
  the REST paths); ``status.storedVersions`` records the storage version;
- finalizing: a CRD being deleted (with the ``customresourcecleanup.apiextensions.k8s.io`` finalizer
  the API server adds) has every custom resource deleted, then the finalizer removed, and it goes.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import ApiError
from ..crds import CLEANUP_FINALIZER, CRDS, resources_of
from ..resources import Resource
from .common import Obj, clone, deleting, name_of, now_stamp, put_condition
from .loop import Change, Controller, Key, api_code


def _names(crd: Obj) -> Obj:
    return dict((crd.get("spec") or {}).get("names") or {})


def _taken(crd: Obj) -> set[str]:
    names = (crd.get("status") or {}).get("acceptedNames") or {}
    out = {str(names.get("plural", "")), str(names.get("singular", ""))}
    out |= {str(s) for s in names.get("shortNames") or []}
    return out - {""}


def _kinds(crd: Obj) -> set[str]:
    names = (crd.get("status") or {}).get("acceptedNames") or {}
    return {str(names.get("kind", "")), str(names.get("listKind", ""))} - {""}


class CustomResourceDefinitionController(Controller):
    name = "apiextensions-controller"

    def observe(self, change: Change) -> None:
        if change.res.key == CRDS.key:
            self.queue.add((name_of(change.obj),))

    def keys(self) -> Iterable[Key]:
        return [(name_of(crd),) for crd in self.cache.list(CRDS)]

    def reconcile(self, key: Key) -> float | None:
        name = key[0]
        crd = self.objects.get(CRDS, "", name)  # fresh: its status is ours to write
        if crd is None:
            self._remove_leftovers(name)
            return None
        if deleting(crd):
            return self._finalize(crd)
        self._establish(crd)
        return None

    # -- names and Established ----------------------------------------------------------------------
    def _conflict(self, crd: Obj) -> tuple[str, str]:
        """("" or the reason, the message) for the CRD's wanted names against the other CRDs of its group."""
        names = _names(crd)
        group = (crd.get("spec") or {}).get("group")
        for other in self.cache.list(CRDS):
            if name_of(other) == name_of(crd) or (other.get("spec") or {}).get("group") != group:
                continue
            taken, kinds = _taken(other), _kinds(other)
            plural = str(names.get("plural", ""))
            if plural in taken:
                return "PluralConflict", f'"{plural}" is already in use'
            singular = str(names.get("singular", ""))
            if singular and singular in taken:
                return "SingularConflict", f'"{singular}" is already in use'
            for short in names.get("shortNames") or []:
                if short in taken:
                    return "ShortNamesConflict", f'"{short}" is already in use'
            kind = str(names.get("kind", ""))
            if kind in kinds:
                return "KindConflict", f'"{kind}" is already in use'
            list_kind = str(names.get("listKind") or f"{kind}List")
            if list_kind in kinds:
                return "ListKindConflict", f'"{list_kind}" is already in use'
        return "", "no conflicts found"

    def _establish(self, crd: Obj) -> None:
        changed = clone(crd)
        st = changed.setdefault("status", {})
        reason, message = self._conflict(crd)
        if not reason:
            names = _names(crd)
            names.setdefault("singular", str(names.get("kind", "")).lower())
            names.setdefault("listKind", f"{names.get('kind', '')}List")
            st["acceptedNames"] = names
        else:
            st.setdefault("acceptedNames", {"plural": "", "kind": ""})
        stamp = now_stamp()
        put_condition(
            st,
            {
                "type": "NamesAccepted",
                "status": "False" if reason else "True",
                "lastTransitionTime": stamp,
                "reason": reason or "NoConflicts",
                "message": message,
            },
        )
        established = any(c.get("type") == "Established" and c.get("status") == "True" for c in st["conditions"])
        if not reason or established:
            put_condition(
                st,
                {
                    "type": "Established",
                    "status": "True",
                    "lastTransitionTime": stamp,
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            )
        stored = list(st.get("storedVersions") or [])
        for version in (crd.get("spec") or {}).get("versions") or []:
            if isinstance(version, dict) and version.get("storage") and version.get("name") not in stored:
                stored.append(str(version.get("name")))
        st["storedVersions"] = stored
        if changed != crd:
            self.objects.update(CRDS, changed)

    # -- deletion -----------------------------------------------------------------------------------
    def _finalize(self, crd: Obj) -> float | None:
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or []):
            return None
        left = 0
        for res in self._kinds_of(crd):
            for obj in self.objects.list(res)[0]:
                left += 1
                if deleting(obj):
                    continue
                try:
                    meta = obj["metadata"]
                    _, gone = self.objects.delete(res, meta.get("namespace", ""), meta["name"])
                    left -= 1 if gone else 0
                except ApiError as err:
                    if api_code(err) != 404:
                        raise
                    left -= 1
        changed = clone(crd)
        st = changed.setdefault("status", {})
        put_condition(
            st,
            {
                "type": "Terminating",
                "status": "True",
                "lastTransitionTime": now_stamp(),
                "reason": "InstanceDeletionInProgress" if left else "InstanceDeletionCompleted",
                "message": "CustomResource deletion is in progress" if left else "removed all instances",
            },
        )
        if left:
            if changed != crd:
                self.objects.update(CRDS, changed)
            return 1.0  # custom resources with finalizers of their own: look again
        changed["metadata"]["finalizers"] = [f for f in crd["metadata"]["finalizers"] if f != CLEANUP_FINALIZER]
        if not changed["metadata"]["finalizers"]:
            del changed["metadata"]["finalizers"]
        self.objects.update(CRDS, changed)
        return None

    def _kinds_of(self, crd: Obj) -> list[Resource]:
        """One resource per stored kind of the CRD (every version shares the store's key)."""
        found: list[Resource] = list(resources_of(crd))
        return found[:1]

    def _remove_leftovers(self, name: str) -> None:
        """A CRD that went without its finalizer leaves no custom resources behind."""
        plural, _, group = name.partition(".")
        for obj in self.objects.store.list(f"k8s:{group}/{plural}"):
            meta = obj.get("metadata", {})
            ns = str(meta.get("namespace", ""))
            version = str(obj.get("apiVersion", "")).rpartition("/")[2]
            res = Resource(group, version, str(obj.get("kind", "")), plural, bool(ns))
            try:
                self.objects.delete(res, ns, str(meta.get("name", "")))
            except ApiError as err:
                if api_code(err) != 404:
                    raise
