"""Protobuf field numbers of the access kinds that typed clients send (``kubectl create role``,
``clusterrole``, ``rolebinding``, ``clusterrolebinding``; ``kubectl auth reconcile``), in the format of
``protobuf_fields.TABLE``; ``ROOT_KINDS`` are the kinds a body may carry.

Read from k8s.io/api's ``rbac/v1/generated.proto`` at v0.35. ``ServiceAccount`` is in the core table.
"""

TABLE = """
[Role]
1 metadata ObjectMeta
2 rules PolicyRule []
[ClusterRole]
1 metadata ObjectMeta
2 rules PolicyRule []
3 aggregationRule AggregationRule
[AggregationRule]
1 clusterRoleSelectors LabelSelector []
[PolicyRule]
1 verbs string []
2 apiGroups string []
3 resources string []
4 resourceNames string []
5 nonResourceURLs string []
[RoleBinding]
1 metadata ObjectMeta
2 subjects Subject []
3 roleRef RoleRef
[ClusterRoleBinding]
1 metadata ObjectMeta
2 subjects Subject []
3 roleRef RoleRef
[RoleRef]
1 apiGroup string keep
2 kind string keep
3 name string keep
[Subject]
1 kind string keep
2 apiGroup string
3 name string keep
4 namespace string
"""

ROOT_KINDS: tuple[str, ...] = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
