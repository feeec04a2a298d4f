import pytest

from lab_helpers.errors import UsageError
from lab_helpers.gpu.specs import a40, load_specs, match_spec, spec

REQUIRED_ROWS = [
    "A40",
    "A100-40GB-PCIe",
    "A100-80GB-SXM",
    "H100-SXM",
    "H100-PCIe",
    "H200",
    "L40S",
    "V100-SXM2",
    "T4",
    "RTX-A6000",
]


def test_table_has_the_rows_and_every_row_a_source():
    keys = [row.key for row in load_specs()]
    for key in REQUIRED_ROWS:
        assert key in keys
    assert any(k.startswith("GH200") for k in keys)
    for row in load_specs():
        assert row.source.startswith("https://"), row.key
        assert row.bandwidth_gbps > 0 and row.fp32_tflops > 0 and row.memory_gb > 0


@pytest.mark.parametrize(
    "reported, key",
    [
        ("NVIDIA A40", "A40"),
        ("NVIDIA H200", "H200"),
        ("NVIDIA A100-SXM4-80GB", "A100-80GB-SXM"),
        ("NVIDIA A100-SXM4-40GB", "A100-40GB-SXM"),
        ("NVIDIA A100-PCIE-40GB", "A100-40GB-PCIe"),
        ("NVIDIA H100 80GB HBM3", "H100-SXM"),
        ("NVIDIA H100 PCIe", "H100-PCIe"),
        ("NVIDIA L40S", "L40S"),
        ("Tesla T4", "T4"),
        ("Tesla V100-SXM2-32GB", "V100-SXM2"),
        ("NVIDIA RTX A6000", "RTX-A6000"),
        ("NVIDIA GH200 480GB", "GH200-96GB"),
        ("NVIDIA GH200 144G HBM3e", "GH200-144GB"),
    ],
)
def test_driver_names_match_their_row(reported, key):
    row = match_spec(reported)
    assert row is not None and row.key == key


@pytest.mark.parametrize(
    "reported",
    ["NVIDIA GeForce RTX 4090", "NVIDIA H200 NVL", "NVIDIA A100 80GB PCIe", "Tesla V100-PCIE-16GB", "NVIDIA A40-8Q"],
)
def test_other_gpus_have_no_row(reported):
    assert match_spec(reported) is None


def test_a40_figures_and_ridge_point():
    row = a40()
    assert row.bandwidth_gbps == 696 and row.fp32_tflops == 37.4 and row.sms == 84 and row.l2_mb == 6
    assert row.peak_tflops("tf32") == 74.8 and row.peak_tflops("fp16", sparse=True) == 299.4
    assert row.ridge_point == pytest.approx(37.4e12 / 696e9)
    assert spec("v100-sxm2").peak_tflops("bf16") is None


def test_unknown_key_says_which_exist():
    with pytest.raises(UsageError) as info:
        spec("B200")
    assert "A40" in info.value.hint


def test_side_by_side_reads_the_a40_row():
    import numpy as np

    from lab_helpers.gpu.device import describe
    from lab_helpers.viz.gpu import side_by_side, side_by_side_text

    rows = dict((label, other) for label, _, other in side_by_side(describe(np)))
    assert rows["memory bus"] == "384-bit" and rows["compute capability"] == "8.6"
    assert rows["peak bandwidth"] == "696 GB/s" and rows["SMs / cores"] == "84 SMs"
    assert "A40 datasheet" in side_by_side_text(describe(np))
