"""Grading a class as Kubernetes Jobs: one Job per submission on the class's cluster (``lab grade --on kubernetes``).

Modules: ``manifests`` (the Job, its payload and the NetworkPolicy, with every isolation they
declare), ``transfer`` (what crosses into and out of a pod, as data), ``pod`` (the executor inside
a pod), ``cluster`` (the API calls and the reasons a Job failed), ``fanout`` (the run: queue,
retries, results as each Job ends), ``progress`` (``lab grade --status``), ``planning`` (how many
nodes grade a class in ten minutes) and ``bench`` (``lab bench grading --on kubernetes``).

Nothing is imported here: a grading pod starts ``pod`` alone, without the grader's side (the
gradebook, its figures), which would cost every pod a second of start-up.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunStatus", "grade_on_kubernetes"]


def __getattr__(name: str) -> Any:
    if name == "grade_on_kubernetes":
        from .fanout import grade_on_kubernetes

        return grade_on_kubernetes
    if name == "RunStatus":
        from .progress import RunStatus

        return RunStatus
    raise AttributeError(name)
