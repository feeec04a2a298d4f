"""Lab 01's grading corpus: the scores each submission must get (sandbox backend: NumPy on the CPU).

Auto-graded maximum: 13 points. Public: 01.naive-bytes 2, 01.measured-bandwidth 2,
01.triad-intensity 1, 01.ridge-point 1, 01.triad-a40-ms 2, 01.bound 1. Hidden, re-derived in the
grader from fixed numbers and data/gpus.yaml: naive-bytes, triad-intensity, ridge-point and
triad-a40-ms, 1 each.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, builder, fill

SETUP, NAIVE, MEASURED, INTENSITY, RIDGE, A40MS, BOUND = (
    "dfc79c84",
    "58cee86f",
    "12185557",
    "6c3f5b87",
    "6fc1f3c0",
    "4c60276e",
    "d589f53c",
)
FULL = 13
RIDGE_RIGHT = "from lab_helpers.gpu.specs import a40\na40_ridge = a40().ridge_point"
A40MS_RIGHT = "a40_triad_ms = 3 * n * 8 / (a40().bandwidth_gbps * 1e9) * 1e3"


def right(nb) -> None:
    fill(nb, NAIVE, "naive_bytes_per_element = None", "naive_bytes_per_element = 5 * 8")
    fill(nb, MEASURED, "triad_gbps = None", "triad_gbps = 3 * n * 8 / single.best_s / 1e9")
    fill(nb, INTENSITY, "triad_intensity = None", "triad_intensity = 2 / 24")
    fill(nb, RIDGE, "a40_ridge = None", RIDGE_RIGHT)
    fill(nb, A40MS, "a40_triad_ms = None", A40MS_RIGHT)
    fill(nb, BOUND, "fp16_gemm_bound = None", 'fp16_gemm_bound = "compute"')


def partly_wrong(nb) -> None:
    """3 streams counted (0), bandwidth, intensity, ridge, time right (2, 1+1, 1+1, 2+1), memory-bound (0): 9."""
    right(nb)
    fill(nb, NAIVE, "naive_bytes_per_element = 5 * 8", "naive_bytes_per_element = 3 * 8")
    fill(nb, BOUND, 'fp16_gemm_bound = "compute"', 'fp16_gemm_bound = "memory"')


def wrong(nb) -> None:
    fill(nb, NAIVE, "naive_bytes_per_element = None", "naive_bytes_per_element = 24")
    fill(nb, MEASURED, "triad_gbps = None", "triad_gbps = 1.0")
    fill(nb, INTENSITY, "triad_intensity = None", "triad_intensity = 1")
    fill(nb, RIDGE, "a40_ridge = None", "a40_ridge = 1")
    fill(nb, A40MS, "a40_triad_ms = None", "a40_triad_ms = 1.0")
    fill(nb, BOUND, "fp16_gemm_bound = None", 'fp16_gemm_bound = "memory"')


SPEC = LabCorpus(
    lab="01",
    checks=[
        "01.naive-bytes",
        "01.measured-bandwidth",
        "01.triad-intensity",
        "01.ridge-point",
        "01.triad-a40-ms",
        "01.bound",
    ],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=NAIVE,
    late=RIDGE,
    slot=(BOUND, "fp16_gemm_bound", '"compute"'),
    deleted=(SETUP, BOUND),
    scores={
        "correct": FULL,
        "partly-wrong": 9,
        "untouched": 0,
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 3,
        "memory-bomb": FULL,
        "sys-exit": FULL,
        "os-exit": 3,  # naive bytes 2 + 1
        "kill-kernel": 9,  # killed after the ridge point: the A40 time and the bound are not done
        "deleted-cells": FULL - 1,  # the bound's cell deleted: restored as released, not done
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
