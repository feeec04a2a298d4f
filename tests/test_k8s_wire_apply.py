"""Server-side apply and managedFields: who owns which field, conflicts (409 with the API server's
causes), forced takeovers, fields removed when their only applier stops applying them, and the
Update entries ordinary writes leave."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from lab_helpers.sandbox.errors import ApiError
from lab_helpers.sandbox.kubernetes.wire.apply import record_update, server_side_apply
from lab_helpers.sandbox.kubernetes.wire.fieldsets import from_fields_v1, to_fields_v1


def config(replicas: int = 3, image: str = "nginx:1.26", labels: dict | None = None) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "labels": labels or {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]},
            },
        },
    }


def body(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def apply(live, obj, manager="kubectl", force=False):
    return server_side_apply(live, body(obj), manager=manager, force=force)


def owners(obj: dict) -> dict[str, set]:
    return {f"{e['manager']}/{e['operation']}": from_fields_v1(e["fieldsV1"]) for e in obj["metadata"]["managedFields"]}


def conflict(excinfo) -> dict:
    response = excinfo.value.response
    assert response.status_code == 409
    return json.loads(response.get_data())


REPLICAS = ("f:spec", "f:replicas")
IMAGE = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}', "f:image")


def test_create_records_the_applied_fields():
    created = apply(None, config())
    assert created["spec"] == config()["spec"]
    (entry,) = created["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl" and entry["operation"] == "Apply" and entry["apiVersion"] == "apps/v1"
    assert entry["fieldsType"] == "FieldsV1" and entry["time"].endswith("Z")
    container = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container == {
        ".": {},
        "f:image": {},
        "f:name": {},
        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
    }
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {"f:app": {}}}
    assert "f:name" not in entry["fieldsV1"]["f:metadata"], "identity fields are no one's"


def test_reapplying_the_same_configuration_changes_nothing():
    first = apply(None, config())
    second = apply(first, config())
    assert second["spec"] == first["spec"]
    assert owners(second) == owners(first)


def test_changing_a_field_another_manager_set_is_a_conflict():
    live = record_update(None, config(), manager="kubectl-client-side-apply")
    with pytest.raises(ApiError) as excinfo:
        apply(live, config(replicas=5))
    status = conflict(excinfo)
    assert status["reason"] == "Conflict"
    assert (
        status["message"]
        == 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]


def test_several_conflicts_are_listed():
    live = record_update(None, config(), manager="helm")
    with pytest.raises(ApiError) as excinfo:
        apply(live, config(replicas=5, image="nginx:1.27"))
    status = conflict(excinfo)
    assert status["message"].startswith('Apply failed with 2 conflicts: conflicts with "helm" using apps/v1:\n- ')
    assert '.spec.template.spec.containers[name="web"].image' in status["message"]
    assert {c["field"] for c in status["details"]["causes"]} == {
        ".spec.replicas",
        '.spec.template.spec.containers[name="web"].image',
    }


def test_applying_the_same_value_shares_ownership():
    live = record_update(None, config(), manager="kubectl-create")
    out = apply(live, config())
    got = owners(out)
    assert REPLICAS in got["kubectl-create/Update"] and REPLICAS in got["kubectl/Apply"]


def test_force_takes_the_fields_over():
    live = record_update(None, config(), manager="kubectl-client-side-apply")
    out = apply(live, config(replicas=5), force=True)
    assert out["spec"]["replicas"] == 5
    got = owners(out)
    assert REPLICAS in got["kubectl/Apply"]
    assert REPLICAS not in got["kubectl-client-side-apply/Update"]
    assert IMAGE in got["kubectl-client-side-apply/Update"], "fields it did not change stay shared"


def test_a_field_no_longer_applied_is_removed_unless_someone_else_owns_it():
    live = apply(None, config(labels={"app": "web", "tier": "front"}))
    out = apply(live, config(labels={"app": "web"}))
    assert out["metadata"]["labels"] == {"app": "web"}
    shared = record_update(live, copy.deepcopy(live), manager="other")  # no change: owns nothing
    assert "other/Update" not in owners(shared)
    labelled = copy.deepcopy(live)
    labelled["metadata"]["labels"]["tier"] = "back"
    labelled = record_update(live, labelled, manager="labeller")
    out = apply(labelled, config(labels={"app": "web"}))
    assert out["metadata"]["labels"] == {"app": "web", "tier": "back"}


def test_removing_a_container_from_the_configuration():
    two = config()
    two["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    live = apply(None, two)
    out = apply(live, config())
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_an_update_takes_ownership_and_a_later_apply_conflicts_with_it():
    """kubectl set image after an apply: the image is now the setter's; applying the old one conflicts."""
    live = apply(None, config())
    changed = copy.deepcopy(live)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    updated = record_update(live, changed, manager="kubectl-set")
    got = owners(updated)
    assert IMAGE in got["kubectl-set/Update"] and IMAGE not in got["kubectl/Apply"]
    with pytest.raises(ApiError) as excinfo:
        apply(updated, config())
    assert conflict(excinfo)["details"]["causes"][0]["field"] == '.spec.template.spec.containers[name="web"].image'
    assert (
        apply(updated, config(image="nginx:1.27"))["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    )


def test_yaml_bodies_nulls_and_status():
    text = yaml.safe_dump({**config(), "status": {"replicas": 9}}).replace(
        "namespace: demo", "namespace: demo\n  annotations: null"
    )
    out = server_side_apply(None, text.encode(), manager="helm", force=False)
    assert "status" not in out and "annotations" not in out["metadata"]
    assert out["metadata"]["managedFields"][0]["manager"] == "helm"


@pytest.mark.parametrize(
    ("payload", "manager"),
    [
        (b"- a\n- b\n", "kubectl"),
        (b'{"kind": "Deployment"}', "kubectl"),
        (json.dumps(config()).encode(), ""),
        (b"a: [", "kubectl"),
    ],
)
def test_bad_apply_requests_are_400(payload, manager):
    with pytest.raises(ApiError) as excinfo:
        server_side_apply(None, payload, manager=manager, force=False)
    assert excinfo.value.response.status_code == 400


def test_status_writes_are_kept_apart():
    live = apply(None, config())
    with_status = copy.deepcopy(live)
    with_status["status"] = {"replicas": 3, "readyReplicas": 3}
    out = record_update(live, with_status, manager="deployment-controller", subresource="status")
    entry = next(e for e in out["metadata"]["managedFields"] if e["manager"] == "deployment-controller")
    assert entry["subresource"] == "status"
    assert set(entry["fieldsV1"]) == {"f:status"}
    again = apply(out, config(replicas=4))
    assert again["status"] == with_status["status"] and again["spec"]["replicas"] == 4


def test_managed_fields_sent_in_a_body_replace_the_stored_ones():
    live = record_update(None, config(), manager="kubectl-client-side-apply")
    edited = copy.deepcopy(live)
    edited["metadata"]["managedFields"] = []
    edited["spec"]["replicas"] = 4
    out = record_update(live, edited, manager="kubectl-edit")
    assert list(owners(out)) == ["kubectl-edit/Update"]
    assert owners(out)["kubectl-edit/Update"] == {REPLICAS}
    kept = copy.deepcopy(live)
    del kept["metadata"]["managedFields"]
    kept["spec"]["replicas"] = 6
    out = record_update(live, kept, manager="kubectl-scale")
    assert set(owners(out)) == {"kubectl-client-side-apply/Update", "kubectl-scale/Update"}


def test_removed_fields_are_no_ones():
    live = record_update(None, config(labels={"app": "web", "tier": "front"}), manager="kubectl-create")
    smaller = copy.deepcopy(live)
    del smaller["metadata"]["labels"]["tier"]
    out = record_update(live, smaller, manager="kubectl-label")
    assert ("f:metadata", "f:labels", "f:tier") not in owners(out)["kubectl-create/Update"]
    assert "kubectl-label/Update" not in owners(out)


def test_fields_v1_round_trip():
    paths = {
        ("f:spec", "f:replicas"),
        ("f:metadata", "f:labels"),
        ("f:metadata", "f:labels", "f:app"),
        ("f:spec", "f:x", 'k:{"a":1}'),
    }
    tree = to_fields_v1(paths)
    assert tree["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    assert from_fields_v1(tree) == paths


def test_random_configurations_answer_a_status_or_an_object():
    """Never a crash (a 500): odd shapes in an applied configuration merge, conflict or are refused."""
    import random

    rng = random.Random(3)
    odd = [None, 1, "x", [], {}, [1, "a"], [{"name": 1}], [{"containerPort": "80"}], {"f:": {}}, True]
    live = record_update(None, config(), manager="kubectl-create")
    paths = [("spec",), ("spec", "replicas"), ("spec", "template", "spec", "containers"), ("metadata",),
             ("metadata", "labels"), ("spec", "template", "spec", "containers", 0, "ports"), ("spec", "selector")]  # fmt: skip
    for _ in range(300):
        obj = config()
        path = rng.choice(paths)
        target = obj
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = rng.choice(odd)
        except (KeyError, IndexError, TypeError):
            continue
        for base in (None, live):
            try:
                out = server_side_apply(base, body(obj), manager="kubectl", force=rng.random() < 0.5)
            except ApiError as exc:
                assert exc.response.status_code in (400, 409)
            else:
                json.dumps(out)
                record_update(base, out, manager="other")


def test_applying_to_the_status_subresource():
    live = apply(None, config())
    status = {**config(replicas=99), "status": {"replicas": 3, "readyReplicas": 2}}
    out = server_side_apply(live, body(status), manager="controller", force=False, subresource="status")
    assert out["status"] == {"replicas": 3, "readyReplicas": 2}
    assert out["spec"]["replicas"] == 3, "the spec is not applied through /status"
    entry = next(e for e in out["metadata"]["managedFields"] if e["manager"] == "controller")
    assert entry["operation"] == "Apply" and entry["subresource"] == "status" and set(entry["fieldsV1"]) == {"f:status"}
    four = body({**config(), "status": {"replicas": 4}})
    with pytest.raises(ApiError) as excinfo:
        server_side_apply(out, four, manager="other", force=False, subresource="status")
    assert conflict(excinfo)["details"]["causes"][0] == {
        "reason": "FieldManagerConflict",
        "message": 'conflict with "controller"',  # an Apply manager: named without its apiVersion
        "field": ".status.replicas",
    }
    again = server_side_apply(out, four, manager="other", force=True, subresource="status")
    assert again["status"]["replicas"] == 4 and again["status"]["readyReplicas"] == 2
