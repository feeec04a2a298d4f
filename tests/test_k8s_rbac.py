"""RBAC in the sandbox cluster: the evaluator on its own (wildcards, resourceNames, subresources, non-resource
URLs, service accounts and groups, aggregation, escalation), the policy kept until an RBAC object changes,
then the real clients: the transcript ``k8s_transcripts/rbac.txt`` with kubectl (two learners, the admin
with ``--as``) and the Python client's ApiException with the Status body."""

from __future__ import annotations

import json

import pytest
from k8s_fixtures import Transcript, kube, load_transcript  # noqa: F401 - fixtures

from lab_helpers.sandbox.kubernetes.apiserver import rbac, rbac_defaults
from lab_helpers.sandbox.kubernetes.apiserver.rbac import Request, Rule

pytestmark = pytest.mark.timeout(300)

SECTIONS = load_transcript("rbac.txt")


# -- the evaluator --------------------------------------------------------------------------------------


def _rule(verbs, groups=("",), resources=(), names=(), urls=()) -> Rule:
    return Rule(tuple(verbs), tuple(groups), tuple(resources), tuple(names), tuple(urls))


def test_rules_match_verbs_groups_resources_and_names():
    pods = _rule(["get", "list"], [""], ["pods"])
    assert rbac.rule_allows(pods, Request("get", "", "pods", namespace="a", name="p"))
    assert not rbac.rule_allows(pods, Request("delete", "", "pods", namespace="a", name="p"))
    assert not rbac.rule_allows(pods, Request("get", "apps", "pods"))  # another group
    assert not rbac.rule_allows(pods, Request("get", "", "pods", "log"))  # a subresource is its own resource
    star = _rule(["*"], ["*"], ["*"])
    assert rbac.rule_allows(star, Request("escalate", "rbac.authorization.k8s.io", "roles"))
    assert rbac.rule_allows(star, Request("get", "", "pods", "log"))
    assert not rbac.rule_allows(star, Request("get", path="/version"))  # resources are not URLs
    logs = _rule(["get"], [""], ["*/log"])
    assert rbac.rule_allows(logs, Request("get", "", "pods", "log"))
    assert not rbac.rule_allows(logs, Request("get", "", "pods"))
    named = _rule(["get", "update"], [""], ["configmaps"], names=["settings"])
    assert rbac.rule_allows(named, Request("get", "", "configmaps", name="settings"))
    assert not rbac.rule_allows(named, Request("get", "", "configmaps", name="other"))
    assert not rbac.rule_allows(named, Request("list", "", "configmaps"))  # a list names nothing
    # asking for every verb is granted only by a rule that grants every verb
    assert not rbac.rule_allows(pods, Request("*", "", "pods"))


def test_non_resource_urls():
    discovery = _rule(["get"], [], [], urls=["/api", "/apis/*", "/version"])
    assert rbac.rule_allows(discovery, Request("get", path="/version"))
    assert rbac.rule_allows(discovery, Request("get", path="/apis/apps/v1"))
    assert not rbac.rule_allows(discovery, Request("get", path="/api/v1"))
    assert not rbac.rule_allows(discovery, Request("post", path="/version"))
    assert not rbac.rule_allows(discovery, Request("get", "", "pods"))


def _binding(kind, name, role_kind, role, subjects, namespace=""):
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"kind": kind, "metadata": meta, "roleRef": {"kind": role_kind, "name": role}, "subjects": subjects}


def test_policy_subjects_scopes_and_reasons():
    roles = [{"metadata": {"name": "reader", "namespace": "a"}, "rules": [{"verbs": ["get"], "apiGroups": [""],
                                                                        "resources": ["secrets"]}]}]  # fmt: skip
    cluster_roles = [{"metadata": {"name": "pods"}, "rules": [{"verbs": ["list"], "apiGroups": [""],
                                                               "resources": ["pods"]}]}]  # fmt: skip
    rbs = [
        _binding("RoleBinding", "r", "Role", "reader", [{"kind": "User", "name": "ann"}], "a"),
        _binding("RoleBinding", "sa", "ClusterRole", "pods", [{"kind": "ServiceAccount", "name": "bot"}], "a"),
        _binding("RoleBinding", "bad", "Role", "reader", [{"kind": "User", "name": "eve"}], "b"),  # no such Role in b
    ]
    crbs = [_binding("ClusterRoleBinding", "team", "ClusterRole", "pods", [{"kind": "Group", "name": "team"}])]
    policy = rbac.Policy.build(1, roles, cluster_roles, rbs, crbs)
    auth = ("system:authenticated",)
    assert policy.decide("ann", auth, Request("get", "", "secrets", namespace="a")) == (
        True,
        'RBAC: allowed by RoleBinding "r/a" of Role "reader" to User "ann"',
    )
    assert not policy.decide("ann", auth, Request("get", "", "secrets", namespace="b"))[0]  # only where bound
    assert not policy.decide("ann", auth, Request("list", "", "pods", namespace="a"))[0]
    assert not policy.decide("eve", auth, Request("get", "", "secrets", namespace="b"))[0]
    bot = "system:serviceaccount:a:bot"
    assert policy.decide(bot, auth, Request("list", "", "pods", namespace="a")) == (
        True,
        'RBAC: allowed by RoleBinding "sa/a" of ClusterRole "pods" to ServiceAccount "bot/a"',
    )
    assert not policy.decide("system:serviceaccount:b:bot", auth, Request("list", "", "pods", namespace="a"))[0]
    reason = policy.decide("zed", ("team", *auth), Request("list", "", "pods", namespace="anywhere"))[1]
    assert reason == 'RBAC: allowed by ClusterRoleBinding "team" of ClusterRole "pods" to Group "team"'
    assert policy.decide("root", (rbac.MASTERS,), Request("delete", "", "nodes")) == (True, "")


