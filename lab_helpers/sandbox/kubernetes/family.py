"""The Kubernetes family as the sandbox serves it: one service mounted under ``/kubernetes`` and
reached through its own TLS listener (so clients see the API at the root of
``https://127.0.0.1:<port>``), the credentials made once per sandbox, and the kubeconfig written
when the port is known."""

from __future__ import annotations

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


def start(store: Store, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
    """Once the service listens: watches and followed logs end when it stops; the cluster's own threads start."""
    watch.set_stopping(stopping)
    runtime.start(store, state_dir, urls, stopping)


def kubeconfig_path(state_dir: Path) -> Path:
    return Path(state_dir) / "kubeconfig"


def write_kubeconfig(store: Store, state_dir: Path, urls: Mapping[str, str]) -> Path:
    """The kubeconfig (mode 0600): context ``sandbox`` for the learner, ``sandbox-admin`` for the admin,
    both over HTTPS with the sandbox's own CA. A current context a learner chose is kept."""
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
    contexts = {CLUSTER_NAME: LEARNER_USER, "sandbox-admin": ADMIN_USER}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {"name": CLUSTER_NAME, "cluster": {"server": urls["kubernetes"], "certificate-authority-data": ca}}
        ],
        "users": [
            {"name": who, "user": {"token": store.meta(f"k8s_token:{who}")}} for who in (LEARNER_USER, ADMIN_USER)
        ],
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
