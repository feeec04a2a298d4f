"""Lab 07's grading corpus: the scores each submission must get, the deployment's state read from the
submission's own sandbox cluster.

Auto-graded maximum: 20 points. Public: 07.compute 3, 07.bound 1, 07.storage 3, 07.network 2, 07.designs 3,
07.su-month 2, 07.api-values 2 (16). On the sandbox: 07.api-values:serving 3 (the Application Synced and
Healthy, the api answering through the ingress, its pods requesting what the design sized) and
07.api-values:cleanup 1 (nothing left). 07.design-note (4) is read by a person and not in these totals.

Lab 07's own hostile case: a submission that answers exercise 7 right and then deploys other values (one
replica requesting almost nothing): the check passes, the state check reads what runs and gives nothing.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, builder, fill, insert_after

COMPUTE, BOUND, STORAGE, NETWORK, DESIGNS, SU, VALUES, NOTE = (
    "7a0e0008",
    "7a0e000c",
    "7a0e0010",
    "7a0e0012",
    "7a0e0016",
    "7a0e0018",
    "7a0e001e",
    "7a0e0023",
)
FULL = 20

COMPUTE_RIGHT = """def seconds_per_item(flops, nbytes, launches, machine):
    return launches * machine.launch_s + max(flops / machine.flops_per_s, nbytes / machine.bytes_per_s)"""
COMPUTE_ADDED = """def seconds_per_item(flops, nbytes, launches, machine):
    return launches * machine.launch_s + flops / machine.flops_per_s + nbytes / machine.bytes_per_s"""
BOUND_RIGHT = """def limit(stage, m):
    times = {"launches": stage.launches * m.launch_s, "memory": stage.bytes_on(m) / m.bytes_per_s,
             "compute": stage.flops / m.flops_per_s}
    return max(times, key=times.get)
