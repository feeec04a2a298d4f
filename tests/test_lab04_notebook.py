"""Lab 04 under papermill on the sandbox: cleans up, re-runs duplicate nothing, a crash is cleaned."""

from __future__ import annotations

import ast
import time

import nbformat
from test_lab03_notebook import LEARNER, cells_until, crash_cell, execute, lab, lab_cleanup, leftovers, sandbox_env  # noqa: F401

from lab_helpers.checks.artifacts import artifact_names
from lab_helpers.notebooks.authoring import learner_version
from lab_helpers.notebooks.runner import run_lab


def test_lab04_runs_fast_and_leaves_nothing(sandbox_env, tmp_path):
    started = time.perf_counter()
    result = run_lab(lab("04"), backend="sandbox", out_dir=tmp_path)
    seconds = time.perf_counter() - started
    assert result.ok, f"cell {result.cell_index}: {result.error}"
    assert seconds < 60, f"lab 04 took {seconds:.1f} s"
    print(f"lab 04 under papermill: {seconds:.1f} s")
    assert leftovers(sandbox_env, "04") == []
    out = nbformat.read(result.output, as_version=4)
    figures = [
        o for c in out.cells for o in c.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(figures) == 2
    block_fig = figures[0]["data"]["application/vnd.plotly.v1+json"]
    assert "page cache" in block_fig["layout"]["title"]["text"]


def test_lab04_rerun_duplicates_nothing_and_a_crash_is_cleaned(sandbox_env, tmp_path):
    conn = sandbox_env
    nb = nbformat.read(lab("04").path, as_version=4)
    # up to the measurement: server, volume attached; run twice
    upto_measure = cells_until(nb, "measure_block_io(")
    for run in ("first", "second"):
        assert execute(upto_measure, tmp_path, run) is None
    assert [s.name for s in conn.compute.servers()].count(f"course-{LEARNER}-04-vm") == 1
    assert [v.name for v in conn.block_storage.volumes()].count(f"course-{LEARNER}-04-data") == 1
    volume = conn.block_storage.find_volume(f"course-{LEARNER}-04-data")
    assert volume.status == "in-use" and len(volume.attachments) == 1

    # the whole lab but its cleanup cell, twice: objects are overwritten, not duplicated
    body = nb.cells[:-1]
    for run in ("third", "fourth"):
        assert execute(body, tmp_path, run) is None
    found = leftovers(conn, "04")
    assert sorted({f.kind for f in found}) == [
        "container",
        "floating_ip",
        "keypair",
        "object",
        "security_group",
        "server",
    ]
    assert sum(1 for f in found if f.kind == "container") == 3
    assert sum(1 for f in found if f.kind == "object") == 14  # 9 logs and 1 through S3, 3 videos, 1 state: no copies
    assert lab_cleanup("04")
    assert leftovers(conn, "04") == []

    # crash with the volume attached and a snapshot taken
    crashed = execute(cells_until(nb, "create_snapshot(") + [crash_cell()], tmp_path, "crash")
    assert crashed is not None
    kinds = {f.kind for f in leftovers(conn, "04")}
    assert {"attachment", "snapshot", "volume", "server"} <= kinds
    out = lab_cleanup("04")
    assert "removed: attachment" in out and "removed: snapshot" in out and "removed: volume" in out
    assert leftovers(conn, "04") == []


def test_lab04_stubs_words_and_summary():
    """The placement stub's keys are the shared artifact names; the cleanup prose does not give the order
    before its exercise; no unexplained "seed"; a What you saw."""
    nb = nbformat.read(lab("04").path, as_version=4)
    assert not any("seed" in c.source.lower() for c in nb.cells)
    learner = learner_version(nb)
    where = next(c for c in learner.cells if c.get("id") == "a2b356cc")
    stub = next(
        node
        for node in ast.walk(ast.parse(where.source))
        if isinstance(node, ast.Assign) and node.targets[0].id == "placement"
    )
    assert sorted(k.value for k in stub.value.keys) == sorted(artifact_names())
    assert all(isinstance(v, ast.Constant) and v.value is ... for v in stub.value.values)
    ids = [c.get("id") for c in nb.cells]
    before = " ".join(c.source.lower() for c in nb.cells[: ids.index("f0a93c52")] if c.cell_type == "markdown")
    assert "floating ip, any attachment, the server" not in before and "then their containers" not in before
    summary = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## What you saw" in c.source]
    assert summary and ids.index("f0a93c52") < summary[0] < ids.index("d0a26b10")
