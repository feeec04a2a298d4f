"""Labs 03 and 04 against a live cloud (Jetstream2): the same notebooks, then nothing of theirs left.

Skipped without credentials (OS_CLOUD with a clouds.yaml, or OS_AUTH_URL). Each run launches an
m3.tiny for a few minutes (a few SUs).
"""

from __future__ import annotations

import pytest

from lab_helpers.backends.live import has_cloud_credentials
from lab_helpers.catalog import all_labs
from lab_helpers.notebooks.runner import run_lab

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
