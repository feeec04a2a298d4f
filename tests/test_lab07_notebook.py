"""Lab 07 end to end on the sandbox, read from its one solved execution of the test run (shared with the notebook
suite and the website): sized from the reference measurements (a solved run reads no lab 01 measurements, and says so), the
two figures drawn, the second design's Jetstream2 half built as VMs of its flavors, the api deployed by its
Application answering through the ingress with the requests the design sized, nothing left after the cleanup."""

from __future__ import annotations

import re

import nbformat
import pytest

from lab_helpers.catalog import find_lab

RATES, ROOFLINE, FIGURE, CLUSTER, DEPLOY = "7a0e0006", "7a0e000a", "7a0e0019", "7a0e001b", "7a0e0020"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def lab07(executed_labs):
    result = executed_labs.result(find_lab("07"))
    assert result.ok, f"lab 07: cell {result.cell_index}: {result.error}"
    return nbformat.read(result.output, as_version=4)


def _cell(nb, cell_id: str):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _text(nb, cell_id: str) -> str:
    outputs = _cell(nb, cell_id).get("outputs", [])
    return "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")) for o in outputs)


def test_every_automatic_check_passes_and_the_note_is_recorded(lab07):
    lines = [line for c in lab07.cells if c.cell_type == "code" for line in _text(lab07, c.id).splitlines()]
    passed = sorted({m.group(1) for line in lines if (m := re.match(r"^✔ (07\.[\w-]+) passed", line))})
    assert passed == [
        "07.api-values",
        "07.bound",
        "07.compute",
        "07.designs",
        "07.network",
        "07.storage",
        "07.su-month",
    ], lines
    assert any(line.startswith("✎ 07.design-note recorded") for line in lines)


def test_the_solved_run_sizes_from_the_references_and_says_so(lab07):
    text = _text(lab07, RATES)
    assert "No lab 01 measurements are read by this run (not your own copy of the lab)" in text
    assert text.count("reference: ") == 6 and "yours:" not in text


def test_both_figures_are_drawn(lab07):
    for cell_id, traces in ((ROOFLINE, 6), (FIGURE, 3)):
        data = [o["data"][PLOTLY] for o in _cell(lab07, cell_id).get("outputs", []) if PLOTLY in o.get("data", {})]
        assert data and len(data[0]["data"]) >= traces, cell_id


def test_the_second_designs_nodes_carry_the_api_that_answers(lab07):
    nodes = _text(lab07, CLUSTER)
    assert "m3.tiny VM requested (worker)" in nodes and nodes.count("m3.tiny VM requested") == 2
    deployed = _text(lab07, DEPLOY)
    assert "Synced / Healthy" in deployed
    assert "/api/healthz -> {'ok': True}" in deployed and "/api/version -> {'version': '1.0.0'}" in deployed
    api_pods = [line for line in deployed.splitlines() if line.startswith("capstone-api-deployment-")]
    assert len(api_pods) == 2 and all(" Running " in line for line in api_pods)
    assert len({line.split()[6] for line in api_pods}) == 2, "one api pod on each worker"


def test_the_cleanup_leaves_nothing_of_lab_07(lab07):
    from lab_helpers.checks.lab07 import probe_leftovers
    from lab_helpers.cloud import connect_cloud
    from lab_helpers.deploy import git as forge

    assert probe_leftovers(connect_cloud("sandbox")) == {"left": [], "not_checked": []}
    assert forge.remote_head("infra") is None
