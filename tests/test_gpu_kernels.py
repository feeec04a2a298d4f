import numpy as np
import pytest

from lab_helpers.errors import UsageError
from lab_helpers.gpu import kernels as K


@pytest.fixture
def arrays():
    a, b, c = K.make_arrays(np, 10_001)
    b[:] = np.arange(10_001, dtype=float)
    c[:] = np.linspace(-1, 1, 10_001)
    return a, b, c


def test_make_arrays_are_filled_and_start_on_different_offsets():
    arrays = K.make_arrays(np, 4096)
    assert [float(x[0]) for x in arrays] == [1.0, 2.0, 3.0]
    assert all(x.size == 4096 for x in arrays)
    starts = {x.ctypes.data % 2**20 for x in arrays}
    assert len(starts) == 3


def test_stream_kernels_compute_the_right_values(arrays):
    a, b, c = arrays
    K.copy(np, a, b)
    np.testing.assert_array_equal(a, b)
    K.scale(np, a, b, 3.0)
    np.testing.assert_allclose(a, 3.0 * b)
    K.add(np, a, b, c)
    np.testing.assert_allclose(a, b + c)
    assert K.dot(np, b, c) == pytest.approx(float(np.sum(b * c)))


@pytest.mark.parametrize("how", ["naive", "single-pass", "blocked"])
def test_every_triad_gives_the_same_answer(arrays, how):
    a, b, c = arrays
    expected = b + 3.0 * c
    if how == "naive":
        a = K.triad_naive(np, b, c, 3.0)
    elif how == "single-pass":
        K.triad_single_pass(np, a, b, c, 3.0)
    else:
        K.triad_blocked(np, a, b, c, 3.0, block=1000)
    np.testing.assert_allclose(a, expected)


def test_single_pass_triad_writes_into_the_output_in_place(arrays):
    a, b, c = arrays
    before = a.ctypes.data
    K.triad_single_pass(np, a, b, c, 2.0)
    assert a.ctypes.data == before
    np.testing.assert_allclose(a, b + 2.0 * c)


def test_gemm_matches_a_reference():
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 64)), rng.random((64, 64))
    np.testing.assert_allclose(K.gemm(np, x, y), x @ y)


@pytest.mark.parametrize(
    "kernel, variant, per_element",
    [
        ("copy", "", 16),
        ("scale", "", 16),
        ("add", "", 24),
        ("triad", "single-pass", 24),
        ("triad", "naive", 40),
        ("dot", "", 16),
    ],
)
def test_bytes_are_counted_the_stream_way(kernel, variant, per_element):
    assert K.bytes_moved(kernel, 1000, 8, variant) == per_element * 1000
    assert K.bytes_moved(kernel, 1000, 4, variant) == per_element * 500


def test_flops_and_gemm_counts():
    assert K.flops("triad", 10) == 20 and K.flops("copy", 10) == 0
    assert K.gemm_flops(100) == 2_000_000
    assert K.gemm_bytes(100, 4) == 120_000


def test_unknown_kernel_is_a_usage_error():
    with pytest.raises(UsageError):
        K.streams("stencil")


def test_single_pass_method_names_what_runs(monkeypatch):
    assert K.single_pass_method(np) == "numexpr"
    import builtins

    real_import = builtins.__import__

    def no_numexpr(name, *args, **kwargs):
        if name == "numexpr":
            raise ImportError("no numexpr here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numexpr)
    assert K.single_pass_method(np).startswith("cache-blocked NumPy")
    a, b, c = K.make_arrays(np, 300_001)
    K.triad_single_pass(np, a, b, c, 2.0)  # falls back to the blocked version
    np.testing.assert_allclose(a, b + 2.0 * c)
