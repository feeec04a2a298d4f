"""The dashboard's JSON: the room per learner and per check, from one snapshot of the store."""

from __future__ import annotations

import time
from collections import defaultdict

from .figures import attempt_bin, check_figure
from .store import FAILING, NO_ANSWER, Snapshot

__all__ = ["course_checks", "room"]


def course_checks() -> list[str]:
    """Every check the course declares, in lab order (the names a learner may not have started)."""
    from ..catalog import all_labs
    from ..checks.registry import specs_for_lab

    names: list[str] = []
    for lab in all_labs():
        names += [s.name for s in specs_for_lab(lab.number)]
    return names


def category(status: str) -> str:
    if status in FAILING:
        return "failing"
    if status == NO_ANSWER:
        return "no answer yet"
    return status  # passed | to be graded


def room(snapshot: Snapshot, checks: list[str], now: float | None = None) -> dict:
    """Per learner: passed, failing (and how often failed), not started, last seen, resources and
    SU/hour; per check: counts, a figure, and the checks where the most learners are failing."""
    now = time.time() if now is None else now
    order = {name: i for i, name in enumerate(checks)}
    every = set(checks) | {row["check_name"] for row in snapshot.latest}  # a check newer than this course too
    seen = sorted(every, key=lambda n: (n.split(".")[0], order.get(n, len(order)), n))
    by_learner: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in snapshot.latest:
        by_learner[row["learner"]][row["check_name"]] = row

    learners: list[dict] = []
    for person in snapshot.learners:
        rows = by_learner.get(person["learner"], {})
        statuses = [category(r["status"]) for r in rows.values()]
        learners.append(
            {
                "learner": person["learner"],
                "passed": statuses.count("passed"),
                "failing": statuses.count("failing"),
                "failures": sum(r["failures"] for r in rows.values()),
                "to_be_graded": statuses.count("to be graded"),
                "not_started": len(seen) - len([s for s in statuses if s != "no answer yet"]),
                "failing_checks": sorted(n for n, r in rows.items() if r["status"] in FAILING),
                "last_seen": person["last_seen"],
                "seen_s_ago": max(0.0, round(now - person["last_seen"], 1)),
                "su_per_hour": person["su_per_hour"],
                "resources": person["resources"],
            }
        )

    out_checks: list[dict] = []
    for name in seen:
        cells: dict[tuple[str, str], list[str]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        attempts = 0
        for person in snapshot.learners:
            latest = by_learner.get(person["learner"], {}).get(name)
            if latest is None:
                key = ("not started", "not started")
            else:
                key = (category(latest["status"]), attempt_bin(latest["attempts"]))
                attempts += latest["attempts"]
            cells[key].append(person["learner"])
            counts[key[0]] += 1
        out_checks.append(
            {
                "name": name,
                "lab": name.split(".", 1)[0],
                "passed": counts["passed"],
                "failing": counts["failing"],
                "to_be_graded": counts["to be graded"],
                "not_started": counts["not started"] + counts["no answer yet"],
                "attempts": attempts,
                "figure": check_figure(name, cells),
            }
        )
    stuck = sorted((c for c in out_checks if c["failing"]), key=lambda c: (-c["failing"], -c["attempts"], c["name"]))
    return {
        "generated": now,
        "results": snapshot.results,
        "learners": learners,
        "checks": out_checks,
        "stuck": [c["name"] for c in stuck[:5]],
        "su_per_hour": round(sum(p["su_per_hour"] for p in learners), 4),
    }
