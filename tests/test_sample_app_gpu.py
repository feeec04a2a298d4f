"""The sample model's network on a GPU (CuPy) gives what it gives on the CPU (NumPy).

Imports only NumPy, CuPy and pytest, so it runs in the GPU-light environment (tests/test_gpu_light.py):
the weights are random ones of the trained network's shapes, written and read back by its own code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "data" / "sample-app"))

from sample_app.model.network import CLASSES, INPUTS, WEIGHTS_FILE, choose_xp, forward, load_weights  # noqa: E402


@pytest.mark.gpu
def test_the_network_on_the_gpu_matches_the_cpu(tmp_path):
    rng = np.random.default_rng(0)
    hidden = 32
    np.savez(
        tmp_path / WEIGHTS_FILE,
        w1=rng.normal(0, 0.3, (INPUTS, hidden)),
        b1=rng.normal(0, 0.1, hidden),
        w2=rng.normal(0, 0.3, (hidden, CLASSES)),
        b2=rng.normal(0, 0.1, CLASSES),
    )
    xp, device = choose_xp("gpu")  # raises, naming why, where CuPy sees no GPU
    assert device == "gpu"
    pixels = rng.integers(0, 17, (200, INPUTS)).astype(np.float32)
    _, on_cpu = forward(np, load_weights(tmp_path, np), pixels)
    _, on_gpu = forward(xp, load_weights(tmp_path, xp), xp.asarray(pixels))
    on_gpu = xp.asnumpy(on_gpu)
    assert on_gpu.shape == (200, CLASSES)
    assert (on_gpu.argmax(axis=1) == on_cpu.argmax(axis=1)).all()
    assert np.allclose(on_gpu, on_cpu, atol=1e-4)
