"""The course's Helm charts (data/charts/api, data/charts/worker) through lab_helpers.deploy.charts and
the real pinned helm 4: rendered with their defaults and with the values lab 06 passes, every
manifest valid against the cluster's schemas, every name prefixed by the release, lint clean; the
origin project's three mistakes (a top-level gpu.enabled, env as a map, a probes key) refused by
the values schema with the key named; a diff of two values files shows only what they change.
The charts on a running cluster: test_charts_cluster.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lab_helpers.deploy import charts
from lab_helpers.errors import LabError, UsageError

pytestmark = pytest.mark.timeout(120)

RELEASE, NS = "sample-api", "sample"
SUFFIXES = {"Deployment": "-deployment", "Service": "-service", "ConfigMap": "-config", "Ingress": "-ingress"}


@pytest.fixture(autouse=True)
def course_helm(k8s_tools, monkeypatch, tmp_path):
    """The pinned helm, found as the course finds it (LAB_TOOLS_DIR), with a state directory of its own."""
    monkeypatch.setenv("LAB_TOOLS_DIR", str(k8s_tools))
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "state"))
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)


def ci_values(chart: str) -> list[Path]:
    return sorted((charts.chart_path(chart) / "ci").glob("*-values.yaml"))


def by_kind(manifests: list[dict]) -> dict[str, dict]:
    return {m["kind"]: m for m in manifests}


def container(manifests: list[dict]) -> dict:
    (only,) = by_kind(manifests)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


@pytest.mark.parametrize("chart", charts.CHARTS)
def test_every_values_file_renders_valid_manifests_named_by_the_release_and_lints_clean(chart):
    assert ci_values(chart), f"{chart} has no ci/*-values.yaml"
    for values in [None, *ci_values(chart)]:
        manifests = charts.render(chart, values, release=RELEASE, namespace=NS)
        assert charts.validate(manifests) == [], values
        kinds = sorted(m["kind"] for m in manifests)
        assert kinds == (
            ["ConfigMap", "Deployment", "Ingress", "Service"] if chart == "api" else ["ConfigMap", "Deployment"]
        )
        for m in manifests:
            assert m["metadata"]["name"] == RELEASE + SUFFIXES[m["kind"]]
            assert m["metadata"]["namespace"] == NS
            labels = m["metadata"]["labels"]
            assert labels["app.kubernetes.io/instance"] == RELEASE and labels["app.kubernetes.io/name"] == chart
            assert labels["helm.sh/chart"].startswith(f"{chart}-")
        lint = charts.lint(chart, values)
        assert lint.ok and lint.errors == [], str(lint)


def test_api_defaults_run_next_to_lab_05s_database_queue_and_secrets():
    manifests = charts.render("api", release=RELEASE, namespace=NS)
    kinds = by_kind(manifests)
    deployment = kinds["Deployment"]["spec"]
    assert deployment["progressDeadlineSeconds"] == 60 and deployment["revisionHistoryLimit"] == 5
    assert deployment["replicas"] == 2
    c = container(manifests)
    assert c["image"] == "visualizing-compute/sample-api:1.0.0"
    assert c["readinessProbe"]["httpGet"] == {"path": "/api/healthz", "port": "http"}
    assert c["envFrom"] == [{"configMapRef": {"name": f"{RELEASE}-config"}}]
    secret_env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"]}
    assert secret_env == {
        "DATABASE_URL": {"name": "db-credentials", "key": "DATABASE_URL"},
        "OS_CLOUD": {"name": "app-cloud", "key": "OS_CLOUD"},
    }
    assert kinds["ConfigMap"]["data"] == {
        "PORT": "8080",
        "QUEUE_URL": "redis://queue:6379/0",
        "UPLOADS_CONTAINER": "uploads",
        "OS_CLIENT_CONFIG_FILE": "/etc/openstack/clouds.yaml",
    }
    (volume,) = deployment["template"]["spec"]["volumes"]
    assert volume["secret"] == {"secretName": "app-cloud", "items": [{"key": "clouds.yaml", "path": "clouds.yaml"}]}
    assert c["volumeMounts"] == [{"name": "cloud", "mountPath": "/etc/openstack", "readOnly": True}]
    # the selector is the name and the release: two releases of one chart never take each other's pods
    assert kinds["Service"]["spec"]["selector"] == {
        "app.kubernetes.io/name": "api",
        "app.kubernetes.io/instance": RELEASE,
    }
    (rule,) = kinds["Ingress"]["spec"]["rules"]
    assert "host" not in rule and "ingressClassName" not in kinds["Ingress"]["spec"]  # the cluster's default class
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/api" and path["backend"]["service"] == {
        "name": f"{RELEASE}-service",
        "port": {"number": 8080},
    }


def test_api_with_the_labs_values_env_pvc_volumes_and_a_class():
    values = yaml.safe_load((charts.chart_path("api") / "ci" / "registry-values.yaml").read_text())
    values["ingress"]["className"] = "sandbox"
    values["env"].append({"name": "QUEUE_URL", "value": "redis://queue.other:6379/1"})
    values["volumes"] = [{"name": "cache", "persistentVolumeClaim": {"claimName": "api-cache"}}]
    values["volumeMounts"] = [{"name": "cache", "mountPath": "/cache"}]
    manifests = charts.render("api", values, release="lab", namespace="learner")
    assert charts.validate(manifests) == []
    kinds = by_kind(manifests)
    c = container(manifests)
    assert c["image"] == "registry.example/learner/sample-app/api:sha-1a2b3c4"
    data = kinds["ConfigMap"]["data"]
    assert data["APP_VERSION"] == "sha-1a2b3c4" and data["QUEUE_URL"] == "redis://queue.other:6379/1"  # env wins
    assert [m["name"] for m in c["volumeMounts"]] == ["cloud", "cache"]
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["volumes"][1] == {"name": "cache", "persistentVolumeClaim": {"claimName": "api-cache"}}
    assert kinds["Ingress"]["spec"]["ingressClassName"] == "sandbox"
    assert kinds["Ingress"]["spec"]["rules"][0]["host"] == "sample-app.learner.example"


def test_worker_on_the_gpu_node_group_as_lab_05s_model_and_off_it_by_default():
    plain = by_kind(charts.render("worker", release="worker", namespace=NS))
    pod = plain["Deployment"]["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod and "tolerations" not in pod
    assert "nvidia.com/gpu" not in pod["containers"][0]["resources"]["requests"]
    assert "readinessProbe" not in pod["containers"][0] and "ports" not in pod["containers"][0]
    assert plain["ConfigMap"]["data"]["MODEL_URL"] == "http://model:8080"
    assert plain["ConfigMap"]["data"]["POLL_S"] == "0.5"
    gpu = by_kind(
        charts.render("worker", {"resources": {"gpu": {"enabled": True, "count": 2}}}, release="w", namespace=NS)
    )
    pod = gpu["Deployment"]["spec"]["template"]["spec"]
    model = yaml.safe_load_all((charts.chart_path("api").parents[1] / "sample-app" / "k8s" / "model.yaml").read_text())
    model_pod = next(d for d in model if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == model_pod["nodeSelector"] and pod["tolerations"] == model_pod["tolerations"]
    resources = pod["containers"][0]["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "2"
    assert resources["requests"]["cpu"] == "100m"  # the GPU is added, the rest kept


@pytest.mark.parametrize(
    ("chart", "values", "key", "reads"),
    [
        ("worker", {"gpu": {"enabled": True}}, "gpu.enabled", "the chart reads resources.gpu.enabled"),
        ("api", {"env": {"QUEUE_URL": "redis://queue:6379/0"}}, "env", "reads env as a list of {name, value}"),
        (
            "api",
            {"probes": {"readiness": {"path": "/healthz"}}},
            "probes.readiness.path",
            "readiness probe is built in",
        ),
        ("worker", {"envFrom": [{"secretRef": {"name": "x"}}]}, "envFrom", "the chart reads env"),
        ("api", {"ingress": {"hots": "a.example"}}, "ingress.hots", "ingress.enabled, ingress.className, ingress.host"),
    ],
)
def test_the_origin_projects_mistakes_are_refused_naming_the_key(chart, values, key, reads):
    with pytest.raises(charts.ValuesError) as caught:
        charts.render(chart, values, release=RELEASE, namespace=NS)
    err = caught.value
    assert isinstance(err, LabError) and err.keys == [key]
    assert err.message.startswith(key) and reads in err.message and "\n" not in err.message
    assert f"data/charts/{chart}/values.yaml" in err.hint
    lint = charts.lint(chart, values)  # helm lint refuses them too, with Helm's own words
    assert not lint.ok and any(key.split(".")[0] in m for m in lint.errors)


def test_wrong_types_patterns_and_enums_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("replicas: two\nimage:\n  tag: a:b\n  pullPolicy: Sometimes\nresources:\n  requests: {cpu: lots}\n")
    with pytest.raises(charts.ValuesError) as caught:
        charts.render("api", bad, release=RELEASE, namespace=NS)
    assert sorted(caught.value.keys) == ["image.pullPolicy", "image.tag", "replicas", "resources.requests.cpu"]
    assert "replicas is a string, but the api chart reads replicas as a whole number" in caught.value.message
    assert "IfNotPresent" in caught.value.message


def test_diff_of_two_values_files_shows_the_tag_and_replicas_only(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text("replicas: 2\nimage:\n  repository: visualizing-compute/sample-api\n  tag: '1.0.0'\n")
    new.write_text("replicas: 3\nimage:\n  repository: visualizing-compute/sample-api\n  tag: '1.1.0'\n")
    text = charts.diff("api", old, new, release=RELEASE, namespace=NS)
    changed = [ln for ln in text.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert sorted(changed) == [
        "+        image: visualizing-compute/sample-api:1.1.0",
        "+  replicas: 3",
        "-        image: visualizing-compute/sample-api:1.0.0",
        "-  replicas: 2",
    ]
    assert text.startswith(f"--- {old}\n+++ {new}\n")
    assert charts.diff("api", old, old, release=RELEASE, namespace=NS) == ""


def test_validate_names_the_object_and_field_the_cluster_refuses():
    manifests = charts.render("api", release=RELEASE, namespace=NS)
    manifests[1]["spec"]["ports"][0]["port"] = "eighty"
    by_kind(manifests)["Deployment"]["spec"]["replicaCount"] = 2
    problems = charts.validate(manifests)
    assert len(problems) == 2
    assert problems[0].startswith(f"Service/{RELEASE}-service: spec.ports.0.port:")
    assert problems[1].startswith(f"Deployment/{RELEASE}-deployment:") and "replicaCount" in problems[1]
    assert "custom resource" in charts.validate([{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application"}])[0]


def test_unknown_chart_and_bad_release_say_what_to_use(tmp_path):
    with pytest.raises(UsageError, match="Use one of: api, worker"):
        charts.chart_path("web")
    with pytest.raises(UsageError, match="DNS label"):
        charts.render("api", release="Sample_API", namespace=NS)
    with pytest.raises(UsageError, match="does not exist"):
        charts.render("api", tmp_path / "missing.yaml", release=RELEASE, namespace=NS)
    with pytest.raises(UsageError, match="no Chart.yaml"):
        charts.lint(tmp_path)
