"""Lab 07's judges: right answers pass, the usual wrong turns are named, partial answers get partial credit."""

from __future__ import annotations

import copy
import os

import pytest

from lab_helpers.capstone import designs as D
from lab_helpers.capstone import rates as R
from lab_helpers.capstone import sizing as S
from lab_helpers.checks.registry import get_spec

RATES = {k: m.to_dict() for k, m in R.reference_rates().items()}  # never the machine's own lab 01 numbers
ALL_JS2 = {"control": {"m3.small": 1}, "workers": {"m3.quad": 2}, "delta": None}
SPLIT = {
    "control": {"m3.small": 1},
    "workers": {"m3.tiny": 2},
    "delta": {"partition": "gpuA40x4", "gpus": 1, "hours": 0.5, "jobs_per_month": 30},
}
DESIGNS = {"all on Jetstream2": ALL_JS2, "Jetstream2 + Delta": SPLIT}


def judge(name: str, answer, **context):
    return get_spec(name).judge(answer, context)


def machines():
    return {k: R.MachineRates.from_dict(v) for k, v in RATES.items()}


def test_compute_right_and_the_added_roofline_named():
    right = S.need_per_video_hour(S.seconds_per_item, machines())
    assert judge("07.compute", right, rates=RATES).score == 1.0
    added = S.need_per_video_hour(lambda f, b, n, m: n * m.launch_s + f / m.flops_per_s + b / m.bytes_per_s, machines())
    verdict = judge("07.compute", added, rates=RATES)
    assert verdict.score < 1.0 and "added up" in verdict.message
    no_launch = S.need_per_video_hour(lambda f, b, n, m: max(f / m.flops_per_s, b / m.bytes_per_s), machines())
    verdict = judge("07.compute", no_launch, rates=RATES)
    assert "no launches" in verdict.message.lower()
    assert judge("07.compute", None, rates=RATES).score == 0.0


def test_compute_follows_the_rates_the_notebook_used():
    """A learner whose lab 01 measured a faster vCPU is judged on those rates, not on the reference."""
    faster = copy.deepcopy(RATES)
    faster["vcpu"]["gemm_tflops"]["value"] *= 2
    mine = {k: R.MachineRates.from_dict(v) for k, v in faster.items()}
    table = S.need_per_video_hour(S.seconds_per_item, mine)
    assert judge("07.compute", table, rates=faster).score == 1.0
    assert judge("07.compute", table, rates=RATES).score < 1.0


def test_bound_partial():
    truth = {f"{s.name} on {m.key}": S.bound(s, m) for s in S.stages() for m in machines().values()}
    assert judge("07.bound", truth, rates=RATES).score == 1.0
    flipped = {k: ("compute" if v != "compute" else "memory") for k, v in truth.items()}
    flipped[next(iter(truth))] = truth[next(iter(truth))]
    verdict = judge("07.bound", flipped, rates=RATES)
    assert verdict.score == pytest.approx(1 / len(truth))


def test_storage_right_partial_and_wrong_kind():
    truth = {k: {kk: v[kk] for kk in ("storage", "gb", "growth_gb_per_month")} for k, v in S.storage_need().items()}
    assert judge("07.storage", truth).score == 1.0
    grows = copy.deepcopy(truth)
    grows["video uploads"]["growth_gb_per_month"] = grows["video uploads"]["gb"]  # forgot the month kept
    verdict = judge("07.storage", grows)
    assert 0.9 < verdict.score < 1.0 and "replace the oldest day's" in verdict.message
    on_block = copy.deepcopy(truth)
    on_block["video uploads"]["storage"] = "block"
    assert "object storage" in judge("07.storage", on_block).message


def test_network_names_the_open_database():
    right = S.network_plan()
    assert judge("07.network", right).score == 1.0
    leaky = {**right, "public_ports": [22, 80, 443, 5432], "public": ["api", "web", "db"]}
    verdict = judge("07.network", leaky)
    assert verdict.score == 0.5 and "Port 22 (ssh)" in verdict.message and "db must not be reachable" in verdict.message


