"""Storage measured, not asserted: block I/O where the volume is, object latency against size.

``measure_block_io`` runs the same probe (``probe.py``) on the sandbox volume's backing file or,
live, on the lab's VM over ssh against the attached device; ``measure_object_latency`` times
PUT and GET requests through the object store API on either backend.
"""

from .block import BlockIO, measure_block_io
from .objects import ObjectLatency, measure_object_latency

__all__ = ["BlockIO", "ObjectLatency", "measure_block_io", "measure_object_latency", "objects"]
