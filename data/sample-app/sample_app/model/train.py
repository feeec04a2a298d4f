"""Train the digits network and write its weights: ``python -m sample_app.model.train --out DIR``.

Data: scikit-learn's copy of the UCI handwritten digits (1,797 images of 8x8 pixels, shipped inside
the scikit-learn wheel, so nothing is downloaded). A fifth is held aside, with a fixed seed, and
never trained on: the accuracy in info.json is measured on it. Plain NumPy, about a second on a CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .network import CLASSES, INFO_FILE, INPUTS, WEIGHTS_FILE, forward

SEED = 0
HELD_ASIDE = 0.2
HIDDEN = 32
EPOCHS = 60
BATCH = 64
LEARNING_RATE = 0.01
MODEL_NAME = f"digits-mlp-{INPUTS}-{HIDDEN}-{CLASSES}"


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train pixels, train labels, held-aside pixels, held-aside labels), the same split every time."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=HELD_ASIDE, random_state=SEED, stratify=digits.target
    )
    return x_train, y_train, x_test, y_test


def train(x: np.ndarray, y: np.ndarray, *, seed: int = SEED) -> dict[str, np.ndarray]:
    """Mini-batch Adam on the cross-entropy loss; returns the weights as float32 arrays."""
    rng = np.random.default_rng(seed)
    weights = {
        "w1": rng.normal(0, np.sqrt(2 / INPUTS), (INPUTS, HIDDEN)),  # He initialisation for ReLU
        "b1": np.zeros(HIDDEN),
        "w2": rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, CLASSES)),
        "b2": np.zeros(CLASSES),
    }
    moment1 = {k: np.zeros_like(v) for k, v in weights.items()}
    moment2 = {k: np.zeros_like(v) for k, v in weights.items()}
    one_hot = np.eye(CLASSES)[y]
    step = 0
    for _epoch in range(EPOCHS):
        order = rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            rows = order[start : start + BATCH]
            hidden, probs = forward(np, weights, x[rows])
            # gradients of the mean cross-entropy, layer by layer back from the output
            d_logits = (probs - one_hot[rows]) / len(rows)
            d_hidden = (d_logits @ weights["w2"].T) * (hidden > 0)
            grads = {
                "w2": hidden.T @ d_logits,
                "b2": d_logits.sum(axis=0),
                "w1": (x[rows] / 16.0).T @ d_hidden,
                "b1": d_hidden.sum(axis=0),
            }
            step += 1
            for k, g in grads.items():
                moment1[k] = 0.9 * moment1[k] + 0.1 * g
                moment2[k] = 0.999 * moment2[k] + 0.001 * g * g
                m_hat = moment1[k] / (1 - 0.9**step)
                v_hat = moment2[k] / (1 - 0.999**step)
                weights[k] = weights[k] - LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)
    return {k: v.astype(np.float32) for k, v in weights.items()}


def accuracy(weights: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    _hidden, probs = forward(np, weights, x.astype(np.float32))
    return float((probs.argmax(axis=1) == y).mean())


def write(out: Path) -> dict[str, Any]:
    """Train, then write ``out/digits.npz`` and ``out/info.json``; returns the info."""
    started = time.perf_counter()
    x_train, y_train, x_test, y_test = digits_split()
    weights = train(x_train, y_train)
    train_s = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / WEIGHTS_FILE, **weights)  # type: ignore[arg-type]
    info = {
        "model": MODEL_NAME,
        "classes": CLASSES,
        "accuracy": round(accuracy(weights, x_test, y_test), 4),
        "test_samples": len(y_test),
        "train_samples": len(y_train),
        "weights_bytes": (out / WEIGHTS_FILE).stat().st_size,
        "parameters": int(sum(v.size for v in weights.values())),
        "seed": SEED,
        "train_seconds": round(train_s, 3),
        "version": __version__,
    }
    (out / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sample_app.model.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for digits.npz and info.json (the volume)")
    args = parser.parse_args(argv)
    info = write(args.out)
    print(
        f"{info['model']}: accuracy {info['accuracy']:.3f} on {info['test_samples']} held-aside digits, "
        f"{info['weights_bytes']} bytes of weights in {args.out}, trained in {info['train_seconds']} s"
    )


if __name__ == "__main__":
    main()
