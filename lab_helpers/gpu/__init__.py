"""The GPU: detection without CuPy, the spec table, kernels over ``xp = cupy | numpy``, timing."""

# The modules the labs import from (each pins its own names in ``__all__``; tests/test_public_api.py).
__all__ = ["bench", "device", "explorer", "kernels", "specs", "timing"]
