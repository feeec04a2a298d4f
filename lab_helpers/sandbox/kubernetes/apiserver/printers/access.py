"""``kubectl get`` columns: access kinds (Role, ClusterRole, RoleBinding, ClusterRoleBinding), as the API
server's printers compute them: a role shows when it was created (RFC 3339, ``CREATED AT``), a binding
its role as ``Kind/name`` and its age; ``-o wide`` adds the binding's users, groups and service accounts
(``namespace/name``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cells import age

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format


def _role(obj: Obj) -> list[Any]:
    return [obj.get("metadata", {}).get("creationTimestamp") or ""]


def subjects_strings(subjects: Any) -> tuple[str, str, str]:
    """The users, groups and service accounts a binding names, each list joined as the API server joins it."""
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), str(subject.get("name", ""))
        if kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
        elif kind == "ServiceAccount":
            accounts.append(f"{subject.get('namespace', '')}/{name}")
    return ", ".join(users), ", ".join(groups), ", ".join(accounts)


def _binding(obj: Obj) -> list[Any]:
    ref = obj.get("roleRef") or {}
    return [f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj), *subjects_strings(obj.get("subjects"))]


_ROLE_COLUMNS: list[Column] = [("Created At", "date", 0, "")]
_BINDING_COLUMNS: list[Column] = [
    ("Role", "string", 0, ""),
    ("Age", "string", 0, ""),
    ("Users", "string", 1, ""),
    ("Groups", "string", 1, ""),
    ("ServiceAccounts", "string", 1, ""),
]

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "Role": (_ROLE_COLUMNS, _role),
    "ClusterRole": (_ROLE_COLUMNS, _role),
    "RoleBinding": (_BINDING_COLUMNS, _binding),
    "ClusterRoleBinding": (_BINDING_COLUMNS, _binding),
}
