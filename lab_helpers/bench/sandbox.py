"""`lab bench sandbox`: how fast the sandbox answers the real openstacksdk (client code: it
drives the sandbox from outside, as a lab does; only the rows of its large listings are written
in bulk, by ``lab_helpers.sandbox.bulk``).

Runs against a temporary sandbox (its own state directory), so the learner's cloud is never
touched. Each figure is a dataclass row; the command prints a table or JSON.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchRow:
    name: str
    n: int
    p50_ms: float
    p95_ms: float
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed(name: str, n: int, call: Callable[[], Any], note: str = "") -> BenchRow:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return BenchRow(name, n, round(statistics.median(samples), 2), round(p95, 2), note)


def _object_sizes(conn: Any, status: Any, n: int) -> list[BenchRow]:
    """Swift at 8 MiB, and S3 (boto3, the learner's EC2 credential) at 1 KiB and 8 MiB, on the same container."""
    import boto3

    from ..sandbox.openstack.s3.credentials import learner_ec2

    big = b"y" * (8 * 1024 * 1024)
    small = b"x" * 1024
    rows = [
        _timed("PUT 8 MiB object", n, lambda: conn.object_store.upload_object(container="bench", name="big", data=big)),
        _timed("GET 8 MiB object", n, lambda: conn.object_store.download_object("big", container="bench")),
    ]
    cred = learner_ec2(status.base_url, status.clouds_yaml)
    s3 = boto3.client(
        "s3",
        endpoint_url=cred["endpoint"],
        aws_access_key_id=cred["access"],
        aws_secret_access_key=cred["secret"],
        region_name="IU",
    )
    for label, data, key in (("1 KiB", small, "s3-small"), ("8 MiB", big, "s3-big")):

        def put(d: bytes = data, k: str = key) -> None:
            s3.put_object(Bucket="bench", Key=k, Body=d)

        def get(k: str = key) -> bytes:
            return s3.get_object(Bucket="bench", Key=k)["Body"].read()

        rows.append(_timed(f"S3 PUT {label} object", n, put))
        rows.append(_timed(f"S3 GET {label} object", n, get, "SigV4 checked with botocore's signer"))
    return rows


def run(n: int = 30, boot_s: float | None = None, servers: int = 500, objects: int = 2000) -> list[BenchRow]:
    """Measure a temporary sandbox of its own folder; the learner's sandbox and the environment are untouched."""
    import openstack
    from openstack.config import loader

    from ..backends.sandbox import CLOUD
    from ..config import sandbox_boot_seconds
    from ..sandbox import start, stop
    from ..sandbox.bulk import add_objects, copy_server

    boot = sandbox_boot_seconds() if boot_s is None else boot_s
    tmp = Path(tempfile.mkdtemp(prefix="lab-bench-sandbox-"))
    root = tmp / "cloud"
    rows: list[BenchRow] = []
    try:
        t = time.perf_counter()
        status = start(root=root, boot_s=boot)
        rows.append(
            BenchRow(
                "start the service",
                1,
                round((time.perf_counter() - t) * 1000, 1),
                round((time.perf_counter() - t) * 1000, 1),
            )
        )
        config = loader.OpenStackConfig(
            config_files=[str(status.clouds_yaml)], vendor_files=[], secure_files=[], load_envvars=False
        )
        conn = openstack.connection.Connection(config=config.get_one(cloud=CLOUD))
        t = time.perf_counter()
        list(conn.compute.flavors())
        first_ms = round((time.perf_counter() - t) * 1000, 1)
        rows.append(BenchRow("first call (token + discovery + list flavors)", 1, first_ms, first_ms))
        image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
        flavor = conn.compute.find_flavor("m3.tiny", ignore_missing=False)

        def create_active() -> None:
            s = conn.compute.create_server(name="bench-boot", image_id=image.id, flavor_id=flavor.id, networks="auto")
            conn.compute.wait_for_server(s, interval=0.05, wait=60)
            conn.compute.delete_server(s)

        rows.append(_timed("create server -> ACTIVE (+ delete)", 3, create_active, f"BUILD lasts {boot:g} s"))
        server = conn.compute.wait_for_server(
            conn.compute.create_server(name="bench-show", image_id=image.id, flavor_id=flavor.id, networks="auto"),
            interval=0.05,
            wait=60,
        )
        rows.append(_timed("list flavors", n, lambda: list(conn.compute.flavors())))
        rows.append(_timed("show server", n, lambda: conn.compute.get_server(server.id)))
        rows.append(_timed("list servers (1)", n, lambda: list(conn.compute.servers())))

        def volume_cycle() -> None:
            v = conn.block_storage.create_volume(size=1, name="bench")
            conn.block_storage.wait_for_status(v, "available", interval=0.02, wait=30)
            conn.block_storage.delete_volume(v.id)

        rows.append(
            _timed("create + delete a volume", max(5, n // 3), volume_cycle, "includes the creating -> available wait")
        )
        conn.object_store.create_container("bench")
        payload = b"x" * 1024
        rows.append(
            _timed(
                "PUT 1 KiB object",
                n,
                lambda: conn.object_store.upload_object(container="bench", name="small", data=payload),
            )
        )
        rows.append(
            _timed("GET 1 KiB object", n, lambda: conn.object_store.download_object("small", container="bench"))
        )
        rows.extend(_object_sizes(conn, status, max(5, n // 3)))

        copy_server(status.state_dir, server.id, servers - 1)
        rows.append(
            _timed(
                f"list {servers} servers (detail)",
                5,
                lambda: list(conn.compute.servers()),
                "rows written straight into the store",
            )
        )
        rows.append(
            _timed(
                "  the same, HTTP only",
                5,
                lambda: conn.compute.get("/servers/detail").raise_for_status(),
                "no SDK objects built: the sandbox's share",
            )
        )
        add_objects(status.state_dir, "bench", objects - 1)
        rows.append(_timed(f"list {objects} objects", 5, lambda: list(conn.object_store.objects("bench"))))
        rows.append(
            _timed(
                "  the same, HTTP only",
                5,
                lambda: conn.object_store.get("/bench", params={"format": "json"}).raise_for_status(),
                "no SDK objects built: the sandbox's share",
            )
        )
        conn.close()
    finally:
        stop(root=root)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def table(rows: list[BenchRow]) -> str:
    width = max(len(r.name) for r in rows)
    lines = [f"{'call (openstacksdk -> sandbox)':<{width}}  {'n':>4}  {'p50 ms':>9}  {'p95 ms':>9}  note"]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.n:>4}  {r.p50_ms:>9.2f}  {r.p95_ms:>9.2f}  {r.note}")
    return "\n".join(lines)
