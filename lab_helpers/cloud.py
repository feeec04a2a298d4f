"""Connecting to the cloud: the same ``openstack.connection.Connection`` on both backends.

The backend object does the connecting (:mod:`lab_helpers.backends`): the sandbox starts its
service on first use and loads its own clouds.yaml explicitly, so a learner sets no environment
variable; the live backend reads only the learner's own clouds.yaml (``OS_CLOUD``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backends import Backend, resolve

if TYPE_CHECKING:  # pragma: no cover
    from openstack.connection import Connection


def cloud_name(backend: Backend | str | None = None) -> str:
    """The cloud's name in clouds.yaml: the sandbox's, or the live cloud named by OS_CLOUD."""
    return resolve(backend).cloud_name()


def connect_cloud(backend: Backend | str | None = None, *, admin: bool = False) -> Connection:
    """An openstacksdk connection to the backend's cloud.

    ``admin=True`` (sandbox only) uses the sandbox's admin credential, for the views JS2
    keeps to its operators (hypervisors, which host a server is on).
    """
    return resolve(backend).connect(admin=admin)
