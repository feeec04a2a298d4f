"""The live block I/O path: the probe over ssh on the lab's VM against the attached device.

Skipped without cloud credentials; it launches an m3.tiny and a 1 GB volume for a few minutes.
"""

from __future__ import annotations

import pytest

import lab_helpers
from lab_helpers.backends.live import has_cloud_credentials

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not has_cloud_credentials(), reason="no cloud credentials (OS_CLOUD + clouds.yaml)"),
]


def test_measure_block_io_over_ssh():
    from lab_helpers.resources.servers import ensure_lab_server
    from lab_helpers.storage import measure_block_io

    course = lab_helpers.setup("live", lab="04")
    conn = course.cloud()
    try:
        lab = ensure_lab_server(course, conn)
        volume = conn.block_storage.create_volume(name=course.name("probe"), size=1, metadata=course.metadata())
        volume = conn.block_storage.wait_for_status(volume, "available", interval=2, wait=300)
        conn.compute.create_volume_attachment(lab.server, volume)
        volume = conn.block_storage.wait_for_status(volume, "in-use", interval=2, wait=300)
        block = measure_block_io(course, conn, volume, server=lab, size_mib=32)  # waits for sshd itself
        assert "measured inside the VM" in block.where
        assert block.cache == "O_DIRECT"  # a raw virtio device accepts it
        assert len(block.rows) == 6 and all(r["iops"] > 0 for r in block.rows)
    finally:
        report = course.cleanup(conn)
        assert not report.failed, str(report)
