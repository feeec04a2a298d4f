"""Block I/O on a volume, measured where the volume is (the backend decides where that is).

sandbox: the volume is a real file on this machine (its backing file): the probe runs here.
live: the volume is a device inside the lab's VM: the probe's source goes over ssh to
``sudo python3 -`` on the VM and measures the attached device. It writes over the volume's first
``size_mib`` MiB, so use a fresh lab volume, never one holding data. It connects only to an address
the cloud lists for that server, and never to a documentation address (the sandbox's floating IPs:
its VMs are simulated and cannot be logged into); there the measurement is skipped, with the reason.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MissingPiece, ResourceStateError, ServiceError
from ..textreport import TextReport


@dataclass(repr=False)
class BlockIO(TextReport):
    where: str  # what was measured, in words
    cache: str  # how the page cache was bypassed
    size_mib: int
    rows: list[dict] = field(default_factory=list)
    skipped: str = ""  # why nothing was measured (the backend could not reach the volume)

    def row(self, pattern: str, block_bytes: int = 4096) -> dict:
        for r in self.rows:
            if r["pattern"] == pattern and r["block_bytes"] == block_bytes:
                return r
        raise KeyError(f"{pattern} {block_bytes}")

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"{self.where}: not measured ({self.skipped})"]
        out = [
            f"{self.where}; page cache: {self.cache}; {self.size_mib} MiB region",
            f"{'pattern':<17} {'block':>7} {'ops':>6} {'IOPS':>9} {'MiB/s':>8} {'p50 us':>8} {'p99 us':>9}",
        ]
        for r in self.rows:
            block = f"{r['block_bytes'] // 1024} KiB" if r["block_bytes"] < 1 << 20 else f"{r['block_bytes'] >> 20} MiB"
            out.append(
                f"{r['pattern']:<17} {block:>7} {r['ops']:>6} {r['iops']:>9.0f} {r['mib_s']:>8.1f} "
                f"{r['p50_us']:>8.1f} {r['p99_us']:>9.1f}"
            )
        return out

    def summary(self) -> dict:
        """JSON-ready numbers (for checks): IOPS and MiB/s per pattern and block size."""
        return {
            f"{r['pattern']} {r['block_bytes']}": {"iops": round(r["iops"], 1), "mib_s": round(r["mib_s"], 2)}
            for r in self.rows
        }


def _probe_source() -> str:
    return (Path(__file__).with_name("probe.py")).read_text()


def run_probe_here(path: Path, params: dict) -> dict:
    """The probe on a file of this machine (a sandbox volume's backing file)."""
    from . import probe

    return probe.run(str(path), **params)


def _ssh_command(address: str, key: Path, user: str, remote: str, known_hosts: Path) -> list[str]:
    return [
        "ssh",
        "-i",
        str(key),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "ConnectTimeout=20",
        f"{user}@{address}",
        remote,
    ]


class _Unreachable(Exception):
    """The VM did not take the ssh connection (yet): sshd starts a little after ACTIVE."""


def _once_over_ssh(
    address: str, key: Path, user: str, remote: str, source: str, timeout_s: float
) -> tuple[str, str, int]:
    from ..config import state_dir

    try:
        import paramiko
    except ImportError:
        paramiko = None
    if paramiko is not None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # a lab VM made minutes ago: trust on first use
        try:
            try:
                client.connect(
                    address, username=user, key_filename=str(key), timeout=20, allow_agent=False, look_for_keys=False
                )
            except (OSError, paramiko.SSHException) as exc:
                raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc
            stdin, stdout, stderr = client.exec_command(remote, timeout=timeout_s)
            stdin.write(source)
            stdin.channel.shutdown_write()
            return stdout.read().decode(), stderr.read().decode(), stdout.channel.recv_exit_status()
        finally:
            client.close()
    import shutil

    if not shutil.which("ssh"):
        raise MissingPiece(
            "measuring a live volume needs ssh: neither paramiko nor the ssh client is installed.",
            hint="pip install 'paramiko>=3,<5' (or install OpenSSH's client).",
        )
    cmd = _ssh_command(address, key, user, remote, state_dir() / "known_hosts")
    try:
        done = subprocess.run(cmd, input=source, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(
            f"ssh to {address} did not finish in {timeout_s:.0f} s.", hint="Run the cell again."
        ) from exc
    if done.returncode == 255:  # the ssh client's own failure: no connection, refused, key not accepted yet
        raise _Unreachable(done.stderr.strip()[-300:])
    return done.stdout, done.stderr, done.returncode


def run_probe_over_ssh(
    address: str, key: Path, user: str, target: str, params: dict, timeout_s: float, wait_ssh_s: float = 240.0
) -> dict:
    """Pipe the probe to ``sudo python3 -`` on the VM (paramiko when installed, else the ssh client)."""
    import time

    from .reach import refuse_documentation

    refuse_documentation(address)  # the sandbox's made-up addresses: never sent a packet

    remote = f"sudo python3 - {shlex.quote(target)} {shlex.quote(json.dumps(params))}"
    source = _probe_source()
    deadline = time.monotonic() + wait_ssh_s
    while True:
        try:
            out, err, code = _once_over_ssh(address, key, user, remote, source, timeout_s)
            break
        except _Unreachable as exc:
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"ssh to {address} failed for {wait_ssh_s:.0f} s: {exc}",
                    hint="Check the VM is ACTIVE, its security group lets tcp 22 in from your network, "
                    "and read its console log (get_server_console_output).",
                ) from None
            time.sleep(10)
    if code != 0:
        raise ServiceError(
            f"the probe on the VM exited with {code}: {err.strip()[-400:]}",
            hint="Is the volume attached (status in-use)? Does the image have python3 (Featured images do)?",
        )
    return json.loads(out.strip().splitlines()[-1])


def measure_block_io(
    course,
    conn,
    volume,
    *,
    server=None,
    size_mib: int = 64,
    budget_s: float = 0.5,
    max_ops: int = 4000,
    user: str = "ubuntu",
    timeout_s: float = 300,
) -> BlockIO:
    """Sequential and random 4 KiB (and sequential 1 MiB) reads and writes on ``volume``.

    ``course.backend`` measures it where it is. ``server`` (a ``LabServer``) is needed on the live
    backend: the volume must be attached to it.
    """
    params = {"size_mib": int(size_mib), "budget_s": float(budget_s), "max_ops": int(max_ops)}
    volume = conn.block_storage.get_volume(volume.id)
    if volume.size * 1024 < size_mib:
        raise ResourceStateError(
            f"volume {volume.name} has {volume.size} GB, less than the {size_mib} MiB to measure.",
            hint="Pass a smaller size_mib, or extend the volume.",
        )
    result, where = course.backend.measure_volume(
        conn, volume, server=server, params=params, user=user, timeout_s=timeout_s
    )
    if result is None:
        return BlockIO(f"volume {volume.name}", "not measured", int(size_mib), [], skipped=where)
    return BlockIO(where, result["cache"], int(result["size_mib"]), list(result["rows"]))
