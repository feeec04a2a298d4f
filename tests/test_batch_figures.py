from lab_helpers.batch.delta import node_types
from lab_helpers.viz.batch import machine_figure, node_figure


def test_machine_figure_has_one_square_per_node():
    fig = machine_figure()
    per_type = {t.name.split(":")[0]: len(t.x) for t in fig.data}
    assert per_type == {name: node.nodes for name, node in node_types().items()}
    assert per_type["gpuA40x4"] == 100
    assert "920 GPUs" in fig.layout.title.text  # 100x4 + 100x4 + 6x8 + 8x8 + 1x8


def test_node_figure_draws_four_gpus_and_their_links():
    fig = node_figure("gpuA40x4")
    labels = [t.text[0] for t in fig.data]
    assert sum(label.startswith("GPU ") for label in labels) == 4
    assert sum(label.startswith("NUMA ") for label in labels) == 4
    assert "NUMA 3<br>cores 48-63" in labels  # GPU 0's domain, as Delta's architecture page maps it
    assert sum(1 for s in fig.layout.shapes if s.type == "line") >= 5
    hovers = " ".join(t.hovertext[0] for t in fig.data)
    assert "696 GB/s" in hovers and "37.4 TFLOP/s" in hovers and "close to cores 48-63" in hovers
    assert any("no NVLink" in a.text for a in fig.layout.annotations)


def test_wall_time_figure_shows_both_effects_it_claims():
    from lab_helpers.viz.batch import wall_time_figure

    fig = wall_time_figure()
    waits = {t.name: list(t.y) for t in fig.data}
    one, whole = waits["1 node"], waits["16 nodes (the whole partition)"]
    assert one[-1] > 2 * one[0], "asking for far more time than the job needs should wait longer"
    assert min(whole) > 5 * max(one), "asking for the whole partition should wait far longer"
    assert list(fig.data[0].x) == [0.5, 1, 4, 12, 24]


def test_amdahl_labels_sit_on_their_lines_of_a_log_axis():
    import math

    from lab_helpers.viz.batch import scaling_figure

    fig = scaling_figure({"measured here": 0.62, "p = 0.99": 0.99})
    lines = sorted(s.x0 for s in fig.layout.shapes)
    labels = {a.text: a.x for a in fig.layout.annotations}
    assert lines == [4, 400]
    # plotly reads an annotation's x on a log axis as the exponent
    assert labels == {"one node: 4 GPUs": math.log10(4), "400 GPUs: all 100 gpuA40x4 nodes": math.log10(400)}
    assert max(max(t.x) for t in fig.data) == 400
    assert [t.name for t in fig.data] == ["ideal (p = 1)", "measured here (p = 0.6200)", "p = 0.99"]