limits = {f"{s.name} on {key}": limit(s, m) for s in sizing.stages() for key, m in machines.items()}"""
STORAGE_RIGHT = """video = W["video"]["bitrate_mbit_s"] / 8 * 3.6 * s["video_hours_per_day"]
results = (W["results"]["transcript_gb_per_video_hour"] + W["results"]["poses_gb_per_video_hour"]) * 20 * 30
storage = {
    "video uploads": {"storage": "object", "gb": video * s["uploads_kept_days"], "growth_gb_per_month": GROWTH},
    "results database": {"storage": "block", "gb": results, "growth_gb_per_month": results},
    "model weights": {"storage": "block", "gb": 0.4966, "growth_gb_per_month": 0},
    "cluster logs": {"storage": "object", "gb": 45, "growth_gb_per_month": 45},
}"""
NETWORK_RIGHT = (
    '{"floating_ips": 1, "public_ports": [80, 443], "routes": {"/api": "api", "/": "web"}, "public": ["api", "web"]}'
)
DESIGNS_RIGHT = """designs = {
    "all on Jetstream2": {"control": {"m3.small": 1}, "workers": {"m3.quad": 2}, "delta": None},
    "Jetstream2 + Delta": {"control": {"m3.small": 1}, "workers": {"m3.tiny": 2},
                           "delta": {"partition": "gpuA40x4", "gpus": 1, "hours": 0.5, "jobs_per_month": 30}},
}"""
SU_RIGHT = (
    'su_month = {"all on Jetstream2": {"js2": 7300, "delta": 0}, "Jetstream2 + Delta": {"js2": 2920, "delta": 30}}'
)
VALUES_RIGHT = """api_values = {"replicas": 2, "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                           "limits": {"cpu": "500m", "memory": "512Mi"}}}"""
NOTE_RIGHT = 'design_note = "The service on Jetstream2, the analysis as a daily Delta job on one A40."'

STUBS = {  # the learner's stub line of each answer cell, as released
    COMPUTE: "def seconds_per_item(flops, nbytes, launches, machine):",
    BOUND: "limits = {",
    STORAGE: "storage = None",
    NETWORK: "network = None",
    DESIGNS: "designs = {",
    SU: "su_month = None",
    VALUES: "api_values = {",
    NOTE: "design_note = None",
}


def answer_with(nb, answers: dict[str, str]) -> None:
    for cell_id, code in answers.items():
        if cell_id == COMPUTE:  # the stub is a function of two lines: both go
            fill(nb, cell_id, "    return None", "")
        fill(nb, cell_id, STUBS[cell_id], code)


RIGHT = {
    COMPUTE: COMPUTE_RIGHT,
    BOUND: BOUND_RIGHT,
    STORAGE: STORAGE_RIGHT.replace("GROWTH", "0"),
    NETWORK: f"network = {NETWORK_RIGHT}",
    DESIGNS: DESIGNS_RIGHT,
    SU: SU_RIGHT,
    VALUES: VALUES_RIGHT,
    NOTE: NOTE_RIGHT,
}


def right(nb) -> None:
    answer_with(nb, RIGHT)


def partly_wrong(nb) -> None:
    """The roofline's two times added (0 of 3), the bounds right (1), the uploads growing as if none were deleted
    (2.775 of 3), ssh open to the internet (1.5 of 2), the designs right (3), the control plane left out of the
    first design's SUs (1.5 of 2), the api's memory request left at the chart's 128Mi (4/3 of 2; deployed, it
    requests less than the design sized: serving 0), the cleanup right (1)."""
    answer_with(
        nb,
        {
            **RIGHT,
            COMPUTE: COMPUTE_ADDED,
            STORAGE: STORAGE_RIGHT.replace("GROWTH", 'video * s["uploads_kept_days"]'),
            NETWORK: f"network = {NETWORK_RIGHT.replace('[80, 443]', '[22, 80, 443]')}",
            SU: SU_RIGHT.replace('"js2": 7300', '"js2": 5840'),
            VALUES: VALUES_RIGHT.replace('"256Mi"', '"128Mi"'),
        },
    )


def wrong(nb) -> None:
    """The model added up, the rest left undone: 0."""
    answer_with(nb, {COMPUTE: COMPUTE_ADDED})


# Exercise 7 answered right, then other values deployed: one replica that asks for almost nothing.
OTHER_VALUES = """api_values = {"replicas": 1, "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}"""


def deploys_other_values(nb) -> None:
    """The grader restores a changed given cell from the release and captures an answer when its cell has run, so
    the swap is a cell of the learner's own between exercise 7 and the deploy cell, which deploys what it holds."""
    right(nb)
    insert_after(nb, VALUES, OTHER_VALUES, "hostile1")


SPEC = LabCorpus(
    lab="07",
    checks=[
        "07.compute",
        "07.bound",
        "07.storage",
        "07.network",
        "07.designs",
        "07.su-month",
        "07.api-values",
        "07.design-note",
    ],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=COMPUTE,
    late=NOTE,
    slot=(NETWORK, "network", NETWORK_RIGHT),
    deleted=("7a0e000a", SU),  # the roofline figure (a given cell) and the SUs' cell
    scores={
        "correct": FULL,
        "partly-wrong": 12.1083,
        "untouched": 0,
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 3,  # the model (3), captured before the loop
        "memory-bomb": FULL,
        "sys-exit": FULL,
        "os-exit": 3,
        "kill-kernel": FULL - 1,  # killed after the design note: the cleanup cell never ran
        "deleted-cells": FULL - 2,  # the SUs' cell restored as released: not done
        "duplicated-reordered": FULL,
        "redefined-check": 0,
        "monkeypatch": 0,
        "fake-pass-lines": 0,
        "read-hidden": FULL,
        "huge-output": FULL,
        "network-call": FULL,
    },
)

OWN = {
    "deploys-other-values": (deploys_other_values, FULL - 3),
}


build = builder(SPEC, OWN)
