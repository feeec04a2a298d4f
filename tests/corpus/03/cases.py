"""Lab 03's grading corpus: the scores each submission must get, with lab 03's own state checks.

Auto-graded maximum: 14 points. Public: 03.cheapest-flavor 2, 03.open-ssh 3, 03.month-su 2,
03.su-stopped 1. Hidden: 03.month-su:hidden 1 (to the SU). On the cloud: 03.open-ssh:state 2
(the group really holds tcp 22 and nothing else), 03.su-stopped:state 1 (the server ACTIVE before
the cleanup), 03.su-stopped:cleanup 2 (nothing left after the cleanup cell). State points count
only when the exercise they hang on was answered.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, builder, fill

SETUP, CHEAPEST, SSH, MONTH, STOPPED = "59ff6abe", "2a251bb7", "e5ff6dbb", "3f5bbdaa", "e9d40b6a"
FULL = 14
SSH_RULE = (
    'ssh_rule = {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",\n'
    '            "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}'
)


def fill_rule(nb, code: str) -> None:
    """The rule's stub is a dict over two lines (its values ...): both give way to ``code``."""
    fill(nb, SSH, 'ssh_rule = {"direction": "ingress", "ethertype": "IPv4", "protocol": ...,', code)
    fill(nb, SSH, '            "port_range_min": ..., "port_range_max": ...', "")


def right(nb) -> None:
    fill(nb, CHEAPEST, "cheapest = None", 'cheapest = "m3.quad"')
    fill_rule(nb, SSH_RULE)
    fill(nb, MONTH, "month_su = None", 'month_su = su_per_hour("m3.small") * 2 * 24 * 30')
    fill(nb, STOPPED, "stopped_su_per_hour = None", "stopped_su_per_hour = su_per_hour(FLAVOR)")


def partly_wrong(nb) -> None:
    """Flavor right (2), ssh opens 22-80 (0, and 0 on the cloud), SUs per day (0), SU/hour right (1+1+2): 6."""
    fill(nb, CHEAPEST, "cheapest = None", 'cheapest = "m3.quad"')
    fill_rule(nb, SSH_RULE.replace('"port_range_max": 22', '"port_range_max": 80'))
    fill(nb, MONTH, "month_su = None", 'month_su = su_per_hour("m3.small") * 2 * 30')
    fill(nb, STOPPED, "stopped_su_per_hour = None", "stopped_su_per_hour = su_per_hour(FLAVOR)")


def wrong(nb) -> None:
    """Every exercise answered wrong but the last, left undone (so no state point is earned): 0."""
    fill(nb, CHEAPEST, "cheapest = None", 'cheapest = "m3.tiny"')
    fill_rule(nb, 'ssh_rule = {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp"}')
    fill(nb, MONTH, "month_su = None", "month_su = 1")


SPEC = LabCorpus(
    lab="03",
    checks=["03.cheapest-flavor", "03.open-ssh", "03.month-su", "03.su-stopped"],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=CHEAPEST,
    late=MONTH,
    slot=(CHEAPEST, "cheapest", '"m3.quad"'),
    deleted=(SETUP, STOPPED),
    scores={
        "correct": FULL,
        "partly-wrong": 6,
        "untouched": 0,
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 2,  # the flavor, captured before the loop; the notebook limit stops the rest
        "memory-bomb": FULL,
        "sys-exit": FULL,
        "os-exit": 2,  # the kernel ends after the first exercise
        "kill-kernel": FULL - 2,  # killed after the month (the last exercise): all but the cleanup's state check
        "deleted-cells": FULL - 4,  # the SU/hour cell deleted: restored as released, not done
        "duplicated-reordered": FULL,
        "redefined-check": 0,
        "monkeypatch": 0,
        "fake-pass-lines": 0,
        "read-hidden": FULL,
        "huge-output": FULL,
        "network-call": FULL,
    },
)


build = builder(SPEC)
