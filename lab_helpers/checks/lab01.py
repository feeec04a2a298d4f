"""Lab 01 "One A40": checks. Expected values are computed here from the datasheet table or from
the measurement the notebook passes as context, never taken from the learner's own variables."""

from __future__ import annotations

from .core import Verdict, as_number, register, within


def _itemsize(context: dict) -> int:
    return int(context.get("itemsize", 8))


@register("01.triad-intensity", points=1, question="Arithmetic intensity of the triad a = b + s*c (FLOP per byte, STREAM counting).",
          hidden="the FP64 intensity, 2 FLOP over 24 bytes, to three digits")
def _triad_intensity(answer, context):
    # 2 FLOPs (one multiply, one add) per element; 3 streams of itemsize bytes.
    expected = 2 / (3 * _itemsize(context))
    return within(answer, expected, rel=0.02, unit="FLOP/byte")


@register("01.ridge-point", points=1, question="The A40's FP32 ridge point: FLOP per byte where the roofline turns flat.",
          hidden="within 1% of the datasheet figures")
def _ridge_point(answer, context):
    from ..gpu.specs import a40

    return within(answer, a40().ridge_point, rel=0.03, unit="FLOP/byte")


@register("01.triad-a40-ms", points=2, question="Predict, from the roofline, the single-pass triad's time on an A40 for the stated n (ms).",
          hidden="the time follows from the A40 datasheet bandwidth for a benchmark-sized n")
def _triad_a40(answer, context):
    from ..gpu import kernels
    from ..gpu.roofline import predict_seconds

    n = int(context["n"])
    size = _itemsize(context)
    expected_ms = predict_seconds(kernels.bytes_moved("triad", n, size, "single-pass"), kernels.flops("triad", n)) * 1e3
    return within(answer, expected_ms, rel=0.05, unit="ms")


@register("01.naive-bytes", points=2, question="Bytes per element the naive triad a = b + s*c really moves.",
          hidden="the FP64 count, as a whole number")
def _naive_bytes(answer, context):
    size = _itemsize(context)
    value = as_number(answer)
    if value is None:
        return Verdict.no("Expected a number of bytes per element.")
    if value == 3 * size:
        return Verdict.no(f"{value:g} is the single-pass count (3 streams). The naive version also writes and reads back a temporary for s*c.")
    if value == 5 * size:
        return Verdict.ok(f"{value:g} bytes: 5 streams of {size} bytes (read c, write tmp; read b, read tmp, write a).")
    return Verdict.no(f"{value:g} bytes per element is not it: count every array read or written, the temporary included.")


@register("01.measured-bandwidth", points=2,
          question="From this run's measured time, compute the single-pass triad's bandwidth in GB/s (STREAM counting).")
def _measured_bandwidth(answer, context):
    # The measurement comes from the same execution: n, itemsize and the best time in seconds.
    seconds = float(context["seconds"])
    expected = 3 * int(context["n"]) * _itemsize(context) / seconds / 1e9
    return within(answer, expected, rel=0.03, unit="GB/s")


@register("01.bound", points=1, question="On an A40, is an 8192 x 8192 FP16 GEMM memory-bound or compute-bound?")
def _bound(answer, context):
    from ..gpu import kernels
    from ..gpu.roofline import bound_by

    n = int(context.get("n", 8192))
    expected = bound_by(kernels.gemm_bytes(n, 2), kernels.gemm_flops(n), precision="fp16")
    text = str(answer).strip().lower()
    if text.startswith(expected):
        return Verdict.ok(f"Yes: {expected}-bound; its intensity is far to the right of the ridge.")
    if text.startswith(("memory", "compute")):
        return Verdict.no("Not this one: compare its FLOP per byte (2n^3 over 3n^2 x 2 bytes) with the ridge point.")
    return Verdict.no("Answer 'memory' or 'compute'.")
