"""More learner identities on one sandbox cluster, for a workshop host or the grader: each its own bearer
token, kubeconfig context and RBAC binding.

``add_user("learner-b")`` returns the context (``sandbox-learner-b``) to pass to ``kubectl --context`` or
``api_client``; the user may do what the learner may outside its namespaces (read nodes, namespaces,
storage classes ...; create namespaces) and becomes ``admin`` of each namespace it creates, and nothing
in another learner's namespace.
"""

from __future__ import annotations

from ..errors import ServiceError
from ..sandbox.service import ensure_running
from .client import api_client

__all__ = ["add_user"]


def add_user(name: str) -> str:
    """Make (once) the sandbox user ``name`` and return its kubeconfig context; the sandbox starts if need be."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    from ..sandbox.kubernetes import family
    from ..sandbox.kubernetes.apiserver import rbac_defaults

    running = ensure_running()
    try:
        context = family.add_user_to_sandbox(running.state_dir, dict(running.urls), name)
    except ValueError as exc:
        raise ServiceError(str(exc), hint="Pick a name such as learner-b.") from None
    rbac = client.RbacAuthorizationV1Api(api_client(admin=True))
    try:
        rbac.create_cluster_role_binding(rbac_defaults.learner_binding(name))
    except ApiException as exc:
        if exc.status != 409:  # made before: the user exists already
            raise
    return context
