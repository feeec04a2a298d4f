"""Lab 03 under papermill on the sandbox: it cleans up after itself, a re-run duplicates nothing,
and a run that crashes after the server exists leaves nothing `lab cleanup` cannot find."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import lab_command
from sandbox_fixtures import fresh_sandbox

from lab_helpers.catalog import all_labs
from lab_helpers.notebooks.runner import run_lab

LEARNER = "nb-tester"


@pytest.fixture(scope="module")
def sandbox_env(tmp_path_factory):
    """A sandbox of our own (fast boots) and a learner id of our own; stopped at the end."""
    state = tmp_path_factory.mktemp("nb-state")
    with fresh_sandbox(state, learner=LEARNER, boot_s="0.3"):
        from lab_helpers.cloud import connect_cloud

        yield connect_cloud("sandbox")


def lab(number: str):
    return next(x for x in all_labs() if x.number == number)


def execute(cells: list, folder: Path, name: str) -> Exception | None:
    """Run a copy of a lab made of ``cells``; return the error it stopped on (None if it ran through)."""
    import papermill as pm

    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    try:
        pm.execute_notebook(
            str(path),
            str(folder / f"{name}.out.ipynb"),
            parameters={"BACKEND": "sandbox"},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(folder),
            execution_timeout=300,
        )
    except Exception as exc:  # papermill raises PapermillExecutionError for the failing cell
        return exc
    return None


def cells_until(nb, needle: str) -> list:
    """The lab's cells up to and including the first code cell containing ``needle``."""
    out = []
    for cell in nb.cells:
        out.append(cell)
        if cell.cell_type == "code" and needle in cell.source:
            return out
    raise AssertionError(f"no cell contains {needle!r}")


def crash_cell():
    return nbformat.v4.new_code_cell('raise RuntimeError("the kernel died here")')


def leftovers(conn, number: str) -> list:
    from lab_helpers.resources.inventory import find

    return find(conn, learner=LEARNER, lab=number)


def lab_cleanup(number: str) -> str:
    done = subprocess.run(
        lab_command() + ["cleanup", "--lab", number, "--backend", "sandbox"],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_lab03_runs_fast_and_leaves_nothing(sandbox_env, tmp_path):
    started = time.perf_counter()
    result = run_lab(lab("03"), backend="sandbox", out_dir=tmp_path)
    seconds = time.perf_counter() - started
    assert result.ok, f"cell {result.cell_index}: {result.error}"
    assert seconds < 60, f"lab 03 took {seconds:.1f} s"
    print(f"lab 03 under papermill: {seconds:.1f} s")
    assert leftovers(sandbox_env, "03") == []
    out = nbformat.read(result.output, as_version=4)
    text = out.cells[-1].outputs[0]["data"]["text/plain"]
    assert "removed: server" in text and "SU/hour stopped" in text
    printed = "\n".join(o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))
    # the rates with their sources, the g3 rate of the newer page beside the older figure
    assert (
        "g3: 2 SU per vCPU-hour" in printed
        and "instance-flavors" in printed
        and "older version of the page said 4" in printed
    )
    # the ssh line, and why it cannot work on the sandbox
    login = next(line for line in printed.splitlines() if line.startswith("log in with: ssh"))
    address = login.rsplit("@", 1)[1].strip()
    assert "cannot be logged into" in printed and "reserved for documentation" in printed and "live backend" in printed
    import ipaddress

    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    assert any(ipaddress.ip_address(address) in net for net in documentation), (
        f"{address} is not a documentation address"
    )


def test_lab03_words_order_and_summary():
    """No unexplained "seed"; the SU/hour exercise comes before the cell that prints the rate; a What you saw."""
    nb = nbformat.read(lab("03").path, as_version=4)
    assert not any("seed" in c.source.lower() for c in nb.cells)
    ids = [c.get("id") for c in nb.cells]
    assert ids.index("e9d40b6a") < ids.index("cdd9e38c")  # exercise, then the meter that prints the rate
    summary = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## What you saw" in c.source]
    assert summary and summary[0] < ids.index("4c5e598b")


def test_lab03_rerun_duplicates_nothing_and_a_crash_is_cleaned(sandbox_env, tmp_path):
    conn = sandbox_env
    nb = nbformat.read(lab("03").path, as_version=4)
    body = nb.cells[:-1]  # everything but the cleanup cell
    for run in ("first", "second"):
        assert execute(body, tmp_path, run) is None
    name = f"course-{LEARNER}-03-vm"
    assert [s.name for s in conn.compute.servers()].count(name) == 1
    assert len(list(conn.network.ips())) == 1
    assert [g.name for g in conn.network.security_groups()].count(f"course-{LEARNER}-03-ssh") == 1
    kinds = sorted(f.kind for f in leftovers(conn, "03"))
    assert kinds == ["floating_ip", "keypair", "security_group", "server"]
    assert "removed: server" in lab_cleanup("03")
    assert leftovers(conn, "03") == []

    # the kernel dies right after create_server: the half-made lab is still found and removed
    crashed = execute(cells_until(nb, "conn.compute.create_server(") + [crash_cell()], tmp_path, "crash")
    assert crashed is not None and "the kernel died here" in str(crashed)
    assert conn.compute.find_server(name) is not None
    out = lab_cleanup("03")
    assert "removed: server" in out and "removed: keypair" in out
    assert leftovers(conn, "03") == [] and conn.compute.find_server(name) is None
