"""`lab bench grading`: the numbers it prints."""

from __future__ import annotations

import pytest

from lab_helpers.grading.bench import BenchResult, run_bench


def test_bench_text_reports_overhead_and_rates():
    result = BenchResult(4, "isolated", 3.0, {1: 16.0, 2: 10.0}, [3.0, 3.0, 2.9, 3.1])
    text = result.text()
    assert "3.00 s per notebook" in text and "median of 3.0, 3.0, 2.9, 3.1" in text
    assert "--jobs 1:        4.00 s per notebook ( 15.0 per minute)" in text
    assert "--jobs 2:        2.50 s per notebook ( 24.0 per minute)" in text
    assert "x1.33" in text


@pytest.mark.slow
def test_bench_runs_end_to_end():
    result = run_bench(submissions=2, jobs=[1, 2])
    assert result.papermill_s > 0 and set(result.grading_s) == {1, 2}
    assert result.per_minute(2) > 0
