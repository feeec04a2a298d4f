"""A learner's cloud resources: tagged on creation, found again, and cleaned up in order."""

# The modules the labs import from (each pins its own names in ``__all__``; tests/test_public_api.py).
__all__ = ["cost", "inventory", "keys", "security", "servers"]
