"""The network, written once over ``xp`` (``numpy`` on a CPU, ``cupy`` on a GPU).

64 pixels -> 32 hidden units (ReLU) -> 10 classes (softmax). The same functions train it (NumPy)
and serve it (NumPy or CuPy): nothing in them names a device.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

WEIGHTS_FILE = "digits.npz"
INFO_FILE = "info.json"
LAYERS = ("w1", "b1", "w2", "b2")
CLASSES = 10
INPUTS = 64
MAX_LEVEL = 16.0


def forward(xp: ModuleType, weights: dict[str, Any], pixels: Any) -> tuple[Any, Any]:
    """(hidden activations, class probabilities) for a batch of rows of 64 pixels (0..16)."""
    x = pixels / MAX_LEVEL
    hidden = xp.maximum(x @ weights["w1"] + weights["b1"], 0.0)
    logits = hidden @ weights["w2"] + weights["b2"]
    logits = logits - logits.max(axis=1, keepdims=True)  # exp of large logits would overflow
    e = xp.exp(logits)
    return hidden, e / e.sum(axis=1, keepdims=True)


def choose_xp(device: str) -> tuple[ModuleType, str]:
    """(array module, "cpu" or "gpu") for DEVICE=auto|cpu|gpu.

    auto takes the GPU when CuPy is installed and sees a device; gpu insists on one.
    """
    if device != "cpu":
        try:
            cupy = importlib.import_module("cupy")
            if cupy.cuda.runtime.getDeviceCount() > 0:
                return cupy, "gpu"
            reason = "CuPy sees no GPU"
        except Exception as exc:  # ImportError, or a CUDA driver error from getDeviceCount
            reason = f"CuPy is not usable ({type(exc).__name__}: {exc})"
        if device == "gpu":
            raise RuntimeError(f"DEVICE=gpu but {reason}; run on a GPU node or set DEVICE=cpu (or auto).")
    return np, "cpu"


def load_weights(weights_dir: str | Path, xp: ModuleType = np) -> dict[str, Any]:
    """The four weight arrays from ``weights_dir/digits.npz``, on the device of ``xp``.

    FileNotFoundError (with what to do) when the file is not there.
    """
    path = Path(weights_dir) / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no model weights at {path}: train them with "
            f"`python -m sample_app.model.train --out {weights_dir}` or mount the volume that holds them."
        )
    with np.load(path) as data:
        missing = [name for name in LAYERS if name not in data]
        if missing:
            raise ValueError(f"{path} has no {', '.join(missing)}: it was not written by sample_app.model.train.")
        return {name: xp.asarray(data[name], dtype=xp.float32) for name in LAYERS}
