"""``lab bench grading``: what isolation, capture and judging cost over a plain papermill run.

Grades copies of a solved lab 00 and runs the same notebooks with papermill alone, then prints
seconds per notebook, the overhead ratio and submissions per minute for each worker count.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..config import SANDBOX


@dataclass
class BenchResult:
    submissions: int
    isolation: str
    papermill_s: float  # median seconds per notebook, one at a time
    grading_s: dict[int, float] = field(default_factory=dict)  # jobs -> wall seconds for the batch
    papermill_runs: list[float] = field(default_factory=list)
    cores: int = os.cpu_count() or 1

    def per_minute(self, jobs: int) -> float:
        return 60 * self.submissions / self.grading_s[jobs]

    def text(self) -> str:
        lines = [
            f"lab 00, {self.submissions} submissions, {self.cores} cores; {self.isolation}",
            (
                f"papermill alone:          {self.papermill_s:6.2f} s per notebook "
                f"({60 / self.papermill_s:5.1f} per minute; median of {', '.join(f'{r:.1f}' for r in self.papermill_runs)})"
            ),
        ]
        for jobs, seconds in sorted(self.grading_s.items()):
            per = seconds / self.submissions
            lines.append(
                f"lab grade --jobs {jobs}:      {per:6.2f} s per notebook ({self.per_minute(jobs):5.1f} per minute)"
            )
        if 1 in self.grading_s:
            lines.append(
                f"grading overhead (--jobs 1 against papermill): "
                f"x{self.grading_s[1] / self.submissions / self.papermill_s:4.2f}"
            )
        return "\n".join(lines)


def _solved_submissions(folder: Path, count: int) -> tuple[Path, list[str]]:
    import nbformat

    from ..catalog import find_lab
    from .release import release

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rel,) = release(["00"], folder / "release")
    source = {c.id: c for c in nbformat.read(find_lab("00").path, as_version=4).cells}
    nb = nbformat.read(rel.learner_path, as_version=4)
    from ..notebooks.authoring import BEGIN, END

    for cell in nb.cells:  # the solution as a learner would have typed it
        original = source.get(cell.get("id"))
        if original is not None and BEGIN in original.source:
            cell.source = "\n".join(line for line in original.source.splitlines() if line.strip() not in (BEGIN, END))
    subs = folder / "submissions"
    subs.mkdir()
    paths = []
    for i in range(count):
        path = subs / f"learner{i:02d}.ipynb"
        nbformat.write(nb, path)
        paths.append(str(path))
    return folder / "release" / "key", paths


def run_bench(submissions: int = 4, jobs: list[int] | tuple[int, ...] = (1, 2)) -> BenchResult:
    import papermill as pm

    from ..notebooks.runner import kernel_environment
    from .batch import grade
    from .isolation import choose_isolation

    with tempfile.TemporaryDirectory(prefix="lab-bench-") as tmp:
        folder = Path(tmp)
        key, paths = _solved_submissions(folder, submissions)
        runs = []
        for i, path in enumerate(paths):
            started = time.perf_counter()
            with kernel_environment(LAB_STATE_DIR=str(folder / "state")):  # the kernel's own state, not the learner's
                pm.execute_notebook(
                    path,
                    str(folder / f"pm{i}.ipynb"),
                    parameters={"BACKEND": SANDBOX},
                    kernel_name="python3",
                    progress_bar=False,
                    cwd=tmp,
                    execution_timeout=120,
                )
            runs.append(time.perf_counter() - started)
        result = BenchResult(submissions, choose_isolation(allow_network=True).describe(), statistics.median(runs))
        result.papermill_runs = runs
        for n in jobs:
            started = time.perf_counter()
            grade("00", key, folder / f"out-{n}", paths, jobs=n, allow_network=True, progress=False)
            result.grading_s[n] = time.perf_counter() - started
    return result
