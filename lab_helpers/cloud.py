"""Connecting to the cloud: the same ``openstack.connection.Connection`` on both backends.

On the sandbox, the service is started on first use and its own clouds.yaml is loaded
explicitly, so a learner sets no environment variable. On the live backend only the learner's
own clouds.yaml (``OS_CLOUD``) is read; the sandbox's file is never consulted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .config import resolve_backend
from .errors import MissingPiece

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection

SANDBOX_CLOUD = "sandbox"
SANDBOX_ADMIN_CLOUD = "sandbox-admin"


def cloud_name(backend: str | None = None) -> str:
    """The cloud's name in clouds.yaml: 'sandbox', or the live cloud named by OS_CLOUD."""
    if resolve_backend(backend) == "sandbox":
        return SANDBOX_CLOUD
    name = os.environ.get("OS_CLOUD", "").strip()
    if not name:
        raise MissingPiece(
            "the live backend needs OS_CLOUD: the name of your cloud in clouds.yaml.",
            hint="Download an application credential's clouds.yaml from Horizon to ~/.config/openstack/ and `export OS_CLOUD=openstack`, or use BACKEND='sandbox'.",
        )
    return name


def config_file_is_sandbox() -> bool:
    """True when OS_CLIENT_CONFIG_FILE points at a sandbox's clouds.yaml (wrong for the live backend)."""
    raw = os.environ.get("OS_CLIENT_CONFIG_FILE", "")
    if not raw:
        return False
    path = Path(raw).expanduser()
    if path.parent.name == "sandbox" and path.name == "clouds.yaml":
        return True
    try:
        import yaml

        return "sandbox" in (yaml.safe_load(path.read_text()) or {}).get("clouds", {})
    except Exception:  # unreadable or not YAML: not ours
        return False


def _sandbox_config(path: str):
    from openstack.config import loader

    return loader.OpenStackConfig(config_files=[path], vendor_files=[], secure_files=[], load_envvars=False)


def connect_cloud(backend: str | None = None, *, admin: bool = False) -> "Connection":
    """An openstacksdk connection to the backend's cloud.

    ``admin=True`` (sandbox only) uses the sandbox's admin credential, for the views JS2
    keeps to its operators (hypervisors, which host a server is on).
    """
    import openstack

    chosen = resolve_backend(backend)
    if chosen == "live":
        if admin:
            raise MissingPiece("the admin view needs operator credentials, which Jetstream2 does not give to projects.",
                               hint="Use backend='sandbox' to see hypervisors; on JS2 compare servers' hostId instead.")
        name = cloud_name(chosen)
        if config_file_is_sandbox():
            raise MissingPiece("OS_CLIENT_CONFIG_FILE points at the sandbox's clouds.yaml while the backend is live.",
                               hint="`unset OS_CLIENT_CONFIG_FILE` (or point it at your Jetstream2 clouds.yaml).")
        return openstack.connect(cloud=name)
    from .sandbox import ensure_running

    service = ensure_running()
    path = str(service.clouds_yaml)
    config = _sandbox_config(path).get_one(cloud=SANDBOX_ADMIN_CLOUD if admin else SANDBOX_CLOUD)
    return openstack.connection.Connection(config=config)
