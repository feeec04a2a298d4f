"""The Kubernetes family as the sandbox serves it: one service mounted under ``/kubernetes`` and
reached through its own TLS listener (so clients see the API at the root of
``https://127.0.0.1:<port>``), the credentials made once per sandbox, and the kubeconfig written
when the port is known."""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path

from ..api import Family, Listener
from ..files import write_private_yaml
from ..pki import ensure_pki
from ..store import Store
from . import runtime
from .apiserver import seed, watch
from .apiserver.auth import USERS_META, known_users
from .apiserver.routes import SERVICE

PREFIX = SERVICE.prefix
CLUSTER_NAME = "sandbox"
LEARNER_USER = "learner"
ADMIN_USER = "sandbox-admin"


def prepare(store: Store) -> None:
    """A bearer token for the learner and one for the admin, made once per sandbox; the system namespaces."""
    with store.tx():
        for who in (LEARNER_USER, ADMIN_USER):
            if not store.meta(f"k8s_token:{who}"):
                store.set_meta(f"k8s_token:{who}", secrets.token_urlsafe(32))
    seed.prepare(store)


USER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,46}[a-z0-9])?$")
RESERVED_USERS = (LEARNER_USER, ADMIN_USER, "admin")


def context_for(user: str) -> str:
    """The kubeconfig context of a user: ``sandbox`` (the learner), ``sandbox-admin``, ``sandbox-<user>``."""
    if user == LEARNER_USER:
        return CLUSTER_NAME
    if user == ADMIN_USER:
        return "sandbox-admin"
    return f"{CLUSTER_NAME}-{user}"


def add_user(store: Store, user: str) -> str:
    """Another learner identity: a bearer token (store meta ``k8s_token:<user>``, made once) and the user listed
    in ``k8s_users`` so the API server knows it and the kubeconfig gets its context. Returns the context's name.
    What the user may do is RBAC's business (``lab_helpers.kube.add_user`` binds ``sandbox:learner``)."""
    if not USER_NAME.match(user) or user in RESERVED_USERS:
        raise ValueError(
            f"{user!r} cannot name a sandbox user: use lowercase letters, digits and '-' (at most 48), "
            f"not one of {', '.join(RESERVED_USERS)}"
        )
    with store.tx():
        if not store.meta(f"k8s_token:{user}"):
            store.set_meta(f"k8s_token:{user}", secrets.token_urlsafe(32))
        extra = [u for u in known_users(store) if u not in (LEARNER_USER, ADMIN_USER)]
        if user not in extra:
            store.set_meta(USERS_META, json.dumps([*extra, user]))
    return context_for(user)


def add_user_to_sandbox(state_dir: Path, urls: Mapping[str, str], user: str) -> str:
    """``add_user`` on the sandbox of ``state_dir`` (its service running at ``urls``), then its kubeconfig
    written again with the new context; returns the context's name."""
    store = Store(state_dir)
    try:
        context = add_user(store, user)
        write_kubeconfig(store, state_dir, dict(urls))
    finally:
        store.close()
    return context


def start(store: Store, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
    """Once the service listens: watches and followed logs end when it stops; the cluster's own threads start."""
    watch.set_stopping(stopping)
    runtime.start(store, state_dir, urls, stopping)


def kubeconfig_path(state_dir: Path) -> Path:
    return Path(state_dir) / "kubeconfig"


def write_kubeconfig(store: Store, state_dir: Path, urls: Mapping[str, str]) -> Path:
    """The kubeconfig (mode 0600): context ``sandbox`` for the learner, ``sandbox-admin`` for the admin,
    ``sandbox-<user>`` for each user made by ``add_user``, all over HTTPS with the sandbox's own CA. A current
    context a learner chose is kept."""
    import base64

    import yaml

    ca = base64.b64encode(ensure_pki(state_dir).ca_cert.read_bytes()).decode()
    path = kubeconfig_path(state_dir)
    current = CLUSTER_NAME
    try:
        old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        current = old.get("current-context") or current
    except (OSError, ValueError):
        pass
    users = known_users(store)
    contexts = {context_for(who): who for who in users}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {"name": CLUSTER_NAME, "cluster": {"server": urls["kubernetes"], "certificate-authority-data": ca}}
        ],
        "users": [{"name": who, "user": {"token": store.meta(f"k8s_token:{who}")}} for who in users],
        "contexts": [
            {"name": name, "context": {"cluster": CLUSTER_NAME, "user": user, "namespace": "default"}}
            for name, user in contexts.items()
        ],
        "current-context": current if current in contexts else CLUSTER_NAME,
    }
    return write_private_yaml(path, doc)


KUBERNETES = Family(
    "kubernetes",
    (SERVICE,),
    SERVICE,
    prepare,
    write_kubeconfig,
    listeners=(Listener("kubernetes", PREFIX, tls=True),),
    start=start,
)
