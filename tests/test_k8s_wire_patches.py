"""PATCH bodies as the API server applies them: JSON patch, JSON merge patch and strategic merge
patch (merge keys from the schemas, directives), with its errors (400, 415, 422)."""

from __future__ import annotations

import copy
import json

import pytest

from lab_helpers.sandbox.errors import ApiError
from lab_helpers.sandbox.kubernetes.wire.patches import apply_patch

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON = "application/json-patch+json"


def live() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.26",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        },
                        {"name": "sidecar", "image": "busybox", "args": ["sleep", "3600"]},
                    ],
                    "tolerations": [{"key": "gpu", "operator": "Exists"}],
                    "volumes": [{"name": "scratch", "emptyDir": {}}],
                },
            },
        },
    }


def patch(content_type: str, body, obj: dict | None = None) -> dict:
    return apply_patch(content_type, obj or live(), json.dumps(body).encode())


def template(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def status_of(excinfo) -> tuple[int, dict]:
    response = excinfo.value.response
    return response.status_code, json.loads(response.get_data())


# --- strategic merge --------------------------------------------------------------------------


def test_set_image_changes_one_container_and_keeps_its_ports():
    out = patch(SMP, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
    web, sidecar = template(out)["containers"]
    assert web["image"] == "nginx:1.27"
    assert web["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert web["env"] == live()["spec"]["template"]["spec"]["containers"][0]["env"]
    assert sidecar == live()["spec"]["template"]["spec"]["containers"][1]


def test_rollout_restart_annotates_the_template_only():
    stamp = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    out = patch(SMP, {"spec": {"template": {"metadata": {"annotations": stamp}}}})
    assert out["spec"]["template"]["metadata"] == {"labels": {"app": "web"}, "annotations": stamp}
    assert template(out) == template(live())


def test_a_new_container_is_merged_in_and_listed_first():
    """As the Kubernetes documentation's patch example shows: the patch's item comes first."""
    out = patch(SMP, {"spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis"}]}}}})
    assert [c["name"] for c in template(out)["containers"]] == ["redis", "web", "sidecar"]


def test_a_list_without_a_patch_strategy_is_replaced():
    out = patch(SMP, {"spec": {"template": {"spec": {"tolerations": [{"key": "disk", "operator": "Exists"}]}}}})
    assert template(out)["tolerations"] == [{"key": "disk", "operator": "Exists"}]
    out = patch(SMP, {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "args": ["true"]}]}}}})
    assert template(out)["containers"][1]["args"] == ["true"]


def test_nested_lists_merge_by_their_own_keys():
    body = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "web", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]
                }
            }
        }
    }
    out = patch(SMP, body)
    assert template(out)["containers"][0]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C", "value": "4"},
    ]


def test_patch_directives_delete_and_replace():
    body = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    assert [c["name"] for c in template(patch(SMP, body))["containers"]] == ["web"]
    body = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}}}}
    assert template(patch(SMP, body))["containers"] == [{"name": "only", "image": "x"}]
    body = {"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}
    assert patch(SMP, body)["spec"]["strategy"] == {"type": "Recreate"}
    body = {"spec": {"strategy": {"$patch": "delete"}}}
    assert "strategy" not in patch(SMP, body)["spec"]


def test_null_removes_a_key():
    out = patch(SMP, {"metadata": {"labels": {"tier": None}}, "spec": {"replicas": None}})
    assert out["metadata"]["labels"] == {"app": "web"}
    assert "replicas" not in out["spec"]


def test_retain_keys_drops_what_the_new_strategy_does_not_use():
    out = patch(SMP, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    volume = {"name": "scratch", "configMap": {"name": "settings"}, "$retainKeys": ["configMap", "name"]}
    out = patch(SMP, {"spec": {"template": {"spec": {"volumes": [volume]}}}})
    assert template(out)["volumes"] == [{"name": "scratch", "configMap": {"name": "settings"}}]


def test_set_element_order_orders_the_list():
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
                    "containers": [{"name": "web", "image": "nginx:1.27"}],
                }
            }
        }
    }
    out = patch(SMP, body)
    assert [c["name"] for c in template(out)["containers"]] == ["sidecar", "web"]
    assert template(out)["containers"][1]["image"] == "nginx:1.27"


def test_primitive_merge_lists_are_sets():
    out = patch(SMP, {"metadata": {"finalizers": ["b", "c"]}})
    assert out["metadata"]["finalizers"] == ["a", "b", "c"]
    out = patch(SMP, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["metadata"]["finalizers"] == ["b"]


def test_client_side_apply_style_patch():
    """What kubectl apply sends for a changed manifest: new values, order, and a removed env var."""
    body = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {
            "replicas": 4,
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "$setElementOrder/env": [{"name": "A"}],
                            "env": [{"$patch": "delete", "name": "B"}],
                            "name": "web",
                        }
                    ],
                }
            },
        },
    }
    out = patch(SMP, body)
    assert out["spec"]["replicas"] == 4
    assert template(out)["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert template(out)["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_the_live_object_is_not_modified():
    obj = live()
    before = copy.deepcopy(obj)
    out = patch(SMP, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}}, obj)
    template(out)["containers"][0]["ports"].append({"containerPort": 81})
    assert obj == before


