"""The capstone's needs, derived from ``data/capstone.yaml``: compute per stage, storage, network.

Compute follows lab 01's model of a kernel: a fixed cost per launch, then the larger of the time its
arithmetic takes and the time its bytes take to move (the roofline). ``seconds_per_item`` is that
model; a learner writes their own and ``need_per_video_hour`` applies either to every stage and
machine, so the check can compare the two tables cell by cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .rates import MachineRates, capstone

__all__ = [
    "Stage",
    "need_per_video_hour",
    "network_plan",
    "seconds_per_item",
    "stages",
    "storage_need",
    "video_gb_per_hour",
    "workload_lines",
]

PerItem = Callable[[float, float, float, MachineRates], float]


@dataclass(frozen=True)
class Stage:
    name: str  # "transcribe" | "poses"
    model: str
    item: str
    items_per_video_hour: float
    flops: float  # per item
    bytes_fp16: float  # per item, with fp16 weights
    launches: float  # kernel launches per item

    def bytes_on(self, machine: MachineRates) -> float:
        """Bytes moved per item on ``machine`` (its weights are fp16 on the GPU, fp32 on the CPU)."""
        return self.bytes_fp16 * machine.bytes_per_param / 2

    def intensity(self, machine: MachineRates) -> float:
        return self.flops / self.bytes_on(machine)


def stages() -> list[Stage]:
    return [
        Stage(
            name,
            row["model"],
            row["item"],
            float(row["items_per_video_hour"]),
            float(row["gflops_per_item"]) * 1e9,
            float(row["gb_per_item_fp16"]) * 1e9,
            float(row["launches_per_item"]),
        )  # fmt: skip
        for name, row in capstone()["stages"].items()
    ]


def seconds_per_item(flops: float, nbytes: float, launches: float, machine: MachineRates) -> float:
    """Lab 01's model: the launches' fixed cost, then the arithmetic or the memory traffic, whichever is longer."""
    return launches * machine.launch_s + max(flops / machine.flops_per_s, nbytes / machine.bytes_per_s)


def bound(stage: Stage, machine: MachineRates) -> str:
    """What limits ``stage`` on ``machine``: "launches", "memory" or "compute" (the largest of the three times)."""
    times = {
        "launches": stage.launches * machine.launch_s,
        "memory": stage.bytes_on(machine) / machine.bytes_per_s,
        "compute": stage.flops / machine.flops_per_s,
    }
    return max(times, key=lambda k: times[k])


def need_per_video_hour(per_item: PerItem, machines: dict[str, MachineRates]) -> dict[str, dict[str, float]] | None:
    """{stage: {machine key: seconds of that machine per hour of video}}, with ``per_item`` as the model
    (None while ``per_item`` still returns None: the exercise's stub)."""
    table: dict[str, dict[str, float]] = {}
    for stage in stages():
        row = {}
        for key, m in machines.items():
            seconds = per_item(stage.flops, stage.bytes_on(m), stage.launches, m)
            if seconds is None:
                return None
            row[key] = float(seconds) * stage.items_per_video_hour
        table[stage.name] = row
    return table


def video_gb_per_hour() -> float:
    """GB of one hour of ride video at the scenario's bitrate (8 Mbit/s is 3.6 GB an hour)."""
    return float(capstone()["video"]["bitrate_mbit_s"]) / 8 * 3600 / 1000


def storage_need() -> dict[str, dict]:
    """{artifact: {"storage", "gb" after the first month, "growth_gb_per_month" after that, "why"}}."""
    c = capstone()
    s = c["scenario"]
    hours_day, days = float(s["video_hours_per_day"]), float(s["days_per_month"])
    video_month = video_gb_per_hour() * hours_day * min(days, float(s["uploads_kept_days"]))
    per_hour = float(c["results"]["transcript_gb_per_video_hour"]) + float(c["results"]["poses_gb_per_video_hour"])
    results_month = per_hour * hours_day * days
    weights = sum(float(m["weights_gb_fp16"]) for m in c["models"].values())
    logs_month = float(c["cluster_logs"]["gb_per_day"]) * days
    return {
        "video uploads": {
            "storage": "object",
            "gb": video_month,
            "growth_gb_per_month": 0.0,
            "why": f"{hours_day:g} h a day x {video_gb_per_hour():g} GB/h, {s['uploads_kept_days']} days kept: "
            "after the first month each day's uploads replace the oldest day's",
        },
        "results database": {
            "storage": "block",
            "gb": results_month,
            "growth_gb_per_month": results_month,
            "why": "transcripts and poses in Postgres, on a volume (a PVC); kept forever, so it grows every month",
        },
        "model weights": {
            "storage": "block",
            "gb": weights,
            "growth_gb_per_month": 0.0,
            "why": "read as files by the model service from a volume it mounts; they change only with a new model",
        },
        "cluster logs": {
            "storage": "object",
            "gb": logs_month,
            "growth_gb_per_month": logs_month,
            "why": f"{c['cluster_logs']['gb_per_day']} GB a day appended as new objects and kept",
        },
    }


def network_plan() -> dict:
    """The network the service needs: floating IPs, public ports, the ingress routes, what the internet reaches."""
    n = capstone()["network"]
    return {
        "floating_ips": int(n["floating_ips"]),
        "public_ports": sorted(int(p) for p in n["public_ports"]),
        "routes": dict(n["routes"]),
        "public": list(n["public"]),
    }


def workload_lines() -> list[str]:
    """The scenario as a learner reads it, each figure with where it comes from."""
    c = capstone()
    s, v = c["scenario"], c["video"]
    by_name = {st.name: st for st in stages()}
    lines = [
        f"{s['riders']} riders, {s['video_hours_per_day']} hours of ride video a day: {v['codec']} at "
        f"{v['bitrate_mbit_s']} Mbit/s, {video_gb_per_hour():g} GB an hour",
        f"every second of audio transcribed ({by_name['transcribe'].model}); poses read from "
        f"{s['pose_frames_per_second']} frames of each second ({by_name['poses'].model}): "
        f"{by_name['poses'].items_per_video_hour:,.0f} pose detections per hour of video",
        f"each day's uploads analysed within {s['results_within_hours']} h; uploads kept {s['uploads_kept_days']} days; "
        f"results kept {s['results_kept']}",
        f"{s['api_users']} users of the web page and the api, {s['api_requests_per_user_per_minute']} requests a minute each",
        f"  ({s['source']})",
        "",
        "The models and the video:",
    ]
    for name, m in c["models"].items():
        lines.append(f"  {name}: {m['params_millions']} M parameters  ({m['source']})")
    lines.append(f"  video bitrate: {v['bitrate_mbit_s']} Mbit/s  ({v['source']})")
    lines += ["", "What one item costs (the course's estimates, from the models' sizes):"]
    for st in stages():
        row = c["stages"][st.name]
        lines.append(
            f"  {st.name}, per {st.item}: {st.flops / 1e9:g} GFLOP, {st.bytes_fp16 / 1e9:g} GB moved (fp16), "
            f"{st.launches:g} kernel launches"
        )
        for key in ("gflops_how", "gb_how", "launches_how"):
            lines.append(f"      {row[key]}")
    return lines
