"""How fast the model trains and answers: ``python -m sample_app.model.bench [--url URL]``.

Prints the training time, the held-aside accuracy, the time of one prediction in the process
(p50 and p99 over many single digits), and, with ``--url`` of a running model service, the same
over HTTP. Numbers, not pass/fail: compare them with a real model's (see the README).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from . import train
from .server import LoadedModel


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples_s)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


def time_calls(call: Callable[[list[float]], object], digits: list[list[float]], repeat: int) -> list[float]:
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        call(digits[i % len(digits)])
        samples.append(time.perf_counter() - started)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sample_app.model.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running model service, e.g. http://127.0.0.1:8080")
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--repeat", type=int, default=1000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as out:
        info = train.write(Path(out))
        print(f"train (read the digits, fit): {info['train_seconds']:.2f} s")
        print(f"accuracy on {info['test_samples']} held-aside digits: {info['accuracy']:.4f}")
        print(f"weights: {info['weights_bytes']} bytes, {info['parameters']} parameters")
        started = time.perf_counter()
        model = LoadedModel(out, args.device)
        print(f"load weights on {model.device}: {(time.perf_counter() - started) * 1e3:.1f} ms")
        _x, _y, x_test, _y_test = train.digits_split()
        digits = [[float(v) for v in row] for row in x_test]
        p50, p99 = percentiles(time_calls(model.predict, digits, args.repeat))
        print(f"predict in process ({model.device}, one digit): p50 {p50:.3f} ms, p99 {p99:.3f} ms")

    if args.url:

        def over_http(pixels: list[float]) -> object:
            body = json.dumps({"pixels": pixels}).encode()
            request = urllib.request.Request(
                f"{args.url}/predict", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read()

        p50, p99 = percentiles(time_calls(over_http, digits, args.repeat))
        print(f"predict over HTTP ({args.url}): p50 {p50:.3f} ms, p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
