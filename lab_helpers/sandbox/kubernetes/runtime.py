"""What makes the API a cluster: the controllers, the scheduler and the kubelet, started as threads
of the sandbox service once it listens, and stopped with it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from ..store import Store
from .objects import objects_for


def start(store: Store, state_dir: Path, urls: Mapping[str, str], stopping: threading.Event) -> None:
    from . import controllers, kubelet

    objects = objects_for(store)
    controllers.start(objects, Path(state_dir), stopping)
    kubelet.start(objects, Path(state_dir), urls, stopping)
