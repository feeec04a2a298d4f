"""The block I/O probe on a plain file, and its figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lab_helpers.storage import probe
from lab_helpers.storage.block import BlockIO

PROBE = Path(probe.__file__)


def test_probe_measures_every_pattern(tmp_path):
    target = tmp_path / "disk.img"
    target.write_bytes(b"")
    result = probe.run(str(target), size_mib=4, max_ops=300, budget_s=0.2)
    assert result["cache"] in ("O_DIRECT", "posix_fadvise(DONTNEED)") or result["cache"].startswith("none")
    patterns = [(r["pattern"], r["block_bytes"]) for r in result["rows"]]
    assert patterns == [
        ("sequential read", 4096),
        ("random read", 4096),
        ("sequential write", 4096),
        ("random write", 4096),
        ("sequential read", 1 << 20),
        ("sequential write", 1 << 20),
    ]
    for row in result["rows"]:
        assert 0 < row["ops"] <= 300
        assert row["iops"] > 0 and row["p50_us"] <= row["p99_us"]
        assert abs(row["mib_s"] - row["iops"] * row["block_bytes"] / (1 << 20)) < 1e-6 * row["mib_s"] + 1e-9
    assert target.stat().st_size >= 4 << 20  # the region was written before it was read


def test_probe_source_runs_as_a_script_from_stdin(tmp_path):
    """How it runs on the VM: `python3 - TARGET PARAMS` with the file on stdin, standard library only."""
    target = tmp_path / "disk.img"
    target.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-I", "-", str(target), json.dumps({"size_mib": 2, "max_ops": 50, "budget_s": 0.1})],
        input=PROBE.read_text(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["rows"]) == 6 and out["size_mib"] == 2


def test_probe_refuses_a_missing_volume():
    import pytest

    with pytest.raises(FileNotFoundError, match="attached"):
        probe.resolve("volume:00000000-0000-0000-0000-000000000000")


def test_block_figure_says_how_the_cache_was_bypassed(tmp_path):
    from lab_helpers.viz.storage import block_io_figure

    target = tmp_path / "disk.img"
    target.write_bytes(b"")
    result = probe.run(str(target), size_mib=2, max_ops=50, budget_s=0.1)
    block = BlockIO("a file", result["cache"], 2, result["rows"])
    fig = block_io_figure(block)
    assert result["cache"] in fig.layout.title.text
    iops = [t for t in fig.data if t.name == "read"][0]  # the IOPS panel comes first
    assert list(iops.y) == [block.row("sequential read")["iops"], block.row("random read")["iops"]]
    assert "random read" in str(block) and set(block.summary()) == {
        f"{r['pattern']} {r['block_bytes']}" for r in block.rows
    }


def test_live_path_pipes_the_probe_through_ssh(tmp_path, monkeypatch):
    """The ssh transport without a VM: a stand-in `ssh` on PATH runs the remote command here."""
    from lab_helpers.storage import block

    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    # the last argument is the remote command; drop `sudo` and run it with our stdin
    fake.write_text('#!/bin/sh\nfor last; do :; done\nexec sh -c "${last#sudo }"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    monkeypatch.setitem(sys.modules, "paramiko", None)  # force the ssh-client path
    target = tmp_path / "device.img"
    target.write_bytes(b"")
    remote_python = tmp_path / "bin" / "python3"
    remote_python.symlink_to(sys.executable)
    out = block.run_probe_over_ssh(
        "10.20.30.5",
        tmp_path / "key.pem",
        "ubuntu",
        str(target),
        {"size_mib": 2, "max_ops": 50, "budget_s": 0.1},
        timeout_s=60,
    )
    assert len(out["rows"]) == 6 and out["size_mib"] == 2
    cmd = block._ssh_command("10.20.30.5", tmp_path / "key.pem", "ubuntu", "true", tmp_path / "known_hosts")
    assert cmd[0] == "ssh" and "ubuntu@10.20.30.5" in cmd and "BatchMode=yes" in cmd


def test_live_path_reports_a_failing_probe(tmp_path, monkeypatch):
    import pytest

    from lab_helpers.errors import ServiceError
    from lab_helpers.storage import block

    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "sudo: python3: command not found" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    monkeypatch.setitem(sys.modules, "paramiko", None)
    with pytest.raises(ServiceError, match="exited with 1") as err:
        block.run_probe_over_ssh("10.20.30.5", tmp_path / "key.pem", "ubuntu", "volume:x", {}, timeout_s=30)
    assert "python3" in str(err.value) and err.value.hint


def test_live_path_gives_up_on_an_unreachable_vm(tmp_path, monkeypatch):
    import pytest

    from lab_helpers.errors import ServiceError
    from lab_helpers.storage import block

    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "ssh: connect to host 10.20.30.5 port 22: Connection refused" >&2\nexit 255\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    monkeypatch.setitem(sys.modules, "paramiko", None)
    with pytest.raises(ServiceError, match="Connection refused") as err:
        block.run_probe_over_ssh(
            "10.20.30.5", tmp_path / "key.pem", "ubuntu", "volume:x", {}, timeout_s=30, wait_ssh_s=0
        )
    assert "security group" in err.value.hint
