"""Each lab's solved version executed once per pytest run on the sandbox, shared by every test that
reads its outputs (the notebook suite, the website). CI pays for one execution of each lab: the fixture is
registered once, in conftest.py (imported into each test module it would run again per module).

The runs land in a session temp folder, one folder per lab (a lab writes files beside itself), and a
failed run is kept too, so a second test asking for it reports the same failure without running again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab_helpers.catalog import Lab
from lab_helpers.notebooks.runner import RunResult, run_lab

CELL_TIMEOUT_S = 300


class ExecutedLabs:
    """Executed solved labs, run on first request and kept for the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._results: dict[str, RunResult] = {}

    def result(self, lab: Lab) -> RunResult:
        """The run of ``lab``'s solved version on the sandbox (executed now if this session has not yet)."""
        if lab.number not in self._results:
            out = self.folder / lab.name
            self._results[lab.number] = run_lab(lab, backend="sandbox", out_dir=out, cell_timeout_s=CELL_TIMEOUT_S)
        return self._results[lab.number]

    def folder_of(self, labs: list[Lab]) -> Path:
        """One folder holding the executed notebook of each of ``labs`` (as ``lab site --executed`` reads it);
        fails the test naming the first lab that did not run."""
        joined = self.folder / "all"
        joined.mkdir(exist_ok=True)
        for lab in labs:
            result = self.result(lab)
            if not result.ok:
                pytest.fail(f"lab {lab.number} did not execute: cell {result.cell_index}: {result.error}")
            link = joined / result.output.name
            if not link.exists():
                os.symlink(result.output, link)
        return joined


@pytest.fixture(scope="session")
def executed_labs(tmp_path_factory) -> ExecutedLabs:
    return ExecutedLabs(tmp_path_factory.mktemp("executed-labs"))
