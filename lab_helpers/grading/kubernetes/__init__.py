"""Grading a class as Kubernetes Jobs: one Job per submission on the class's cluster (``lab grade --on kubernetes``).

Modules: ``manifests`` (the Job, its payload and the NetworkPolicy, with every isolation they
declare), ``transfer`` (what crosses into and out of a pod, as data), ``pod`` (the executor inside
a pod), ``cluster`` (the API calls and the reasons a Job failed), ``fanout`` (the run: queue,
retries, results as each Job ends), ``progress`` (``lab grade --status``), ``planning`` (how many
nodes grade a class in ten minutes) and ``bench`` (``lab bench grading --on kubernetes``).
"""

from .fanout import grade_on_kubernetes
from .progress import RunStatus

__all__ = ["RunStatus", "grade_on_kubernetes"]
