"""The GPU: detection without CuPy, the spec table, kernels over ``xp = cupy | numpy``, timing."""
