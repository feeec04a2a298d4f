import pytest

from lab_helpers.errors import UsageError
from lab_helpers.viz.hierarchy import VIEWS, flatten, hierarchy_explorer, hierarchy_figure, subtree


def test_every_layer_of_the_seed_page_is_in_the_tree():
    names = {n.name for n in flatten()}
    for layer in (
        "A40 GPU 0",
        "JS2 compute host",
        "Kubernetes node",
        "api service",
        "web service",
        "worker service",
        "yolo",
        "whisper",
        "cluster logs",
        "video uploads",
        "terraform tfstate",
        "VM boot + file system",
        "model-service model weights",
        "floating IP",
    ):
        assert layer in names


def test_ids_are_unique_and_parents_exist():
    nodes = flatten()
    ids = [n.id for n in nodes]
    assert len(ids) == len(set(ids))
    assert all(n.parent in ids for n in nodes if n.parent)


@pytest.mark.parametrize("view", list(VIEWS))
def test_each_view_is_a_tree_with_one_root(view):
    nodes = subtree(flatten(), view)
    assert sum(1 for n in nodes if not n.parent) == 1


def test_unknown_view_or_chart_says_what_is_valid():
    with pytest.raises(UsageError, match="Valid views"):
        hierarchy_figure(view="cloud")
    with pytest.raises(UsageError, match="Valid charts"):
        hierarchy_figure(chart="pie")


def test_explorer_redraws_its_own_figure_when_the_view_changes():
    box = hierarchy_explorer()
    view, chart = box.children[0].children
    out = box.children[1]

    def title():
        (output,) = out.outputs
        return output["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]

    assert title().startswith("The hierarchy: everything (sunburst)")
    view.value = "storage"
    chart.value = "treemap"
    assert title().startswith("The hierarchy: storage (treemap)")


def test_saved_notebooks_drop_the_picture_beside_a_plotly_figure_only():
    from lab_helpers.viz.saved import interactive_figures

    figure = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"application/vnd.plotly.v1+json": {"data": [], "layout": {}}, "image/png": "iVBOR..."},
    }
    picture = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR..."}}
    model = {
        "type": "notebook",
        "content": {
            "cells": [{"cell_type": "code", "outputs": [figure, picture]}, {"cell_type": "markdown", "source": "text"}]
        },
    }
    interactive_figures(model=model, path="lab.ipynb", contents_manager=None)
    assert list(figure["data"]) == ["application/vnd.plotly.v1+json"]
    assert list(picture["data"]) == ["image/png"]  # a plain picture stays
    interactive_figures(model={"type": "file", "content": "text"}, path="notes.txt")  # other files pass untouched


def test_the_sunburst_gives_the_centre_to_the_branches_and_never_shrinks_labels_below_10_px():
    fig = hierarchy_figure("everything", "sunburst")
    trace = fig.data[0]
    assert "Visualizing Compute" not in trace.labels  # a long root name in the small centre disc was cut
    assert sum(1 for p in trace.parents if not p) == 4  # physical, virtual, storage, network
    assert fig.layout.uniformtext.minsize == 10 and fig.layout.uniformtext.mode == "hide"
    assert "VM k8s-worker-1<br>(m3.medium)" in trace.text and "%{label}" in trace.hovertemplate
    assert "Visualizing Compute" in hierarchy_figure("everything", "treemap").data[0].labels