def test_designs_carry_waste_and_fail():
    assert judge("07.designs", DESIGNS, rates=RATES).score == 1.0
    short = {**DESIGNS, "all on Jetstream2": {**ALL_JS2, "workers": {"m3.tiny": 2}}}
    verdict = judge("07.designs", short, rates=RATES)
    assert verdict.score == 0.5 and "fit on no worker" in verdict.message
    lavish = {**DESIGNS, "Jetstream2 + Delta": {**SPLIT, "workers": {"m3.xl": 3}}}
    verdict = judge("07.designs", lavish, rates=RATES)
    assert verdict.score == 0.75 and "burn" in verdict.message
    too_short = {**DESIGNS, "Jetstream2 + Delta": {**SPLIT, "delta": {**SPLIT["delta"], "hours": 0.1}}}
    assert "ends before the day's analysis" in judge("07.designs", too_short, rates=RATES).message


def test_su_month_against_the_learners_own_designs():
    truth = {n: D.su_per_month(d) for n, d in DESIGNS.items()}
    assert judge("07.su-month", truth, designs=DESIGNS).score == 1.0
    no_control = copy.deepcopy(truth)
    no_control["all on Jetstream2"]["js2"] -= 2 * 730
    verdict = judge("07.su-month", no_control, designs=DESIGNS)
    assert verdict.score == 0.75 and "control plane" in verdict.message
    no_minimum = copy.deepcopy(truth)
    no_minimum["Jetstream2 + Delta"]["delta"] = 0.5 * 1 * 0.5 * 30
    assert "minimum" in judge("07.su-month", no_minimum, designs=DESIGNS).message
    assert judge("07.su-month", truth, designs=None).score == 0.0


def test_api_values_rendered_by_the_chart(k8s_tools, monkeypatch):
    monkeypatch.setenv("PATH", f"{k8s_tools}:{os.environ['PATH']}")
    right = {"replicas": 2, "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                          "limits": {"cpu": "500m", "memory": "512Mi"}}}  # fmt: skip
    assert judge("07.api-values", right).score == 1.0
    defaults = judge("07.api-values", {"replicas": 2})
    assert defaults.score == pytest.approx(2 / 3) and "250m" in defaults.message
    refused = judge("07.api-values", {"replicas": 2, "probes": {}})
    assert refused.score == 0.0 and "probes" in refused.message


def test_rates_are_the_learners_lab01_numbers_where_recorded(tmp_path, monkeypatch):
    from lab_helpers.measurements import record

    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("LAB_RECORD_PROGRESS", raising=False)  # the learner's own copy of lab 07
    fresh = R.rates()
    assert not fresh["vcpu"].gemm_tflops.own and fresh["vcpu"].gemm_tflops.source.startswith("reference")
    assert any("No lab 01 measurements" in line for line in R.rate_lines(fresh))
    about = {"device": "AMD EPYC", "kind": "cpu", "cores": 4}
    record("01", "gemm_fp32_tflops", 0.4, "TFLOP/s", **about)
    record("01", "triad_gbs", 40.0, "GB/s", **about)
    mine = R.rates()
    assert mine["vcpu"].gemm_tflops.own and mine["vcpu"].gemm_tflops.value == pytest.approx(0.1)  # per core
    assert mine["vcpu"].bandwidth_gbs.value == pytest.approx(10.0)
    assert "yours: lab 01 on AMD EPYC" in mine["vcpu"].gemm_tflops.source
    assert not mine["a40"].bandwidth_gbs.own  # a CPU run says nothing about an A40
    record("01", "triad_gbs", 1500.0, "GB/s", device="NVIDIA H200", kind="gpu", cores=132)
    assert not R.rates()["a40"].bandwidth_gbs.own  # nor does another GPU
    monkeypatch.setenv("LAB_RECORD_PROGRESS", "0")  # `lab run` of the solved lab, the website: references only
    solved = R.rates()
    assert not solved["vcpu"].gemm_tflops.own and any("not your own copy" in line for line in R.rate_lines(solved))


def test_only_the_learners_own_lab01_run_records_measurements(tmp_path, monkeypatch):
    """`lab run` of the solved source and the website's build run with LAB_RECORD_PROGRESS=0: their numbers
    must not stand in for the learner's in a later lab 07."""
    import numpy as np

    from lab_helpers.gpu.bench import run_suite
    from lab_helpers.measurements import recorded

    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("LAB_RECORD_PROGRESS", "0")
    run_suite(np, n=100_000, quick=True, sweep=False)
    assert recorded("01") == {}
    monkeypatch.delenv("LAB_RECORD_PROGRESS")
    run_suite(np, n=100_000, quick=True, sweep=False)
    assert {"triad_gbs", "launch_us"} <= set(recorded("01")) and recorded("01")["triad_gbs"]["kind"] == "cpu"
