"""The sandbox cloud: a local Jetstream2 on 127.0.0.1 that the real openstacksdk and the real
``openstack`` CLI talk to (Keystone, Nova, Glance, Cinder, Swift and Neutron).

Labs reach it through :func:`lab_helpers.cloud.connect_cloud`; the functions here are what client
code needs of the service itself (start it, stop it, find it) beside its REST APIs.

Layout: a small core (``service`` runs the process, ``server`` is its entry point, ``dispatch``
the WSGI app, ``api`` the declarations every service makes, ``store`` the JSON-document store,
``errors`` each service's error bodies, ``validate``/``queries`` request checks, ``events`` timed
status, ``files`` bytes on disk, ``addresses`` the address ranges) and one package per API family
(``openstack/<service>/``), each service declaring its own authentication, error style and
header negotiation. Handlers import downward only.
"""

from __future__ import annotations

from .files import volume_backing_file
from .service import ServiceStatus, ensure_running, env_lines, reset, sandbox_dir, start, status, stop

__all__ = [
    "ServiceStatus",
    "ensure_running",
    "env_lines",
    "reset",
    "sandbox_dir",
    "start",
    "status",
    "stop",
    "volume_backing_file",
]
