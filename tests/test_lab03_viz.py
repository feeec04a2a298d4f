"""Lab 03's flavor picture, built from openstacksdk Flavor resources as the cloud returns them."""

from __future__ import annotations

from openstack.compute.v2.flavor import Flavor

from lab_helpers.paths import load_yaml
from lab_helpers.viz.flavors import flavor_figure, flavor_rows, flavor_table


def _catalog_flavors():
    return [
        Flavor(name=f["name"], vcpus=f["vcpus"], ram=f["ram_gb"] * 1024, disk=f["disk_gb"])
        for f in load_yaml("jetstream2.yaml")["flavors"]
    ]


def test_rows_carry_the_su_rate_of_each_family():
    rows = {r.name: r for r in flavor_rows(_catalog_flavors())}
    assert rows["m3.quad"].su_per_hour == 4 and rows["m3.quad"].ram_gb == 15
    assert rows["r3.large"].su_per_hour == 128
    assert rows["g3.small"].gpu_share == 0.2
    assert "20% of an A100" in flavor_table(list(rows.values()))


def test_figure_has_one_trace_per_family_with_su_in_the_hover():
    rows = flavor_rows(_catalog_flavors())
    fig = flavor_figure(rows)
    names = [t.name for t in fig.data]
    assert names == ["CPU (m3)", "large memory (r3)", "GPU (g3)"]
    cpu = fig.data[0]
    assert list(cpu.text) == [r.name for r in rows if r.family == "m3"]
    assert [c[0] for c in cpu.customdata] == [r.su_per_hour for r in rows if r.family == "m3"]
    assert fig.layout.xaxis.type == "log" and "SU per hour" in fig.layout.title.text
    sizes = list(fig.data[1].marker.size)  # area grows with SU/hour
    assert sizes == sorted(sizes)


def test_flavors_of_one_size_in_two_families_are_drawn_apart_with_exact_hovers():
    rows = flavor_rows(_catalog_flavors())
    fig = flavor_figure(rows)
    where = {name: (x, y) for t in fig.data for name, x, y in zip(t.text, t.x, t.y, strict=True)}
    assert where["m3.quad"][1] == where["g3.small"][1] == 15
    assert where["m3.quad"][0] < 4 < where["g3.small"][0]  # side by side around the true 4 vCPUs
    assert where["m3.tiny"] == (1, 3)  # a flavor alone keeps its exact place
    exact = {name: c[3] for t in fig.data for name, c in zip(t.text, t.customdata, strict=True)}
    assert exact["m3.quad"] == exact["g3.small"] == 4 and "customdata[3]" in fig.data[0].hovertemplate
