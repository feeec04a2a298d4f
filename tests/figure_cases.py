"""Every figure of labs 00-04, built by the lab_helpers functions the notebooks call, from fixed data.

The numbers have the shape real runs produce (a laptop CPU for lab 01, the sandbox for labs 03
and 04) and include the awkward cases a learner meets: repeated widget measurements at one size,
a GEMM measured faster than the suite's, a fast volume beside a slow object store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

KiB, MiB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str  # the PNG's name in test-artifacts/
    build: Callable[[], object]  # returns a plotly figure
    labels_in_shapes: bool = False  # texts name sectors or bars and must sit inside them


# --- lab 01 ---------------------------------------------------------------------------------


def _cpu_device():
    from lab_helpers.gpu.device import DeviceInfo

    return DeviceInfo("cpu", "AMD EPYC 7763 64-Core Processor", "numpy", 32 * 2**30, 16 * 2**30, 32 * MiB, cores=16)


def _a40_device():
    from lab_helpers.gpu.device import DeviceInfo
    from lab_helpers.gpu.specs import a40

    return DeviceInfo("gpu", "NVIDIA A40", "cupy", 48 * 2**30, 44 * 2**30, 6 * MiB, sms=84, spec=a40())


_STREAM = {  # kernel, variant -> (flops per element, bytes per element in float64)
    ("copy", ""): (0, 16),
    ("scale", ""): (1, 16),
    ("add", ""): (1, 24),
    ("triad", "naive"): (2, 40),
    ("triad", "single-pass"): (2, 24),
    ("dot", ""): (2, 16),
}


def stream_result(kernel: str, variant: str, n: int, gbps: float, dtype: str = "float64"):
    from lab_helpers.gpu.bench import Result

    flops, nbytes = _STREAM[(kernel, variant if kernel == "triad" else "")]
    item = 8 if dtype == "float64" else 4
    total = nbytes * n * item // 8
    seconds = total / (gbps * 1e9)
    return Result(
        kernel, variant, dtype, n, seconds, bytes=total, flops=flops * n or None, gbps=gbps, working_set_bytes=total
    )


def gemm_result(n: int, precision: str, tflops: float):
    from lab_helpers.gpu.bench import Result

    item = 8 if precision == "fp64" else (2 if precision in ("fp16", "bf16") else 4)
    flops = 2 * n**3
    return Result(
        "gemm",
        precision,
        {8: "float64", 4: "float32", 2: "float16"}[item],
        n,
        flops / (tflops * 1e12),
        bytes=3 * n * n * item,
        flops=flops,
        tflops=tflops,
    )


def cpu_report():
    from lab_helpers.gpu.bench import BenchReport

    n = 2**25
    results = [
        stream_result("copy", "", n, 11.8),
        stream_result("scale", "", n, 11.2),
        stream_result("add", "", n, 12.4),
        stream_result("triad", "naive", n, 9.1),
        stream_result("triad", "single-pass", n, 12.1),
        stream_result("dot", "", n, 13.0),
        gemm_result(1024, "fp32", 0.42),
        gemm_result(1024, "fp64", 0.21),
    ]
    # add a = b + c over growing working sets: per-core L2 (1 MiB) then the shared L3 (32 MiB) then DRAM
    for log2 in range(10, 26, 1):
        size = 3 * 8 * 2**log2
        gbps = 60.0 if size <= 1 * MiB else (30.0 if size <= 32 * MiB else 12.0)
        r = stream_result("add", "", 2**log2, gbps * (0.9 if log2 == 10 else 1.0))
        r.variant = f"sweep-{2**log2}"
        results.append(r)
    return BenchReport(_cpu_device(), results, wall_s=12.0)


def a40_report():
    from lab_helpers.gpu.bench import BenchReport

    n = 2**27
    results = [
        stream_result("copy", "", n, 640),
        stream_result("scale", "", n, 645),
        stream_result("add", "", n, 660),
        stream_result("triad", "naive", n, 655),
        stream_result("triad", "single-pass", n, 662),
        stream_result("dot", "", n, 600),
        gemm_result(8192, "fp32", 24.1),
        gemm_result(8192, "tf32", 58.0),
        gemm_result(8192, "fp16", 118.0),
        gemm_result(8192, "fp64", 0.58),
    ]
    return BenchReport(_a40_device(), results, wall_s=30.0)


def widget_points():
    """What a learner does with the widget: the same triad three times, a GEMM bigger than the suite's, a tiny triad."""
    return [
        stream_result("triad", "single-pass", 2**22, 11.9),
        stream_result("triad", "single-pass", 2**22, 12.3),
        stream_result("triad", "single-pass", 2**22, 12.0),
        gemm_result(2048, "fp32", 0.61),
        stream_result("triad", "single-pass", 2**14, 38.0),
    ]


