"""Grading completed labs: release, submit, grade (isolated, hidden checks outside the kernel).

``lab release`` writes learner versions and keys (:mod:`.release`, :mod:`.key`); ``lab submit``
stamps a learner's notebook (:mod:`.submit`); ``lab grade`` runs the ordered steps of
:mod:`.pipeline` for each submission (sanitise, execute in its own namespaces under limits,
capture answers as JSON, judge in this process) and writes the gradebook, feedback and class
summary (:mod:`.gradebook`, :mod:`.feedback`, :mod:`.summary`, :mod:`.manual`).
"""

# The modules the labs import from (each pins its own names in ``__all__``; tests/test_public_api.py).
__all__ = ["hidden"]
