"""The resource helpers the labs call, against the sandbox: plan, reuse, rules, placement, cost, storage."""

from __future__ import annotations

import os

import pytest
from sandbox_fixtures import fresh_sandbox

import lab_helpers
from lab_helpers.errors import ResourceStateError


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    state = tmp_path_factory.mktemp("resources-state")
    with fresh_sandbox(state, learner="dana", boot_s="0.3"):
        yield lab_helpers.setup("sandbox", lab="04")


def test_plan_says_cost_and_refuses_what_the_quota_cannot_hold(course):
    conn = course.cloud()
    plan = course.plan(conn, servers={"m3.small": 2}, volumes_gb=[10], floating_ips=1)
    assert plan.su_per_hour == 4 and "96 SU per day" in str(plan)
    with pytest.raises(ResourceStateError, match="cores") as err:
        course.plan(conn, servers={"m3.2xl": 3})  # 192 cores, the startup allocation has 150
    assert "lab cleanup" in err.value.hint
    assert "quota volume gigabytes: this lab needs 10" in str(plan) and "quota floating IPs: this lab needs 1" in str(
        plan
    )
    with pytest.raises(ResourceStateError, match="volume gigabytes"):
        course.plan(conn, volumes_gb=[600, 600])  # Cinder's default 1000 GB
    with pytest.raises(ResourceStateError, match="floating IPs"):
        course.plan(conn, floating_ips=11)  # the startup allocation has 10


def test_lab_server_is_reused_and_measured(course):
    from lab_helpers.resources.cost import su_so_far
    from lab_helpers.resources.keys import private_key_path
    from lab_helpers.resources.security import ingress_rules
    from lab_helpers.resources.servers import ensure_lab_server
    from lab_helpers.storage import measure_block_io, measure_object_latency

    conn = course.cloud()
    first = ensure_lab_server(course, conn)
    second = ensure_lab_server(course, conn)
    assert first.server.id == second.server.id and first.address == second.address
    assert [s.name for s in conn.compute.servers()].count(course.name("vm")) == 1
    assert len(list(conn.network.ips())) == 1
    key = private_key_path(course.name("key"))
    assert key is not None and (os.stat(key).st_mode & 0o777) == 0o600
    rules = ingress_rules(conn, first.security_group)
    assert [(r["protocol"], r["port_range_min"], r["port_range_max"]) for r in rules] == [("tcp", 22, 22)]
    assert su_so_far(course.backend, conn.compute.get_server(first.server.id)) > 0

    volume = conn.block_storage.create_volume(name=course.name("data"), size=1, metadata=course.metadata())
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    block = measure_block_io(course, conn, volume, size_mib=4, budget_s=0.1, max_ops=200)
    assert "sandbox volume" in block.where and len(block.rows) == 6
    with pytest.raises(ResourceStateError, match="less than"):
        measure_block_io(course, conn, volume, size_mib=4096)

    container = course.name("bench")
    conn.object_store.create_container(name=container)
    conn.object_store.set_container_metadata(container, **course.metadata())
    latency = measure_object_latency(conn, container, sizes=(1024, 64 * 1024), repeats=2)
    assert [(r["op"], r["size_bytes"]) for r in latency.rows] == [
        ("PUT", 1024),
        ("GET", 1024),
        ("PUT", 65536),
        ("GET", 65536),
    ]
    assert all(len(r["seconds"]) == 2 and r["median_ms"] > 0 for r in latency.rows)
    assert list(conn.object_store.objects(container)) == []  # the probe objects were deleted

    from lab_helpers.viz.storage import object_latency_figure

    fig = object_latency_figure(latency, block=block)
    assert {t.name for t in fig.data} == {"object PUT", "object GET"}
    assert fig.layout.shapes  # the volume's random read drawn for scale

    report = course.cleanup(conn)
    assert not report.failed and report.su_per_hour_stopped == 1
    assert private_key_path(course.name("key")) is None  # the private key went with its keypair
    assert conn.compute.find_server(course.name("vm")) is None


def test_placement_operator_and_project_views(course):
    from lab_helpers.marks import Marks
    from lab_helpers.viz.placement import operator_view, placement_figure, project_view, where_it_landed

    conn = course.cloud()
    marks = Marks.for_lab("03", learner="dana")
    net = conn.network.find_network("auto_allocated_network")
    image = conn.image.find_image("Featured-Ubuntu22").id
    for what, flavor in (("a", "m3.small"), ("b", "g3.small")):
        server = conn.compute.create_server(
            name=marks.name(what),
            image_id=image,
            flavor_id=conn.compute.find_flavor(flavor).id,
            networks=[{"uuid": net.id}],
            metadata=marks.metadata(),
        )
        conn.compute.wait_for_server(server, interval=0.1, wait=30)
    view = where_it_landed(course, conn)
    assert view.view == "hypervisors"
    placed = {s.name: h.name for h in view.hosts for s in h.mine}
    assert placed[marks.name("a")].startswith("js2-c") and placed[marks.name("b")].startswith("js2-g")
    assert operator_view(course.cloud(admin=True), "nobody").hosts[0].mine == []
    fig = placement_figure(view)
    assert {marks.name("a"), marks.name("b"), "free"} <= {t.name for t in fig.data}

    project = project_view(conn, "dana")  # what a JS2 project sees: hostIds only
    assert project.view == "hostId" and len(project.hosts) == 2
    assert all(h.vcpus_used is None and "hostId" in h.name for h in project.hosts)
    assert "hidden from your project" in {t.name for t in placement_figure(project).data}
    conn_report = course.cleanup(conn)  # lab 04's cleanup leaves lab 03's servers alone
    assert conn_report.removed == [] or all(f.lab == "04" for f in conn_report.removed)
    assert conn.compute.find_server(marks.name("a")) is not None
    from lab_helpers.resources.cleanup import cleanup

    assert len(cleanup(conn, learner="dana", lab="03").removed) == 2


def test_running_summary_reminds_of_what_still_runs(course):
    from lab_helpers.resources.servers import ensure_lab_server
    from lab_helpers.resources.summary import running_summary

    conn = course.cloud()
    ensure_lab_server(course, conn)
    text = "\n".join(running_summary())
    assert "Still on the sandbox cloud" in text and "1 SU/hour" in text and course.name("vm") in text
    course.cleanup(conn)
    assert not any("sandbox" in line for line in running_summary())
