"""``lab bench grading --on kubernetes``: the Job path against local grading, on a throwaway sandbox cluster.

Grades the same solved copies of lab 00 locally (``--jobs N``) and as Kubernetes Jobs
(``--parallelism N``) on a sandbox cluster of its own temporary state directory, then prints
submissions per minute for each, the Job path's overhead per submission over local grading, and
the planning model's answer for 400 submissions in 10 minutes on Jetstream2 from the measured
seconds per Job.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ServiceError


@dataclass
class KubeBenchResult:
    submissions: int
    cores: int = os.cpu_count() or 1
    local_s: dict[int, float] = field(default_factory=dict)  # --jobs N -> wall seconds for the batch
    jobs_s: dict[int, float] = field(default_factory=dict)  # --parallelism N -> wall seconds for the batch
    per_job_s: dict[int, float] = field(default_factory=dict)  # median seconds from a Job's start to its result
    same_scores: bool = True

    def overhead_s(self, workers: int = 1) -> float:
        """Seconds per submission the Job path adds over local grading with as many workers."""
        return (self.jobs_s[workers] - self.local_s[workers]) / self.submissions

    def text(self) -> str:
        from .planning import table

        lines = [f"lab 00, {self.submissions} submissions, {self.cores} cores, sandbox cluster (process pods)"]
        for n in sorted(self.local_s):
            lines.append(
                f"local   --jobs {n}:        {self.local_s[n] / self.submissions:6.2f} s per submission "
                f"({60 * self.submissions / self.local_s[n]:5.1f} per minute)"
            )
        for n in sorted(self.jobs_s):
            lines.append(
                f"k8s --parallelism {n}:     {self.jobs_s[n] / self.submissions:6.2f} s per submission "
                f"({60 * self.submissions / self.jobs_s[n]:5.1f} per minute; {self.per_job_s[n]:.2f} s per Job)"
            )
        for n in sorted(set(self.local_s) & set(self.jobs_s)):
            over = self.overhead_s(n)
            verdict = "meets" if over < 1.5 else "misses"
            lines.append(
                f"Job path overhead with {n} worker(s): {over:+.2f} s per submission ({verdict} the 1.5 s goal)"
            )
        lines.append("identical grades.csv submission and score columns: " + ("yes" if self.same_scores else "NO"))
        if 1 in self.per_job_s:
            lines.append("plan for 400 submissions in 10 minutes on Jetstream2 (from the measured seconds per Job):")
            lines.append("  " + table({"00": self.per_job_s[1]}).replace("\n", "\n  "))
        return "\n".join(lines)


def _scores(out: Path) -> list[tuple[str, str]]:
    from ..gradebook import read_grades_csv

    return sorted((r["submission"], r["score"]) for r in read_grades_csv(out / "grades.csv"))


def run_kubernetes_bench(submissions: int = 4, workers: list[int] | tuple[int, ...] = (1, 2)) -> KubeBenchResult:
    from ...sandbox import start, stop
    from ...sandbox.service import SUBDIR
    from ..batch import grade
    from ..bench import _solved_submissions
    from .fanout import grade_on_kubernetes

    tmp = Path(tempfile.mkdtemp(prefix="lab-bench-grading-k8s-"))
    root = tmp / SUBDIR
    saved = {k: os.environ.get(k) for k in ("LAB_STATE_DIR", "KUBECONFIG")}
    result = KubeBenchResult(submissions)
    try:
        # this process's own grader reads its state directory and kubeconfig from the environment
        os.environ.update({"LAB_STATE_DIR": str(tmp), "KUBECONFIG": str(root / "kubeconfig")})
        start(root=root)
        done = subprocess.run(
            [sys.executable, "-m", "lab_helpers", "cluster", "create"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise ServiceError(
                f"the benchmark's sandbox cluster could not be made: {done.stderr.strip()[-300:]}",
                hint="Run pytest tests/test_k8s_nodes.py to see what fails.",
            )
        key, paths = _solved_submissions(tmp, submissions)
        for n in workers:
            started = time.perf_counter()
            grade("00", key, tmp / f"local-{n}", paths, jobs=n, allow_network=True, progress=False)
            result.local_s[n] = time.perf_counter() - started
        for n in workers:
            out = tmp / f"k8s-{n}"
            started = time.perf_counter()
            grade_on_kubernetes("00", key, out, paths, parallelism=n, progress=False)
            result.jobs_s[n] = time.perf_counter() - started
            from .progress import RunStatus

            result.per_job_s[n] = statistics.median(RunStatus.load(out).seconds)
            result.same_scores = result.same_scores and _scores(out) == _scores(tmp / f"local-{workers[0]}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        stop(root=root)
        shutil.rmtree(tmp, ignore_errors=True)
    return result
