"""What every namespace gets from kube-controller-manager: the ``default`` ServiceAccount (the
serviceaccount controller, made again if deleted) and the ``kube-root-ca.crt`` ConfigMap with the
cluster's CA (the root-ca-cert-publisher, put back if changed or deleted). The CA is the sandbox's
own, the one the kubeconfig trusts."""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import ApiError
from ..resources import Resource, by_plural
from .common import Obj, clone, deleting, name_of, namespace_of
from .loop import NAMESPACES, Change, Context, Controller, Key, api_code

SERVICE_ACCOUNTS = by_plural("serviceaccounts")
CONFIG_MAPS = by_plural("configmaps")
ROOT_CA = "kube-root-ca.crt"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes "
    "clusters."
)


class ServiceAccountController(Controller):
    name = "serviceaccount-controller"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        path = ctx.state_dir / "pki" / "ca.crt"
        self.ca = path.read_text(encoding="utf-8") if path.is_file() else ""

    def observe(self, change: Change) -> None:
        obj = change.obj
        if change.res is NAMESPACES and change.type != "DELETED" and not deleting(obj):
            self.queue.add((name_of(obj),))
        elif change.res is SERVICE_ACCOUNTS and change.type == "DELETED" and name_of(obj) == "default":
            self.queue.add((namespace_of(obj),))
        elif change.res is CONFIG_MAPS and name_of(obj) == ROOT_CA:
            self.queue.add((namespace_of(obj),))

    def keys(self) -> Iterable[Key]:
        return [(name_of(ns),) for ns in self.cache.list(NAMESPACES) if not deleting(ns)]

    def _create(self, res: Resource, obj: Obj) -> None:
        try:
            self.create(res, obj)
        except ApiError as err:
            if api_code(err) != 409:
                raise

    def reconcile(self, key: Key) -> float | None:
        name = key[0]
        ns = self.cache.get(NAMESPACES, "", name)
        if ns is None or deleting(ns):
            return None
        if self.cache.get(SERVICE_ACCOUNTS, name, "default") is None:
            self._create(SERVICE_ACCOUNTS, {"metadata": {"name": "default", "namespace": name}})
        if not self.ca:
            return None
        data = {"ca.crt": self.ca}
        current = self.cache.get(CONFIG_MAPS, name, ROOT_CA)
        if current is None:
            body = {
                "metadata": {
                    "name": ROOT_CA,
                    "namespace": name,
                    "annotations": {"kubernetes.io/description": DESCRIPTION},
                },
                "data": data,
            }
            self._create(CONFIG_MAPS, body)
        elif current.get("data") != data and not deleting(current):
            changed = clone(current)
            changed["data"] = data
            changed["metadata"].setdefault("annotations", {})["kubernetes.io/description"] = DESCRIPTION
            self.objects.update(CONFIG_MAPS, changed)
        return None