def test_aggregation_resolves_labels_through_chains():
    def role(name, labels=None, rules=(), selects=None):
        obj = {"metadata": {"name": name, "labels": labels or {}}, "rules": list(rules)}
        if selects is not None:
            obj["aggregationRule"] = {"clusterRoleSelectors": selects}
        return obj

    r1 = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
    r2 = {"verbs": ["create"], "apiGroups": [""], "resources": ["pods"]}
    roles = [
        role("top", selects=[{"matchLabels": {"to-top": "true"}}]),
        role("mid", {"to-top": "true"}, selects=[{"matchExpressions": [{"key": "to-mid", "operator": "Exists"}]}]),
        role("leaf", {"to-mid": "x"}, [r1]),
        role("other", {"to-top": "true"}, [r2, r1]),  # r1 again: kept once
        role("stray", {"to-top": "false"}, [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
        role("empty", selects=[{}]),  # an empty selector aggregates nothing
    ]
    resolved = rbac.aggregate(roles)
    assert resolved["mid"] == [r1]
    assert resolved["top"] == [r1, r2]
    assert resolved["empty"] == []
    # the seeded defaults: admin holds edit's and view's rules, view does not hold edit's
    defaults = {r["metadata"]["name"]: r for r in rbac_defaults.cluster_roles()}
    policy = rbac.Policy.build(1, [], list(defaults.values()), [], [])
    admin, view = policy.cluster_roles["admin"], policy.cluster_roles["view"]
    log = Request("get", "", "pods", "log", "ns")
    assert any(rbac.rule_allows(r, log) for r in admin) and any(rbac.rule_allows(r, log) for r in view)
    secrets = Request("get", "", "secrets", namespace="ns")
    assert any(rbac.rule_allows(r, secrets) for r in admin) and not any(rbac.rule_allows(r, secrets) for r in view)
    bind = Request("create", "rbac.authorization.k8s.io", "rolebindings", namespace="ns")
    assert any(rbac.rule_allows(r, bind) for r in admin) and not any(rbac.rule_allows(r, bind) for r in view)
    assert defaults["admin"]["rules"] == [r.to_json() for r in admin]  # stored as the controller writes them


def test_escalation_lists_what_is_not_held():
    held = [
        _rule(["get", "list", "watch"], [""], ["pods", "pods/log"]),
        _rule(["get"], [""], ["*/status"]),
        _rule(["update"], [""], ["configmaps"], names=["settings"]),
        _rule(["get"], [], [], urls=["/healthz/*"]),
    ]
    wanted = [
        _rule(["get", "list"], [""], ["pods"]),  # held
        _rule(["get"], [""], ["deployments/status"]),  # held through */status
        _rule(["update"], [""], ["configmaps"], names=["settings"]),  # held
        _rule(["get"], [], [], urls=["/healthz/etcd"]),  # held through the prefix
        _rule(["delete", "get"], [""], ["pods", "secrets"]),
        _rule(["update"], [""], ["configmaps"]),  # held for one name only: not held for all
        _rule(["get"], [], [], urls=["/metrics"]),
    ]
    missing = rbac.missing_rules(held, wanted)
    assert missing == [
        _rule(["delete"], [""], ["pods"]),
        _rule(["delete", "get"], [""], ["secrets"]),
        _rule(["update"], [""], ["configmaps"]),
        Rule(("get",), urls=("/metrics",)),
    ]
    assert rbac.missing_rules(held, wanted[:4]) == []
    message = rbac.escalation_message("learner", ["system:authenticated"], missing)
    assert message.splitlines() == [
        'user "learner" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:',
        '{APIGroups:[""], Resources:["configmaps"], Verbs:["update"]}',
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["delete" "get"]}',
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    ]
    assert rbac.missing_rules([_rule(["*"], ["*"], ["*"])], wanted[4:6]) == []


def test_policy_is_kept_until_an_rbac_object_changes(tmp_path):
    from lab_helpers.sandbox.kubernetes.objects import Objects
    from lab_helpers.sandbox.kubernetes.resources import by_plural
    from lab_helpers.sandbox.store import Store

    store = Store(tmp_path)
    try:
        objects = Objects(store)
        rbac_defaults.seed(objects, "learner", "owner")
        first = rbac.policy(objects)
        assert rbac.policy(objects) is first
        objects.create(by_plural("configmaps"), {"metadata": {"name": "c", "namespace": "default"}})
        assert rbac.policy(objects) is first and first.rv == objects.current_rv()  # not an RBAC write
        req = Request("get", "", "secrets", namespace="default", name="s")
        assert first.decide("ann", ("system:authenticated",), req)[0] is False
        role = {"metadata": {"name": "r", "namespace": "default"},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]}  # fmt: skip
        objects.create(rbac.ROLES, role)
        binding = _binding("RoleBinding", "b", "Role", "r", [{"kind": "User", "name": "ann"}], "default")
        objects.create(rbac.ROLE_BINDINGS, binding)
        second = rbac.policy(objects)
        assert second is not first and second.decide("ann", ("system:authenticated",), req)[0] is True
        objects.delete(rbac.ROLE_BINDINGS, "default", "b")
        assert rbac.policy(objects).decide("ann", ("system:authenticated",), req)[0] is False
    finally:
        rbac.forget(objects)
        store.close()


