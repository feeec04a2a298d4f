"""The ClusterRole aggregation controller of kube-controller-manager: an aggregated ClusterRole (one with an
``aggregationRule``, like ``admin``, ``edit`` and ``view``) holds the rules of the ClusterRoles its label
selectors match, written into it whenever one of them changes, so ``kubectl get clusterrole view -o yaml``
shows what a role labelled ``rbac.authorization.k8s.io/aggregate-to-view: "true"`` added.

The API server's authorizer resolves aggregation itself when it reads the policy (``apiserver.rbac``), so a
request never waits for this loop."""

from __future__ import annotations

from collections.abc import Iterable

from ..apiserver import rbac
from .common import clone, deleting, name_of
from .loop import Change, Controller, Key

CLUSTER_ROLES = rbac.CLUSTER_ROLES


def _aggregated(role: dict) -> bool:
    return isinstance(role.get("aggregationRule"), dict)


class ClusterRoleAggregationController(Controller):
    name = "clusterrole-aggregation-controller"

    def observe(self, change: Change) -> None:
        if change.res is CLUSTER_ROLES:
            for role in self.cache.list(CLUSTER_ROLES):
                if _aggregated(role):
                    self.queue.add((name_of(role),))

    def keys(self) -> Iterable[Key]:
        return [(name_of(r),) for r in self.cache.list(CLUSTER_ROLES) if _aggregated(r)]

    def reconcile(self, key: Key) -> float | None:
        role = self.cache.get(CLUSTER_ROLES, "", key[0])
        if role is None or not _aggregated(role) or deleting(role):
            return None
        roles = sorted(self.cache.list(CLUSTER_ROLES), key=name_of)
        rules = rbac.aggregate(roles).get(key[0], [])
        if (role.get("rules") or []) != rules:
            changed = clone(role)
            changed["rules"] = rules
            self.objects.update(CLUSTER_ROLES, changed)
        return None
