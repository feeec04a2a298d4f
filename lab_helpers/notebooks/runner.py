"""Run labs headless with papermill: parameters injected, progress shown, failures located.

A failure names the lab, the cell index and the error, the way papermill's own
``PapermillExecutionError`` does, and never hangs: every cell has a timeout (papermill#125).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Lab

DEFAULT_CELL_TIMEOUT_S = 600


@dataclass
class RunResult:
    lab: str
    title: str
    ok: bool
    seconds: float
    output: Path
    cell_index: int | None = None
    error: str = ""

    def line(self) -> str:
        if self.ok:
            return f"{self.lab}  ok      {self.seconds:6.1f} s  {self.title}"
        where = f"cell {self.cell_index}" if self.cell_index is not None else "before any cell"
        return f"{self.lab}  FAILED  {self.seconds:6.1f} s  {self.title}: {where}: {self.error}"


def _learner_copy(lab: Lab, folder: Path) -> Path:
    import nbformat

    from .authoring import learner_version

    nb = nbformat.read(lab.path, as_version=4)
    path = folder / f"{lab.name}.learner.ipynb"
    nbformat.write(learner_version(nb), path)
    return path


def run_lab(
    lab: Lab,
    *,
    backend: str = "sandbox",
    out_dir: Path | None = None,
    learner: bool = False,
    progress: bool = False,
    cell_timeout_s: int = DEFAULT_CELL_TIMEOUT_S,
    parameters: dict | None = None,
) -> RunResult:
    """Execute ``lab`` top to bottom (its solved source, or the learner version)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="lab-run-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    source = _learner_copy(lab, out_dir) if learner else lab.path
    output = out_dir / (f"{lab.name}.learner.out.ipynb" if learner else f"{lab.name}.out.ipynb")
    params = {"BACKEND": backend, **(parameters or {})}
    started = time.perf_counter()
    try:
        pm.execute_notebook(
            str(source),
            str(output),
            parameters=params,
            kernel_name="python3",
            progress_bar=progress,
            cwd=str(out_dir),
            execution_timeout=cell_timeout_s,
        )
    except PapermillExecutionError as exc:
        return RunResult(lab.number, lab.title, False, time.perf_counter() - started, output, exc.cell_index, f"{exc.ename}: {exc.evalue}")
    except Exception as exc:  # kernel died, timeout, missing kernel
        return RunResult(lab.number, lab.title, False, time.perf_counter() - started, output, None, f"{type(exc).__name__}: {exc}")
    return RunResult(lab.number, lab.title, True, time.perf_counter() - started, output)