# -- the real clients -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def learner_b(kube) -> str:
    """A second learner, made as a workshop host makes one: its context in the sandbox's kubeconfig."""
    from lab_helpers.kube import add_user

    context = add_user("learner-b")
    assert add_user("learner-b") == context == "sandbox-learner-b"  # made once
    return context


@pytest.fixture(scope="module")
def transcript(kube, learner_b, tmp_path_factory) -> Transcript:
    return Transcript(kube.env, tmp_path_factory.mktemp("rbac-transcript"))


@pytest.mark.parametrize("section", list(SECTIONS))
def test_rbac_transcript(transcript, section):
    transcript.run(section, SECTIONS[section])


def test_python_client_gets_the_forbidden_status(kube, learner_b):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    learner = client.CoreV1Api(kube.api_client("sandbox"))
    learner.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py-a")))
    learner.create_namespaced_secret(
        "py-a", client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"k": "v"})
    )
    other = client.CoreV1Api(kube.api_client(learner_b))
    with pytest.raises(ApiException) as refused:
        other.list_namespaced_secret("py-a")
    assert refused.value.status == 403
    body = json.loads(refused.value.body)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["reason"] == "Forbidden"
    assert body["code"] == 403 and body["details"]["kind"] == "secrets"
    assert body["message"] == (
        'secrets is forbidden: User "learner-b" cannot list resource "secrets" in API group "" in the namespace "py-a"'
    )
    with pytest.raises(ApiException) as refused:
        other.read_namespaced_secret("s", "py-a")
    assert json.loads(refused.value.body)["details"] == {"name": "s", "kind": "secrets"}

    # a Role with more than the learner holds, sent as JSON by the typed client
    rbac_api = client.RbacAuthorizationV1Api(kube.api_client("sandbox"))
    role = client.V1Role(
        metadata=client.V1ObjectMeta(name="too-much"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["nodes"], verbs=["delete"])],
    )
    with pytest.raises(ApiException) as refused:
        rbac_api.create_namespaced_role("py-a", role)
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"].endswith(
        'is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], '
        'Verbs:["delete"]}'
    )


def test_subject_access_reviews(kube, learner_b):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    attrs = client.V1ResourceAttributes(namespace="py-a", verb="get", resource="secrets", name="s")
    admin = client.AuthorizationV1Api(kube.api_client("sandbox-admin"))
    asked = admin.create_subject_access_review(
        client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user="learner", resource_attributes=attrs))
    )
    assert asked.status.allowed is True and asked.status.reason.startswith('RBAC: allowed by RoleBinding "admin/py-a"')
    asked = admin.create_subject_access_review(
        client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user="learner-b", resource_attributes=attrs))
    )
    assert asked.status.allowed is False
    learner = client.AuthorizationV1Api(kube.api_client("sandbox"))
    with pytest.raises(ApiException) as refused:
        learner.create_subject_access_review(
            client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user="x", resource_attributes=attrs))
        )
    assert json.loads(refused.value.body)["message"] == (
        'subjectaccessreviews.authorization.k8s.io is forbidden: User "learner" cannot create resource '
        '"subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope'
    )
    # a namespace's admin asks within its namespace
    local = learner.create_namespaced_local_subject_access_review(
        "py-a",
        client.V1LocalSubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user="learner-b", resource_attributes=client.V1ResourceAttributes(verb="list", resource="pods")
            )
        ),
    )
    assert local.status.allowed is False and local.spec.resource_attributes.namespace == "py-a"