# --- lab 02 ---------------------------------------------------------------------------------


def backfill_timeline():
    from lab_helpers.batch.queue import SimJob, simulate
    from lab_helpers.viz.batch import timeline_figure

    jobs = [
        SimJob("J1", submit=0, nodes=2, walltime=4),
        SimJob("J2", submit=0, nodes=4, walltime=2),
        SimJob("J3", submit=0, nodes=2, walltime=3),
        SimJob("J4", submit=0, nodes=2, walltime=5),
        SimJob("J5", submit=1, nodes=1, walltime=1),
    ]
    return timeline_figure(simulate(jobs, total_nodes=4, backfill=True), 4, title="EASY backfill")


# --- lab 03 ---------------------------------------------------------------------------------


def catalog_flavors():
    from openstack.compute.v2.flavor import Flavor

    from lab_helpers.paths import load_yaml

    return [
        Flavor(name=f["name"], vcpus=f["vcpus"], ram=f["ram_gb"] * 1024, disk=f["disk_gb"])
        for f in load_yaml("jetstream2.yaml")["flavors"]
    ]


def placement(view: str):
    from lab_helpers.viz.placement import Host, PlacedServer, Placement

    if view == "hypervisors":
        hosts = [
            Host("sandbox-host-1", 128, 40, 512, 120, [PlacedServer("vc-lab03-vm", "m3.small", 2, "ACTIVE")]),
            Host("sandbox-host-2", 128, 96, 512, 300, [PlacedServer("vc-lab03-vm-2", "m3.quad", 4, "ACTIVE")]),
        ]
        return Placement("hypervisors", hosts, "operator view")
    hosts = [
        Host("host 1 (hostId 5f3a9c1e...)", 128, None, mine=[PlacedServer("vc-lab03-vm", "m3.small", 2, "ACTIVE")]),
        Host("host 2 (hostId 0b7d22aa...)", 128, None, mine=[PlacedServer("vc-lab03-vm-2", "m3.quad", 4, "ACTIVE")]),
    ]
    return Placement("hostId", hosts, "project view")


# --- lab 04 ---------------------------------------------------------------------------------


def block_io():
    from lab_helpers.storage.block import BlockIO

    def row(order, op, block, iops, p50, p99):
        return {
            "pattern": f"{order} {op}",
            "order": order,
            "op": op,
            "block_bytes": block,
            "ops": 2000,
            "iops": iops,
            "mib_s": iops * block / MiB,
            "p50_us": p50,
            "p99_us": p99,
        }

    rows = [
        row("sequential", "read", 4096, 9800, 95, 310),
        row("random", "read", 4096, 7400, 128, 420),
        row("sequential", "write", 4096, 5200, 180, 900),
        row("random", "write", 4096, 3100, 300, 1500),
        row("sequential", "read", MiB, 820, 1200, 2100),
        row("sequential", "write", MiB, 410, 2400, 5200),
    ]
    return BlockIO("sandbox volume vc-lab04-data: its backing file on this machine's disk", "O_DIRECT", 64, rows)


