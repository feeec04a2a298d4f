"""The controllers and the scheduler: Deployment -> ReplicaSet -> Pods, Jobs, endpoints, garbage
collection, namespaces, Events. Each is a thread of the sandbox service."""

from __future__ import annotations

import threading
from pathlib import Path

from ..objects import Objects


def start(objects: Objects, state_dir: Path, stopping: threading.Event) -> None:
    """Start every controller thread; they stop when ``stopping`` is set."""
