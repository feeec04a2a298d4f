"""Hidden checks: judges that run only in the grader's process, never in the learner's kernel.

They are written in the source notebook, in code cells tagged ``hidden-check`` (dropped from the
learner's version by the release step and kept in the key's ``hidden.py``)::

    from lab_helpers.grading.hidden import hidden_check

    @hidden_check("00.a40-count", points=1, description="the answer is a whole number")
    def _(answer, context):
        return isinstance(answer, int) and answer == 400

A ``state_check`` instead judges a snapshot of the backend (cloud labs): its probe reads the
submission's own sandbox right after the check's cell, outside the kernel.

A judge receives the answer and context the grader captured as JSON and returns a ``Verdict``,
a number in [0, 1] or a bool. Its message and source are never shown to the learner: feedback
names the description and the points only.

Running such a cell in a kernel only records the judge; nothing is judged there.

Probes are not secret, judges are: a state check's probe is a course function
(``lab_helpers.checks.labNN:probe_x``) that the hidden cell imports, so a grading pod, which never
sees the key, can run it by name (:func:`state_probes`, :func:`probe_source`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["hidden_check", "probe_source", "state_check", "state_probes"]

HIDDEN_SUFFIX = ":hidden"
STATE_SUFFIX = ":state"


@dataclass(frozen=True)
class HiddenCheck:
    check: str
    points: float
    description: str
    judge: Callable[[Any, dict], Any]
    probe: Callable[[Any], Any] | None = None  # state checks: what to read from the backend
    after: str = ""  # state checks: the id of the cell after which to probe ("" = the check's own cell)
    part: str = ""  # state checks: the column's suffix when one check has several ("" = "state")

    @property
    def column(self) -> str:
        if self.probe is None:
            return self.check + HIDDEN_SUFFIX
        return f"{self.check}:{self.part}" if self.part else self.check + STATE_SUFFIX

    @property
    def is_state(self) -> bool:
        return self.probe is not None


_declared: list[HiddenCheck] = []


def hidden_check(check: str, *, points: float, description: str) -> Callable:
    """Declare the hidden part of check ``check``, worth ``points``."""

    def wrap(judge: Callable[[Any, dict], Any]) -> Callable[[Any, dict], Any]:
        _declared.append(HiddenCheck(check, float(points), description, judge))
        return judge

    return wrap


def state_check(
    check: str, *, points: float, description: str, probe: Callable[[Any], Any], after: str = "", part: str = ""
) -> Callable:
    """Declare a state check: ``probe(conn)`` reads the backend right after the check's cell ran.

    The probe runs in the grader's executor, inside the submission's own namespace, against the
    submission's own backend (its fresh sandbox), and returns JSON-serialisable data: a snapshot.
    The decorated judge then scores ``(snapshot, context)`` in the grader's process, and only when
    the check's own exercise was answered (resources the given cells made earn nothing alone).

    ``after`` names another cell (by id) to probe after instead, e.g. the cleanup cell, to see that
    the lab's resources are gone, or a given cell that attaches a volume the lab deletes later.
    ``part`` names the column (``NN.check:part``) when one check carries several state checks.
    A probe that does not answer within the ``probe_s`` limit scores 0 with a note.
    """

    def wrap(judge: Callable[[Any, dict], Any]) -> Callable[[Any, dict], Any]:
        _declared.append(HiddenCheck(check, float(points), description, judge, probe, after, part))
        return judge

    return wrap


def load_hidden(source: str) -> list[HiddenCheck]:
    """The hidden checks declared by ``source`` (the key's hidden.py), in order."""
    if not source.strip():
        return []
    start = len(_declared)
    exec(compile(source, "<hidden checks>", "exec"), {"__name__": "lab_hidden_checks"})  # instructor's own code
    found = _declared[start:]
    del _declared[start:]
    columns = [h.column for h in found]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        from ..errors import UsageError

        raise UsageError(
            f"hidden checks declared twice: {', '.join(duplicates)}.",
            hint="Keep one @hidden_check per public check; combine the tests inside one judge.",
        )
    return found


@dataclass(frozen=True)
class HiddenOutcome:
    column: str
    points: float
    earned: float
    status: str  # passed | partial | failed | not done
    note: str  # for the instructor's log only, never the learner's feedback


def judge_hidden(hidden: HiddenCheck, answer: Any, context: dict, *, answered: bool) -> HiddenOutcome:
    """Run a hidden judge; it never raises, a crash scores 0 with a note for the instructor."""
    if not answered:
        return HiddenOutcome(hidden.column, hidden.points, 0.0, "not done", "no answer captured")
    try:
        verdict = hidden.judge(answer, dict(context))
    except Exception as exc:
        return HiddenOutcome(hidden.column, hidden.points, 0.0, "failed", f"judge raised {type(exc).__name__}: {exc}")
    if isinstance(verdict, (bool, int, float)):
        score, note = float(verdict), ""
    else:
        score, note = float(getattr(verdict, "score", 0.0)), str(getattr(verdict, "message", ""))
    score = min(1.0, max(0.0, score))
    status = "passed" if score >= 1.0 else "partial" if score > 0 else "failed"
    return HiddenOutcome(hidden.column, hidden.points, round(score * hidden.points, 4), status, note)


# -- probes by name: what a grading pod runs without the key ---------------------------------------

PROBE_HOME = "lab_helpers.checks."
_PROBE_NAME = re.compile(r"^lab_helpers\.checks\.[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


def named_probe(name: str) -> Callable[[Any], Any]:
    """The probe ``lab_helpers.checks.labNN:probe_x`` (a course function, importable in a grading pod)."""
    from importlib import import_module

    if not _PROBE_NAME.match(name):
        raise ValueError(f"not a probe of the course's checks: {name!r}")
    module, attribute = name.split(":")
    probe = getattr(import_module(module), attribute, None)
    if not callable(probe):
        raise ValueError(f"{module} has no probe {attribute!r}")
    return probe


def probe_name(hidden: HiddenCheck) -> str:
    """``module:name`` of a state check's probe when it can be imported by that name; "" when it cannot."""
    probe = hidden.probe
    if probe is None:
        return ""
    name = f"{getattr(probe, '__module__', '')}:{getattr(probe, '__qualname__', '')}"
    try:
        return name if named_probe(name) is probe else ""
    except (ImportError, ValueError):
        return ""


def state_probes(hidden: list[HiddenCheck]) -> list[dict[str, str]]:
    """What runs the state checks elsewhere: each probe's name and when it runs; no judge, points or description.

    Raises UsageError naming the first check whose probe is defined in the key itself (a grading pod,
    which never sees the key, could not run it).
    """
    out = []
    for h in hidden:
        if not h.is_state:
            continue
        name = probe_name(h)
        if not name:
            from ..errors import UsageError

            where = getattr(h.probe, "__qualname__", repr(h.probe))
            raise UsageError(
                f"state check {h.column}'s probe {where} is defined in the key, and the key never enters a "
                f"grading pod: move the probe into lab_helpers/checks/lab{h.check.split('.')[0]}.py and import it "
                "in the hidden-check cell.",
                hint="Or grade this lab on one machine: lab grade --jobs N (without --on kubernetes).",
            )
        out.append({"check": h.check, "part": h.part, "after": h.after, "probe": name})
    return out


def probe_source(probes: list[dict[str, str]]) -> str:
    """Declarations the executor loads in place of the key: the same probes at the same cells, judging nothing.

    The executor probes the submission's own backend after the named cells and logs the snapshots as
    data; the grader judges them in its own process with the key's judges.
    """
    if not probes:
        return ""
    lines = [
        "from lab_helpers.grading.hidden import named_probe, state_check",
        "",
        "",
        "def _judged_by_the_grader(snapshot, context):",
        "    return 0",
        "",
        "",
    ]
    for p in probes:
        if not _PROBE_NAME.match(str(p["probe"])):
            raise ValueError(f"not a probe of the course's checks: {p['probe']!r}")
        lines.append(
            f"state_check({str(p['check'])!r}, points=0, description='', probe=named_probe({str(p['probe'])!r}), "
            f"after={str(p.get('after', ''))!r}, part={str(p.get('part', ''))!r})(_judged_by_the_grader)"
        )
    return "\n".join(lines) + "\n"
