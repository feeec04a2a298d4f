"""The kubelet of every node: pods' containers run as local processes; logs, probes, restarts,
volumes; node readiness from the node's VM; the registry's images; Service addresses."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from ..objects import Objects


def start(objects: Objects, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
    """Start the kubelet's threads; they stop (and stop their pods' processes) when ``stopping`` is set."""
