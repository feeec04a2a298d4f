"""Labs 03, 04 and 05 against a live cloud (Jetstream2) and cluster: the same notebooks, then nothing of theirs left.

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