def test_a_merge_list_item_without_its_key_is_422():
    with pytest.raises(ApiError) as excinfo:
        patch(SMP, {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})
    code, body = status_of(excinfo)
    assert code == 422 and body["reason"] == "Invalid" and "merge key: name" in body["message"]


# --- JSON merge patch and JSON patch ----------------------------------------------------------


def test_merge_patch_replaces_lists_and_removes_nulls():
    out = patch(
        MERGE, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}, "strategy": None}}
    )
    assert template(out)["containers"] == [{"name": "web", "image": "x"}]
    assert "strategy" not in out["spec"]
    assert out["spec"]["replicas"] == 2


def test_json_patch_operations():
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "add", "path": "/metadata/labels/env", "value": "dev"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ]
    out = patch(JSON, ops)
    assert out["spec"]["replicas"] == 5
    assert out["metadata"]["labels"]["env"] == "dev"
    assert [c["name"] for c in template(out)["containers"]] == ["web"]


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/spec/replicas", "value": 3}],
        [{"op": "replace", "path": "/spec/nothing/here", "value": 1}],
        [{"op": "frobnicate", "path": "/spec"}],
        [{"op": "remove", "path": "/spec/template/spec/containers/9"}],
    ],
)
def test_a_json_patch_that_does_not_apply_is_422(ops):
    with pytest.raises(ApiError) as excinfo:
        patch(JSON, ops)
    code, body = status_of(excinfo)
    assert code == 422 and body["kind"] == "Status" and len(body["message"]) < 400
    assert body["message"].startswith("the server rejected our request due to an error in our request: ")
    assert "<class" not in body["message"]


def test_bodies_that_do_not_parse_are_400_and_unknown_types_415():
    with pytest.raises(ApiError) as excinfo:
        apply_patch(SMP, live(), b"{not json")
    assert status_of(excinfo)[0] == 400
    with pytest.raises(ApiError) as excinfo:
        apply_patch(MERGE, live(), b"[1, 2]")
    assert status_of(excinfo)[0] == 400
    with pytest.raises(ApiError) as excinfo:
        apply_patch(JSON, live(), b'{"op": "add"}')
    assert status_of(excinfo)[0] == 400
    with pytest.raises(ApiError) as excinfo:
        apply_patch("application/xml", live(), b"<x/>")
    code, body = status_of(excinfo)
    assert code == 415 and body["reason"] == "UnsupportedMediaType"
    assert "application/strategic-merge-patch+json" in body["message"]


def test_content_type_parameters_are_ignored():
    out = apply_patch(SMP + "; charset=utf-8", live(), b'{"spec": {"replicas": 7}}')
    assert out["spec"]["replicas"] == 7


def test_strategic_merge_on_a_kind_without_a_schema_is_415():
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(ApiError) as excinfo:
        apply_patch(SMP, widget, b"{}")
    assert status_of(excinfo)[0] == 415
    assert apply_patch(MERGE, widget, b'{"spec": {"a": 1}}')["spec"] == {"a": 1}


def _random_value(rng, depth=0):
    choice = rng.randrange(9 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([0, -1, 7, 2**40])
    if choice == 2:
        return rng.choice(["", "x", "$patch", "delete", "replace", "name"])
    if choice == 3:
        return rng.random() < 0.5
    if choice == 4:
        return 1.5
    if choice in (5, 6):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    keys = ["name", "image", "$patch", "$retainKeys", "$setElementOrder/containers", "$deleteFromPrimitiveList/finalizers",
            "containers", "ports", "spec", "template", "metadata", "finalizers", "env", "volumes"]  # fmt: skip
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


@pytest.mark.parametrize("content_type", [SMP, MERGE, JSON])
def test_random_patches_answer_a_status_or_an_object(content_type):
    """Never a crash (a 500): every body either applies or is refused with a Status."""
    import random

    rng = random.Random(12)
    paths = [[], ["spec"], ["spec", "template", "spec"], ["spec", "template", "spec", "containers"], ["metadata"]]
    for _ in range(400):
        value = _random_value(rng)
        for key in reversed(rng.choice(paths)):
            value = {key: value}
        if content_type == JSON:
            value = [{"op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "x"]),
                      "path": rng.choice(["/spec", "/spec/replicas", "/a/b", "", "/spec/template/spec/containers/-"]),
                      "from": "/spec", "value": value}]  # fmt: skip
        try:
            out = apply_patch(content_type, live(), json.dumps(value).encode())
        except ApiError as exc:
            assert exc.response.status_code in (400, 415, 422)
        else:
            assert isinstance(out, dict)
