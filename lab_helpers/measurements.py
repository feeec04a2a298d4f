"""The learner's own measurements, kept in the state directory so that a later lab reuses them.

Lab 01 records what its benchmark suite measured (``record_bench``); lab 07 sizes the capstone from
those numbers (``lab_helpers.capstone.rates``) and falls back to reference measurements in
``data/capstone.yaml`` where a fresh state directory holds none, saying which it used. Like check
results, they are the learner's only when the learner ran the notebook: `lab run` of the solved source
(and the website's build) records none, so a solved lab 07 there sizes from the references.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .config import records_progress, state_dir

__all__ = ["record", "record_bench", "recorded"]


def _file(lab: str) -> Path:
    folder = state_dir() / "measurements"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{lab}.json"


def recorded(lab: str) -> dict[str, dict]:
    """Every measurement lab ``lab`` recorded, by name (empty when it never ran here)."""
    try:
        with open(_file(lab), encoding="utf-8") as fh:
            data = json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def record(lab: str, name: str, value: float, unit: str, **about: Any) -> None:
    """Keep one measurement (atomically: a crash mid-write never loses the earlier ones)."""
    data = recorded(lab)
    data[name] = {"value": float(value), "unit": unit, "at": time.time(), **about}
    path = _file(lab)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".measurements-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def record_bench(report: Any) -> None:
    """Keep the headline numbers of lab 01's benchmark suite: triad bandwidth, matrix-product rates, launch cost
    (nothing when the notebook that ran is not the learner's own)."""
    if not records_progress():
        return
    device = report.device
    about = {"device": device.name, "kind": device.kind, "cores": device.cores or 1}
    triad = report.find("triad", "single-pass")
    if triad is not None and triad.gbps:
        record("01", "triad_gbs", triad.gbps, "GB/s", **about)
    for r in report.results:
        if r.kernel == "gemm" and r.tflops:
            record("01", f"gemm_{r.variant}_tflops", r.tflops, "TFLOP/s", **about)
    launch = report.find("launch")
    if launch is not None and launch.seconds:
        record("01", "launch_us", launch.seconds * 1e6, "us", **about)
