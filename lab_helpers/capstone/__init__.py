"""Lab 07 "Describe your needs": the capstone's workload, the rates it is sized from, and its designs.

- :mod:`.rates`: what one A40 and one Jetstream2 vCPU do per second, from the learner's lab 01 run
  where this state directory has one, else from reference measurements in ``data/capstone.yaml``;
- :mod:`.sizing`: compute, storage and network needs of the workload;
- :mod:`.designs`: a design's nodes and batch jobs, what it can carry, and its SUs per month.
"""

# The modules lab 07 imports (each pins its own names in ``__all__``; tests/test_public_api.py).
__all__ = ["designs", "rates", "sizing"]
