"""Lab 01 "One A40": checks. Expected values are computed here from the datasheet table
(data/gpus.yaml) or from the measurement the notebook passes as context, never taken from the
learner's own variables."""

from __future__ import annotations

from .answers import choice_answer, number_answer, within
from .registry import Verdict, register


def _itemsize(context: dict) -> int:
    return int(context.get("itemsize", 8))


@register(
    "01.triad-intensity",
    points=1,
    question="Arithmetic intensity of the triad a = b + s*c (FLOP per byte, STREAM counting).",
    shape="a number (float), in FLOP per byte",
    hidden="the float64 intensity, to three digits",
)
def _triad_intensity(answer, context):
    # 2 FLOPs (one multiply, one add) per element; 3 streams of itemsize bytes.
    expected = 2 / (3 * _itemsize(context))
    value, problem = number_answer(answer, unit="FLOP/byte")
    if problem is not None:
        return problem
    if abs(value - 3 * _itemsize(context) / 2) <= 0.02 * 3 * _itemsize(context) / 2:
        return Verdict.no(f"{value:g} is bytes per FLOP, upside down: intensity is FLOPs divided by bytes.")
    return within(answer, expected, rel=0.02, unit="FLOP/byte")


@register(
    "01.ridge-point",
    points=1,
    question="The A40's FP32 ridge point: FLOP per byte where the roofline turns flat.",
    shape="a number (float), in FLOP per byte",
    hidden="the ridge point within 1% of the datasheet figures",
)
def _ridge_point(answer, context):
    from ..gpu.specs import a40

    value, problem = number_answer(answer, unit="FLOP/byte")
    if problem is not None:
        return problem
    spec = a40()
    if abs(value * spec.ridge_point - 1) <= 0.03:
        return Verdict.no(
            f"{value:g} is bytes per FLOP: divide the peak FLOP/s by the bandwidth in bytes/s, not the reverse."
        )
    if abs(value / spec.ridge_point - 1e3) <= 30 or abs(value / spec.ridge_point - 1e-3) <= 3e-5:
        return Verdict.no(f"{value:g} is off by a factor of 1000: put both figures in base units (FLOP/s and bytes/s).")
    return within(answer, spec.ridge_point, rel=0.03, unit="FLOP/byte")


@register(
    "01.triad-a40-ms",
    points=2,
    question="Predict, from the roofline, the single-pass triad's time on an A40 for the stated n (ms).",
    shape="a number (float), in milliseconds",
    hidden="the time from the A40's datasheet bandwidth, for the lab's n",
)
def _triad_a40(answer, context):
    from ..gpu import kernels
    from ..gpu.roofline import predict_seconds

    n = int(context["n"])
    size = _itemsize(context)
    expected_ms = predict_seconds(kernels.bytes_moved("triad", n, size, "single-pass"), kernels.flops("triad", n)) * 1e3
    value, problem = number_answer(answer, unit="ms")
    if problem is not None:
        return problem
    if abs(value / expected_ms - 5 / 3) <= 0.05 * 5 / 3:
        return Verdict.no(f"{value:g} ms counts 5 streams: the single-pass triad moves 3 (read b, read c, write a).")
    if abs(value / expected_ms - 1e-3) <= 5e-5:
        return Verdict.no(f"{value:g} looks like seconds: the question asks for milliseconds.")
    return within(answer, expected_ms, rel=0.05, unit="ms")


@register(
    "01.naive-bytes",
    points=2,
    question="Bytes per element the naive triad a = b + s*c really moves.",
    shape="a whole number (an int), in bytes per element",
    hidden="the float64 count, as a whole number (an int)",
)
def _naive_bytes(answer, context):
    size = _itemsize(context)
    value, problem = number_answer(answer, unit="bytes per element")
    if problem is not None:
        return problem
    if value == 3 * size:
        return Verdict.no(
            f"{value:g} is the single-pass count (3 streams). The naive version also writes and reads back a temporary for s*c."
        )
    if value == 5 * size:
        return Verdict.ok(f"{value:g} bytes: 5 streams of {size} bytes (read c, write tmp; read b, read tmp, write a).")
    if value == 5:
        return Verdict.no(
            "5 is the number of streams; the question asks for bytes: how many bytes is one float64 element?"
        )
    return Verdict.no(
        f"{value:g} bytes per element is not it: count every array read or written, the temporary included."
    )


@register(
    "01.measured-bandwidth",
    points=2,
    shape="a number (float), in GB/s",
    question="From this run's measured time, compute the single-pass triad's bandwidth in GB/s (STREAM counting).",
)
def _measured_bandwidth(answer, context):
    # The measurement comes from the same execution: n, itemsize and the best time in seconds.
    seconds = float(context["seconds"])
    expected = 3 * int(context["n"]) * _itemsize(context) / seconds / 1e9
    value, problem = number_answer(answer, unit="GB/s")
    if problem is not None:
        return problem
    if abs(value / expected - 1e9) <= 0.03e9:
        return Verdict.no(f"{value:g} is in bytes/s: divide by 1e9 for GB/s.")
    if abs(value / expected - 2 / 3) <= 0.03 * 2 / 3:
        return Verdict.no(f"{value:g} GB/s counts 2 streams: the triad reads b and c and writes a.")
    return within(answer, expected, rel=0.03, unit="GB/s")


_BOUND_WORDS = {
    "memory": "memory",
    "memory-bound": "memory",
    "memory bound": "memory",
    "bandwidth": "memory",
    "compute": "compute",
    "compute-bound": "compute",
    "compute bound": "compute",
}


@register(
    "01.bound",
    points=1,
    question="On an A40, is an 8192 x 8192 FP16 GEMM memory-bound or compute-bound?",
    shape="text (a str): 'memory' or 'compute'",
)
def _bound(answer, context):
    from ..gpu import kernels
    from ..gpu.roofline import bound_by

    n = int(context.get("n", 8192))
    expected = bound_by(kernels.gemm_bytes(n, 2), kernels.gemm_flops(n), precision="fp16")
    word, problem = choice_answer(answer, _BOUND_WORDS, what="bound")
    if problem is not None:
        return problem
    if word == expected:
        return Verdict.ok(f"Yes: {expected}-bound; its intensity is far to the right of the ridge.")
    return Verdict.no("Not this one: compare its FLOP per byte (2n^3 over 3n^2 x 2 bytes) with the ridge point.")
