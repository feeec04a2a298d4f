"""Labs 03, 04 and 05 against a live cloud (Jetstream2) and cluster: the same notebooks, then nothing of theirs left;
lab 06's deploy file on a live Argo CD.

Skipped without credentials (OS_CLOUD with a clouds.yaml, or OS_AUTH_URL). Each run launches an
m3.tiny for a few minutes (a few SUs).
"""

from __future__ import annotations

import os

import pytest

from lab_helpers.backends.live import has_cloud_credentials
from lab_helpers.catalog import all_labs
from lab_helpers.notebooks.runner import run_lab


def has_kubeconfig() -> bool:
    from lab_helpers.config import kubeconfig_path

    return kubeconfig_path().is_file()


pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not has_cloud_credentials(), reason="no cloud credentials (OS_CLOUD + clouds.yaml)"),
]


@pytest.mark.parametrize("number", ["03", "04"])
def test_lab_runs_live_and_cleans_up(number, tmp_path):
    from lab_helpers.cloud import connect_cloud
    from lab_helpers.config import learner_id
    from lab_helpers.resources.inventory import find

    lab = next(x for x in all_labs() if x.number == number)
    result = run_lab(lab, backend="live", out_dir=tmp_path, cell_timeout_s=900)
    conn = connect_cloud("live")
    left = find(conn, learner=learner_id(), lab=number)
    if left:  # never leave SUs burning because an assertion failed
        from lab_helpers.resources.cleanup import cleanup

        cleanup(conn, learner=learner_id(), lab=number)
    assert result.ok, f"cell {result.cell_index}: {result.error}"
    assert left == []


@pytest.mark.skipif(
    not (has_kubeconfig() and os.environ.get("LAB_LIVE_IMAGES")),
    reason="no live cluster (KUBECONFIG) or no registry path of the sample app's images (LAB_LIVE_IMAGES)",
)
def test_lab_05_runs_on_a_live_cluster_and_cleans_up(tmp_path):
    """Lab 05 on your cluster (a Magnum cluster on Jetstream2, or any): its images pushed to the registry
    path in LAB_LIVE_IMAGES (docker build --target api|web|worker|model data/sample-app), tags 1.0.0 and 1.1.0."""
    from lab_helpers.cloud import connect_cloud
    from lab_helpers.config import learner_id
    from lab_helpers.resources.inventory import find

    lab = next(x for x in all_labs() if x.number == "05")
    result = run_lab(
        lab, backend="live", out_dir=tmp_path, cell_timeout_s=900, parameters={"IMAGES": os.environ["LAB_LIVE_IMAGES"]}
    )
    conn = connect_cloud("live")
    left = find(conn, learner=learner_id(), lab="05")
    if left:
        from lab_helpers.resources.cleanup import cleanup

        cleanup(conn, learner=learner_id(), lab="05")
    assert result.ok, f"cell {result.cell_index}: {result.error}"
    assert left == []


@pytest.mark.skipif(
    not (has_kubeconfig() and os.environ.get("LAB_LIVE_INFRA_REPO") and os.environ.get("LAB_LIVE_IMAGE")),
    reason="no live cluster with Argo CD (KUBECONFIG), no infra repository it can read (LAB_LIVE_INFRA_REPO) or no "
    "api image (LAB_LIVE_IMAGE: repository:tag)",
)
def test_lab_06_application_syncs_on_a_live_argo_cd():
    """Lab 06's second file on a real Argo CD: ``deploy/application.yaml`` as the course ships it, pointed at your
    infra repository (a copy of the course's ``charts/``, on GitHub) and your api image (built by the workflow of
    ``data/push-to-deploy/app`` on GitHub Actions and pushed to ghcr.io), applied to the cluster's ``argocd``
    namespace; Synced and Healthy, then deleted with what it made. The database and queue the api needs are
    lab 05's manifests, applied first."""
    import time
    from string import Template

    import yaml
    from kubernetes import client, config

    from lab_helpers.deploy import gitops
    from lab_helpers.deploy.pipeline import template
    from lab_helpers.kube import sample_app
    from lab_helpers.marks import Marks

    api = config.new_client_from_config(config_file=os.environ.get("KUBECONFIG"))
    core = client.CoreV1Api(api)
    namespace = Marks.for_lab("06").name("live")
    repository, _, tag = os.environ["LAB_LIVE_IMAGE"].rpartition(":")
    owner, registry = repository.split("/")[-3], "/".join(repository.split("/")[:-3])
    text = Template(template("app/deploy/application.yaml")).substitute(
        RELEASE="sample-api",
        INFRA_REPO=os.environ["LAB_LIVE_INFRA_REPO"],
        REGISTRY=registry,
        OWNER=owner,
        NAMESPACE=namespace,
    )
    app = yaml.safe_load(text)
    app["spec"]["source"]["helm"]["valuesObject"]["image"] = {"repository": repository, "tag": tag}
    core.create_namespace({"metadata": {"name": namespace, "labels": Marks.for_lab("06").labels()}})
    try:
        clouds = yaml.safe_dump({"clouds": {"openstack": {"auth": {}}}})  # the api's object store is not exercised
        sample_app.deploy(api, namespace, clouds_yaml=clouds, parts=("db", "queue"))
        gitops.apply(app, api=api)
        synced = gitops.wait_for("sample-api", timeout=600, api=api)
        assert synced["status"]["sync"]["status"] == "Synced" and synced["status"]["health"]["status"] == "Healthy"
        names = {r["name"] for r in synced["status"]["resources"]}
        assert {"sample-api-deployment", "sample-api-service", "sample-api-config"} <= names
    finally:
        gitops.delete("sample-api", wait_s=300, api=api)
        core.delete_namespace(namespace)
        for _ in range(300):
            if namespace not in {n.metadata.name for n in core.list_namespace().items}:
                break
            time.sleep(1)