def object_latency():
    from lab_helpers.storage.objects import ObjectLatency

    rows = []
    for size, put_ms, get_ms in (
        (KiB, 3.1, 1.9),
        (16 * KiB, 3.4, 2.0),
        (256 * KiB, 5.2, 3.0),
        (MiB, 9.8, 5.1),
        (8 * MiB, 52.0, 24.0),
    ):
        rows.append({"size_bytes": size, "op": "PUT", "seconds": [put_ms / 1e3] * 3, "median_ms": put_ms})
        rows.append({"size_bytes": size, "op": "GET", "seconds": [get_ms / 1e3] * 3, "median_ms": get_ms})
    return ObjectLatency("vc-lab04-videos", rows)


def handoffs():
    """One push followed on the sandbox: the build and the rollout take the time, the tag and the promotion a moment."""
    from lab_helpers.deploy.pipeline import HANDOFFS, Followed, HandOff

    seen = {"push": 0.4, "build": 6.8, "tag": 6.9, "promote": 8.2, "sync": 9.6, "rollout": 21.5, "answer": 21.7}
    return Followed("8d3f2a9c41e07b5d", "sha-8d3f2a9", [HandOff(n, w, seen[n]) for n, w in HANDOFFS])


def cases() -> list[Case]:
    from lab_helpers.viz.batch import machine_figure, node_figure, scaling_figure, wall_time_figure
    from lab_helpers.viz.deploy import handoff_figure
    from lab_helpers.viz.flavors import flavor_figure, flavor_rows
    from lab_helpers.viz.gpu import sweep_figure
    from lab_helpers.viz.hierarchy import hierarchy_figure
    from lab_helpers.viz.placement import placement_figure
    from lab_helpers.viz.roofline import roofline_figure
    from lab_helpers.viz.storage import block_io_figure, object_latency_figure

    return [
        Case("lab00-sunburst-everything", lambda: hierarchy_figure("everything", "sunburst"), labels_in_shapes=True),
        Case("lab00-sunburst-storage", lambda: hierarchy_figure("storage", "sunburst"), labels_in_shapes=True),
        Case("lab00-treemap-everything", lambda: hierarchy_figure("everything", "treemap"), labels_in_shapes=True),
        Case("lab00-icicle-everything", lambda: hierarchy_figure("everything", "icicle"), labels_in_shapes=True),
        Case("lab01-sweep-cpu", lambda: sweep_figure(cpu_report(), l2_bytes=MiB)),
        Case("lab01-roofline-cpu", lambda: roofline_figure(cpu_report(), title="Roofline: this CPU beside the A40")),
        Case("lab01-roofline-a40", lambda: roofline_figure(a40_report(), title="Roofline: NVIDIA A40")),
        Case(
            "lab01-roofline-widget",
            lambda: roofline_figure(cpu_report(), points=widget_points(), title="Roofline with your measurements"),
        ),
        Case("lab02-node", lambda: node_figure("gpuA40x4")),
        Case("lab02-machine", machine_figure),
        Case("lab02-backfill", backfill_timeline, labels_in_shapes=True),
        Case("lab02-wall-time", wall_time_figure),
        Case("lab02-amdahl", lambda: scaling_figure({"measured here": 0.62, "p = 0.99": 0.99, "p = 0.999": 0.999})),
        Case("lab03-flavors", lambda: flavor_figure(flavor_rows(catalog_flavors()))),
        Case("lab03-placement-operator", lambda: placement_figure(placement("hypervisors"))),
        Case("lab03-placement-project", lambda: placement_figure(placement("hostId"))),
        Case("lab04-block-io", lambda: block_io_figure(block_io())),
        Case("lab04-object-latency", lambda: object_latency_figure(object_latency(), block=block_io())),
        Case("lab06-handoffs", lambda: handoff_figure(handoffs()), labels_in_shapes=True),
    ]
