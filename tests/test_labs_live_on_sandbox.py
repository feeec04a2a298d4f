"""Every lab's live path, run against the sandbox's APIs presented as a live cloud.

The sandbox's clouds.yaml entry is copied under a name of its own (like any cloud in a learner's
clouds.yaml), ``OS_CLOUD`` names it and the labs run with ``BACKEND = "live"``. Cells whose live
path needs only the APIs run for real; the parts that need more (a GPU, ssh into a VM the cloud
handed out, a Delta login node) are skipped by the live backend, which prints why.
"""

from __future__ import annotations

import time

import pytest
import yaml
from test_notebooks import _check_lines, _leaks, _outputs_text

from lab_helpers.catalog import all_labs
from lab_helpers.notebooks.runner import run_lab

pytestmark = pytest.mark.timeout(600)

CLOUD = "ci-openstack"  # the name a learner's clouds.yaml might use
LABS = [lab for lab in all_labs() if lab.number in ("00", "01", "02", "03", "04")]
# What the live backend prints in each lab on this machine: no GPU, no VM to log into, no sbatch.
SKIPS = {
    "00": [],
    "01": ["skipped: the GPU: the live backend measures it with CuPy"],
    "02": ["skipped: the GPU: the live backend measures it with CuPy"],
    "03": [],
    "04": ["skipped: measuring volume", "needs ssh to a VM the cloud handed out"],
}
# Printed once the lab's cell asks the backend (the method named) instead of comparing its name.
SKIPS_WHEN_ASKED = {
    "02": ("can_submit_jobs", "skipped: submitting to Slurm needs a Delta login node"),
    "03": ("login_note", "(skipped: "),
}


@pytest.fixture(scope="module")
def live_cloud(tmp_path_factory):
    """A running sandbox, and a learner-style clouds.yaml naming it CLOUD (its project credential only)."""
    state = tmp_path_factory.mktemp("live-on-sandbox")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_STATE_DIR", str(state))
        mp.setenv("LAB_SANDBOX_BOOT_S", "0.2")
        mp.setenv("LAB_BENCH_ELEMENTS", "200000")  # lab 01 on the CPU: the same cells, smaller arrays
        from lab_helpers import sandbox as sb

        service = sb.start()
        try:
            theirs = yaml.safe_load(service.clouds_yaml.read_text())["clouds"]
            entry = theirs[next(name for name, c in theirs.items() if "admin" not in name)]
            mine = state / "openstack" / "clouds.yaml"
            mine.parent.mkdir()
            mine.write_text(yaml.safe_dump({"clouds": {CLOUD: entry}}))
            mine.chmod(0o600)
            mp.setenv("OS_CLIENT_CONFIG_FILE", str(mine))
            mp.setenv("OS_CLOUD", CLOUD)
            mp.setenv("LAB_BACKEND", "live")
            yield CLOUD
        finally:
            sb.stop()


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.number)
def test_lab_live_path_runs_on_the_sandbox(lab, live_cloud, tmp_path):
    from lab_helpers.backends import Live
    from lab_helpers.config import learner_id
    from lab_helpers.resources.inventory import find

    started = time.perf_counter()
    result = run_lab(lab, backend="live", out_dir=tmp_path, cell_timeout_s=300)
    seconds = time.perf_counter() - started
    assert result.ok, f"lab {lab.number} live: cell {result.cell_index}: {result.error}"
    text = _outputs_text(result.output)
    assert "backend 'live'" in text and (lab.number != "03" or f"cloud {live_cloud!r}" in text)
    expected = list(SKIPS[lab.number])
    method, line = SKIPS_WHEN_ASKED.get(lab.number, ("", ""))
    if method and method in lab.path.read_text(encoding="utf-8"):
        expected.append(line)
    missing = [s for s in expected if s not in text]
    assert not missing, f"lab {lab.number} live did not print: {missing}"
    wrong = [c for c in _check_lines(result.output) if not c.startswith(("✔", "✎"))]
    assert not wrong, f"lab {lab.number} live: the solution does not pass its checks: {wrong}"
    assert "a credential" not in _leaks(text)  # paths may show: on a login node the job script names its python
    assert find(Live().connect(), learner=learner_id(), lab=lab.number) == [], "the cleanup cell left resources"
    print(f"lab {lab.number} live on the sandbox: {seconds:.1f} s")
