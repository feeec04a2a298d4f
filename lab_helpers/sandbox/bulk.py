"""Many rows at once, written straight into a sandbox's store, for benchmarks that time large
listings: the APIs would refuse so many (a project's quota allows a few servers), and creating
thousands through them would time the creation, not the listing."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from .files import blob_path
from .store import Store


def copy_server(state_dir: Path, server_id: str, count: int, tag: str = "bench") -> int:
    """``count`` copies of an existing server (new ids, names ``bench-0000``...); returns how many."""
    store = Store(state_dir)
    try:
        template = store.get("server", server_id)
        if template is None:
            raise KeyError(f"no server {server_id} in the sandbox at {state_dir}")
        rows = []
        for i in range(count):
            doc = dict(template, id=str(uuid.uuid4()), name=f"bench-{i:04d}", tags=[tag])
            rows.append((doc["id"], doc, ""))
        with store.tx():
            store.put_many("server", rows)
    finally:
        store.close()
    return count


def add_objects(state_dir: Path, container: str, count: int, size: int = 64) -> int:
    """``count`` small objects under ``logs/YYYY/MM/`` in an existing container; returns how many."""
    store = Store(state_dir)
    try:
        now = time.time()
        rows = []
        for i in range(count):
            name = f"logs/2026/{i % 12:02d}/part-{i:05d}.log"
            path = blob_path(state_dir, container, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x" * size)
            doc = {
                "name": name,
                "bytes": size,
                "etag": "0" * 32,
                "content_type": "text/plain",
                "modified": now,
                "meta": {},
            }
            rows.append((f"{container}/{name}", doc, container))
        with store.tx():
            store.put_many("object", rows)
            cont = store.get("container", container)
            if cont is None:
                raise KeyError(f"no container {container} in the sandbox at {state_dir}")
            cont.update(count=cont["count"] + count, bytes=cont["bytes"] + size * count)
            store.put("container", container, cont)
    finally:
        store.close()
    return count
