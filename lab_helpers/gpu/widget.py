"""Lab 01's control: pick a kernel, a size and a dtype; it measures and redraws the roofline."""

from __future__ import annotations

from types import ModuleType

from .bench import Result, measure_gemm, measure_stream
from .roofline import roofline_figure

CHOICES = {
    "triad (single pass)": ("triad", "single-pass"),
    "triad (naive)": ("triad", "naive"),
    "scale": ("scale", ""),
    "add": ("add", ""),
    "dot": ("dot", ""),
    "gemm": ("gemm", ""),
}


def measure_choice(xp: ModuleType, choice: str, log2_n: int, dtype: str) -> Result:
    """One measurement as the widget asks for it; a GEMM uses a square matrix of about 2**(log2_n/2) rows.

    Stream kernels take the best of ``repeats_for(log2_n)`` runs: more at small sizes, where noise dominates.
    """
    kernel, variant = CHOICES[choice]
    if kernel == "gemm":
        side = min(int(2 ** (log2_n / 2)), 4096 if xp.__name__ == "numpy" else 16384)
        return measure_gemm(xp, side, "fp32" if dtype == "float32" else "fp64", repeat=3)
    return measure_stream(xp, kernel, 2**log2_n, dtype=dtype, variant=variant, repeat=repeats_for(log2_n))


def repeats_for(log2_n: int) -> int:
    """How many times to time a stream kernel of 2**log2_n elements (the best time counts).

    A small array takes microseconds, so one interruption by another process can double its
    time: tiny sizes get many more tries (at most 100), big ones 3, for about the same wall time.
    """
    return max(3, min(100, 2 ** (22 - log2_n))) if log2_n < 22 else 3


def largest_log2_n(xp: ModuleType, ceiling: int = 26) -> int:
    """The largest power-of-two array length whose five float64 arrays (the naive triad's) fit in a quarter of free memory."""
    import math

    from .device import describe

    free = describe(xp).available_bytes
    return max(14, min(ceiling, int(math.log2(max(free // (5 * 8 * 4), 1)))))


def roofline_explorer(xp: ModuleType, report=None, *, log2_n: int = 22, max_log2_n: int | None = None):
    """An ipywidgets box: dropdowns and a slider, a Measure button, the latest numbers and the figure.

    The figure area is written only when the button is pressed, so running the notebook
    non-interactively (papermill, grading) never waits on widget output.
    """
    import ipywidgets as w
    from IPython.display import display

    max_log2_n = max_log2_n or largest_log2_n(xp)
    log2_n = min(log2_n, max_log2_n)
    kernel = w.Dropdown(options=list(CHOICES), value="triad (single pass)", description="kernel")
    size = w.IntSlider(value=log2_n, min=12, max=max_log2_n, description="log2(n)", continuous_update=False)
    dtype = w.ToggleButtons(options=["float64", "float32"], value="float64", description="dtype")
    button = w.Button(description="Measure", button_style="primary")
    status = w.Label(value="Choose a kernel, a size and a dtype, then press Measure.")
    out = w.Output()
    points: list[Result] = []

    def measure(_=None) -> None:
        status.value = "measuring..."
        result = measure_choice(xp, kernel.value, size.value, dtype.value)
        points.append(result)
        rate = f"{result.gbps:.1f} GB/s" if result.gbps is not None else f"{result.tflops:.3f} TFLOP/s"
        status.value = f"{kernel.value}, n = {result.n:,}, {result.dtype}: {result.seconds * 1e3:.3f} ms, {rate}"
        out.clear_output(wait=True)
        with out:
            display(roofline_figure(report, points=points, title="Roofline with your measurements"))

    button.on_click(measure)
    return w.VBox([w.HBox([kernel, dtype]), w.HBox([size, button]), status, out])
