"""The sandbox's Ingress controller, in the part ingress-nginx's controller plays: it serves the
Ingresses of its class (``spec.ingressClassName`` naming an IngressClass whose ``spec.controller``
is :data:`CONTROLLER`; an Ingress without a class belongs to the default class, which the API server
sets on create as the DefaultIngressClass admission plugin does), keeps the routing table of the
ingress proxy (``kubelet/ingress.py``) and writes each Ingress's status:
``loadBalancer.ingress: [{ip: 127.0.0.1, ports: [{port: <the proxy's port>, protocol: TCP}]}]``, so
``kubectl get ingress`` shows where to send requests. It records a ``Sync`` event ("Scheduled for
sync") when an Ingress is new or changed, as ingress-nginx does. Ingresses of another class are left
alone.

TLS is terminated on the proxy's second port with each entry's Secret (``kubernetes.io/tls``); an
Ingress with ``spec.tls`` lists both ports in its status, and one naming a Secret that is missing or
holds no certificate gets a Warning event ``DefaultCertificate`` saying the sandbox's default
certificate is served instead.

The Ingress controller also marks what the sandbox does not do for NetworkPolicies: pods are
processes sharing the host's network, so no policy is enforced; each NetworkPolicy gets one Warning
event ``NotEnforced`` (the API server also annotates it, ``sandbox.visualizing-compute/simulated``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .. import events
from ..ingress_classes import CONTROLLER, DEFAULT_ANNOTATION
from ..kubelet import ingress as proxy_routes
from ..kubelet.ingress import IngressProxy
from ..resources import by_plural
from .common import Obj, clone, deleting, name_of, namespace_of, uid_of
from .loop import Change, Context, Controller, Key

INGRESSES = by_plural("ingresses", "networking.k8s.io")
CLASSES = by_plural("ingressclasses", "networking.k8s.io")
POLICIES = by_plural("networkpolicies", "networking.k8s.io")
EVENTS = by_plural("events")
SECRETS = by_plural("secrets")
LEGACY_ANNOTATION = "kubernetes.io/ingress.class"
COMPONENT = "sandbox-ingress-controller"
ROUTES: Key = (":routes",)
NOT_ENFORCED = (
    "the sandbox stores this NetworkPolicy but does not enforce it: its pods are processes sharing the "
    "host's network, so every pod can still reach every other"
)


class IngressController(Controller):
    name = "ingress-controller"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.proxy = IngressProxy(ctx.objects, ctx.stopping)
        self._synced: dict[str, int] = {}  # uid -> generation the Sync event was recorded for
        self._warned: set[str] = set()  # uids of NetworkPolicies already told they are not enforced

    # -- which Ingresses are ours -----------------------------------------------------------------
    def _our_classes(self) -> set[str]:
        return {
            name_of(c)
            for c in self.cache.list(CLASSES)
            if (c.get("spec") or {}).get("controller") == CONTROLLER and not deleting(c)
        }

    def _default_ours(self) -> bool:
        defaults = [
            c
            for c in self.cache.list(CLASSES)
            if (c["metadata"].get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"
        ]
        return any((c.get("spec") or {}).get("controller") == CONTROLLER for c in defaults)

    def ours(self, ing: Obj, classes: set[str] | None = None) -> bool:
        classes = self._our_classes() if classes is None else classes
        spec = ing.get("spec") or {}
        named = spec.get("ingressClassName") or (ing["metadata"].get("annotations") or {}).get(LEGACY_ANNOTATION)
        if named:
            return str(named) in classes
        return self._default_ours()

    # -- the loop ---------------------------------------------------------------------------------
    def observe(self, change: Change) -> None:
        if change.res is INGRESSES:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
            self.queue.add(ROUTES)
        elif change.res is CLASSES:
            for key in self.keys():
                self.queue.add(key)
        elif change.res is SECRETS and change.obj.get("type") == "kubernetes.io/tls":
            self.queue.add(ROUTES)
        elif change.res is POLICIES and change.type != "DELETED":
            self.queue.add(("netpol", namespace_of(change.obj), name_of(change.obj)))

    def keys(self) -> Iterable[Key]:
        keys: list[Key] = [ROUTES]
        keys += [(namespace_of(i), name_of(i)) for i in self.cache.list(INGRESSES)]
        keys += [("netpol", namespace_of(p), name_of(p)) for p in self.cache.list(POLICIES)]
        return keys

    def reconcile(self, key: Key) -> float | None:
        if key == ROUTES:
            self.proxy.start()
            classes = self._our_classes()
            mine = [i for i in self.cache.list(INGRESSES) if not deleting(i) and self.ours(i, classes)]
            routes = proxy_routes.build(mine)
            routes.certificates, _ = proxy_routes.certificates(mine, self._secret, self._tls_folder())
            self.proxy.update(routes)
            return None
        if len(key) == 3:
            self._policy(key[1], key[2])
            return None
        ns, name = key
        ing = self.cache.get(INGRESSES, ns, name)
        if ing is None:
            return None
        if deleting(ing) or not self.ours(ing):
            return None
        port = self.proxy.start()
        ports = [{"port": port, "protocol": "TCP"}]
        if (ing.get("spec") or {}).get("tls"):
            ports.append({"port": self.proxy.tls_port, "protocol": "TCP"})
        wanted = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1", "ports": ports}]}}
        if (ing.get("status") or {}) != wanted:
            changed = clone(ing)
            changed["status"] = wanted
            ing = self.objects.update(INGRESSES, changed)
        self._events(ing, port)
        return None

    def _events(self, ing: Obj, port: int) -> None:
        uid, generation = uid_of(ing), int(ing["metadata"].get("generation") or 1)
        if self._synced.get(uid) == generation:
            return
        self._synced[uid] = generation
        events.record(self.objects, ing, "Sync", "Scheduled for sync", component=COMPONENT)
        tls = (ing.get("spec") or {}).get("tls") or []
        if not tls:
            return
        _, problems = proxy_routes.certificates([ing], self._secret, self._tls_folder())
        for problem in problems.values():
            hosts = sorted({str(h) for t in tls for h in t.get("hosts") or []})
            events.record(
                self.objects,
                ing,
                "DefaultCertificate",
                f"{problem}: the sandbox's ingress serves its default certificate for {', '.join(hosts) or 'no hosts'} "
                f"on 127.0.0.1:{self.proxy.tls_port}",
                type="Warning",
                component=COMPONENT,
            )

    def _secret(self, namespace: str, name: str) -> Obj | None:
        return self.cache.get(SECRETS, namespace, name)

    def _tls_folder(self) -> Path:
        return self.ctx.state_dir / "ingress-tls"

    def _policy(self, ns: str, name: str) -> None:
        policy = self.cache.get(POLICIES, ns, name)
        if policy is None or uid_of(policy) in self._warned:
            return
        self._warned.add(uid_of(policy))
        told, _ = self.objects.list(EVENTS, ns)
        if any(
            e.get("reason") == "NotEnforced" and (e.get("involvedObject") or {}).get("uid") == uid_of(policy)
            for e in told
        ):
            return  # told before the sandbox last restarted
        events.record(self.objects, policy, "NotEnforced", NOT_ENFORCED, type="Warning", component=COMPONENT)
