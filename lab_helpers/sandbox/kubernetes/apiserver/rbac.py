"""RBAC as the API server evaluates it: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings decide
what a user may do.

A request is allowed when a rule of a role bound to its user, one of its groups, or (for
``system:serviceaccount:<ns>:<name>``) its ServiceAccount matches it: the verb (or ``*``), the API group
(or ``*``), the resource (``pods``, ``pods/log`` for a subresource, ``*``, ``*/log``), the object's name
when the rule lists ``resourceNames``; a request for a path that is not a resource (``/version``)
matches ``nonResourceURLs`` (exact, ``*``, or a prefix ending in ``*``). A ClusterRoleBinding grants
everywhere, a RoleBinding in its own namespace. A ClusterRole with an ``aggregationRule`` holds the rules
of every ClusterRole its label selectors match, resolved here when the policy is read.

The policy is read from the store once per change: a :class:`Policy` indexes the bindings by subject and
is kept until the journal shows a write to one of the four kinds, so a request costs a look at the
cluster's resourceVersion and a dict look-up, never a list of every binding.

``missing_rules`` is the escalation check: the rules of a Role a user writes (or of the role a binding
it writes refers to) that the user does not hold itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..objects import Objects
from ..resources import by_plural

Obj = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"
ROLES = by_plural("roles", GROUP)
CLUSTER_ROLES = by_plural("clusterroles", GROUP)
ROLE_BINDINGS = by_plural("rolebindings", GROUP)
CLUSTER_ROLE_BINDINGS = by_plural("clusterrolebindings", GROUP)
KINDS = (ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS)
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
SA_PREFIX = "system:serviceaccount:"
CACHE_LIMIT = 4096  # (user, groups, namespace) rule sets kept per policy


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Rule:
    """One PolicyRule, as tuples (hashable, cheap to test)."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: Any) -> Rule:
        raw = raw if isinstance(raw, dict) else {}
        return cls(
            _strings(raw.get("verbs")),
            _strings(raw.get("apiGroups")),
            _strings(raw.get("resources")),
            _strings(raw.get("resourceNames")),
            _strings(raw.get("nonResourceURLs")),
        )

    def to_json(self) -> Obj:
        out: Obj = {"verbs": list(self.verbs)}
        if self.api_groups:
            out["apiGroups"] = list(self.api_groups)
        if self.resources:
            out["resources"] = list(self.resources)
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        if self.urls:
            out["nonResourceURLs"] = list(self.urls)
        return out


@dataclass(frozen=True)
class Request:
    """What is asked: a resource request (``resource`` set) or a non-resource one (``path`` set)."""

    verb: str
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        return not self.path


def _verb_matches(rule: Rule, verb: str) -> bool:
    return "*" in rule.verbs or verb in rule.verbs


def _resource_matches(rule: Rule, resource: str, sub: str) -> bool:
    combined = f"{resource}/{sub}" if sub else resource
    for want in rule.resources:
        if want == "*" or want == combined:
            return True
        if sub and want == f"*/{sub}":
            return True
    return False


def _url_matches(rule: Rule, path: str) -> bool:
    for url in rule.urls:
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(rule: Rule, req: Request) -> bool:
    """Whether this one rule allows the request (the API server's ``RuleAllows``)."""
    if not _verb_matches(rule, req.verb):
        return False
    if not req.is_resource:
        return _url_matches(rule, req.path)
    return (
        ("*" in rule.api_groups or req.api_group in rule.api_groups)
        and _resource_matches(rule, req.resource, req.subresource)
        and (not rule.resource_names or req.name in rule.resource_names)
    )


# -- subjects -----------------------------------------------------------------------------------------


def _describe_subject(subject: Obj, binding_namespace: str) -> str:
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or binding_namespace}"'
    return f'{kind} "{name}"'


def _subject_keys(subject: Any, binding_namespace: str) -> tuple[str, str] | None:
    """The (kind, name) a subject is indexed under: users and service accounts by user name, groups by group."""
    if not isinstance(subject, dict):
        return None
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "User":
        return ("User", name)
    if kind == "Group":
        return ("Group", name)
    if kind == "ServiceAccount":
        return ("User", f"{SA_PREFIX}{subject.get('namespace') or binding_namespace}:{name}")
    return None


# -- label selectors (aggregation) --------------------------------------------------------------------


def selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions) against an object's labels; an empty one matches none
    here, as an aggregationRule's empty selector aggregates nothing."""
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def aggregate(cluster_roles: Sequence[Obj]) -> dict[str, list[Obj]]:
    """Each ClusterRole's rules with aggregation resolved: an aggregated role holds, in order and without
    repeats, the rules of every other ClusterRole its selectors match (as the aggregation controller writes
    them; a matched role that is itself aggregated lends the rules resolved for it)."""
    own = {str(r["metadata"]["name"]): list(r.get("rules") or []) for r in cluster_roles}
    aggregated = [r for r in cluster_roles if isinstance(r.get("aggregationRule"), dict)]
    resolved = dict(own)
    for _ in range(4):  # admin <- edit <- view: a few rounds reach the fixed point
        changed = False
        for role in aggregated:
            name = role["metadata"]["name"]
            selectors = role["aggregationRule"].get("clusterRoleSelectors") or []
            rules: list[Obj] = []
            seen: set[str] = set()
            for other in cluster_roles:
                other_name = other["metadata"]["name"]
                labels = other["metadata"].get("labels") or {}
                if other_name == name or not any(selector_matches(s, labels) for s in selectors):
                    continue
                for rule in resolved.get(other_name, []):
                    key = json.dumps(rule, sort_keys=True)
                    if key not in seen:
                        seen.add(key)
                        rules.append(rule)
            if rules != resolved.get(name):
                resolved[name] = rules
                changed = True
        if not changed:
            break
    return resolved


# -- the policy ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """A rule and why the user holds it (``RBAC: allowed by ...``)."""

    rule: Rule
    reason: str


@dataclass
class Policy:
    """The bindings indexed by subject and the roles' rules, as of one resourceVersion."""

    rv: int
    cluster_roles: dict[str, tuple[Rule, ...]]
    roles: dict[tuple[str, str], tuple[Rule, ...]]
    # subject -> [(binding namespace or "" for a ClusterRoleBinding, description, role key)]
    by_subject: dict[tuple[str, str], list[tuple[str, str, tuple[str, str, str]]]]
    _cache: dict[tuple[str, tuple[str, ...], str], tuple[Grant, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, rv: int, roles: list[Obj], cluster_roles: list[Obj], rbs: list[Obj], crbs: list[Obj]) -> Policy:
        resolved = aggregate(cluster_roles)
        by_subject: dict[tuple[str, str], list[tuple[str, str, tuple[str, str, str]]]] = {}
        for binding, namespaced in [(b, True) for b in rbs] + [(b, False) for b in crbs]:
            meta = binding.get("metadata") or {}
            ns = str(meta.get("namespace", "")) if namespaced else ""
            ref = binding.get("roleRef") or {}
            ref_kind, ref_name = str(ref.get("kind", "")), str(ref.get("name", ""))
            if ref_kind == "Role" and not namespaced:
                continue
            role_key = ("Role", ns, ref_name) if ref_kind == "Role" else ("ClusterRole", "", ref_name)
            shown = f"{meta.get('name', '')}/{ns}" if namespaced else str(meta.get("name", ""))
            for subject in binding.get("subjects") or []:
                key = _subject_keys(subject, ns)
                if key is None:
                    continue
                why = (
                    f'RBAC: allowed by {"RoleBinding" if namespaced else "ClusterRoleBinding"} "{shown}" of '
                    f'{ref_kind} "{ref_name}" to {_describe_subject(subject, ns)}'
                )
                by_subject.setdefault(key, []).append((ns, why, role_key))
        return cls(
            rv,
            {name: tuple(Rule.of(r) for r in rules) for name, rules in resolved.items()},
            {
                (str(r["metadata"].get("namespace", "")), str(r["metadata"]["name"])): tuple(
                    Rule.of(x) for x in r.get("rules") or []
                )
                for r in roles
            },
            by_subject,
        )

    def role_rules(self, kind: str, namespace: str, name: str) -> tuple[Rule, ...] | None:
        """The rules a roleRef names (None: no such role)."""
        if kind == "ClusterRole":
            return self.cluster_roles.get(name)
        return self.roles.get((namespace, name))

    def grants(self, user: str, groups: Iterable[str], namespace: str) -> tuple[Grant, ...]:
        """Every rule the user holds in ``namespace`` ("": the cluster scope), cluster-wide ones first."""
        groups_key = tuple(sorted(set(groups)))
        key = (user, groups_key, namespace)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        subjects = [("User", user), *(("Group", g) for g in groups_key)]
        cluster: list[Grant] = []
        local: list[Grant] = []
        for subject in subjects:
            for bound_ns, why, (kind, role_ns, name) in self.by_subject.get(subject, ()):
                if bound_ns and bound_ns != namespace:
                    continue
                rules = self.role_rules(kind, role_ns, name) or ()
                (local if bound_ns else cluster).extend(Grant(r, why) for r in rules)
        out = tuple(cluster + local)
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = out
        return out

    def decide(self, user: str, groups: Iterable[str], req: Request) -> tuple[bool, str]:
        """(allowed, the reason the API server gives when it allows)."""
        groups = tuple(groups)
        if MASTERS in groups:
            return True, ""
        for grant in self.grants(user, groups, req.namespace if req.is_resource else ""):
            if rule_allows(grant.rule, req):
                return True, grant.reason
        return False, ""


_POLICIES: dict[int, Policy] = {}
_LOCK = threading.Lock()


def _rbac_written_since(objects: Objects, rv: int) -> bool:
    if rv < objects.oldest_rv() - 1:
        return True  # the journal no longer reaches back: read the policy again
    keys = tuple(r.key for r in KINDS)
    row = objects.store.execute(
        "SELECT 1 FROM k8s_journal WHERE rv > ? AND res IN (?, ?, ?, ?) LIMIT 1", (rv, *keys)
    ).fetchone()
    return row is not None


def _by_name(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def policy(objects: Objects) -> Policy:
    """The cluster's RBAC policy now: the one kept from before unless a RBAC object changed since.

    Reads only (no store transaction, no lock held while reading): a writer holding the store may ask too.
    The lists are read after the resourceVersion, so a write in between makes the next call read again."""
    current = objects.current_rv()
    kept = _POLICIES.get(id(objects))
    if kept is not None:
        if kept.rv == current:
            return kept
        if kept.rv < current and not _rbac_written_since(objects, kept.rv):
            kept.rv = current
            return kept
    lists = [sorted(objects.store.list(res.key), key=_by_name) for res in KINDS]
    fresh = Policy.build(current, *lists)
    with _LOCK:
        _POLICIES[id(objects)] = fresh
    return fresh


def forget(objects: Objects) -> None:
    """Drop the kept policy (a reset of the store)."""
    with _LOCK:
        _POLICIES.pop(id(objects), None)


# -- escalation ---------------------------------------------------------------------------------------


def _breakdown(rule: Rule) -> list[Rule]:
    """One rule per group, resource, verb and name (the API server's ``BreakdownRule``)."""
    out: list[Rule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                if rule.resource_names:
                    out.extend(Rule((verb,), (group,), (resource,), (n,)) for n in rule.resource_names)
                else:
                    out.append(Rule((verb,), (group,), (resource,)))
    for url in rule.urls:
        for verb in rule.verbs:
            out.append(Rule((verb,), urls=(url,)))
    return out


def _resources_cover(have: tuple[str, ...], want: str) -> bool:
    if "*" in have or want in have:
        return True
    if "/" not in want:
        return False
    return f"*/{want.split('/', 1)[1]}" in have


def _covers(owner: Rule, piece: Rule) -> bool:
    if not ("*" in owner.verbs or piece.verbs[0] in owner.verbs):
        return False
    if piece.urls:
        url = piece.urls[0]
        return any(u == "*" or u == url or (u.endswith("*") and url.startswith(u[:-1])) for u in owner.urls)
    if not ("*" in owner.api_groups or piece.api_groups[0] in owner.api_groups):
        return False
    if not _resources_cover(owner.resources, piece.resources[0]):
        return False
    if not owner.resource_names:
        return True
    return bool(piece.resource_names) and piece.resource_names[0] in owner.resource_names


def missing_rules(held: Sequence[Rule], wanted: Iterable[Rule]) -> list[Rule]:
    """The pieces of ``wanted`` no held rule covers, compacted as the API server lists them."""
    missing = [p for rule in wanted for p in _breakdown(rule) if not any(_covers(h, p) for h in held)]
    merged: dict[tuple[str, str], list[str]] = {}
    others: list[Rule] = []
    for piece in missing:
        if piece.resources and not piece.resource_names:
            verbs = merged.setdefault((piece.api_groups[0], piece.resources[0]), [])
            if piece.verbs[0] not in verbs:
                verbs.append(piece.verbs[0])
        elif piece not in others:
            others.append(piece)
    return [Rule(tuple(v), (g,), (r,)) for (g, r), v in merged.items()] + others


def _quoted(values: Sequence[str]) -> str:
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def compact_string(rule: Rule) -> str:
    """A rule as the escalation message prints it: ``{APIGroups:[""], Resources:["pods"], Verbs:["get"]}``."""
    parts = []
    if rule.api_groups:
        parts.append(f"APIGroups:{_quoted(rule.api_groups)}")
    if rule.resources:
        parts.append(f"Resources:{_quoted(rule.resources)}")
    if rule.urls:
        parts.append(f"NonResourceURLs:{_quoted(rule.urls)}")
    if rule.resource_names:
        parts.append(f"ResourceNames:{_quoted(rule.resource_names)}")
    if rule.verbs:
        parts.append(f"Verbs:{_quoted(rule.verbs)}")
    return "{" + ", ".join(parts) + "}"


def escalation_message(user: str, groups: Sequence[str], missing: Sequence[Rule]) -> str:
    lines = sorted(compact_string(r) for r in missing)
    return (
        f'user "{user}" (groups={_quoted(groups)}) is attempting to grant RBAC permissions not currently held:\n'
        + "\n".join(lines)
    )
