import pytest

from lab_helpers.batch.amdahl import efficiency, parallel_fraction, speedup
from lab_helpers.batch.queue import SimJob, random_jobs, simulate, utilisation, wait_of
from lab_helpers.errors import UsageError
from lab_helpers.viz.batch import timeline_figure

# A 4-node partition; all times in hours.
HAND = [
    SimJob("J1", 0, 2, 4),
    SimJob("J2", 0, 4, 2),
    SimJob("J3", 0, 2, 3),
    SimJob("J4", 0, 2, 5),
    SimJob("J5", 1, 1, 1),
]


def schedule(jobs, nodes, backfill=True):
    return {p.job.name: (p.start, p.end, p.backfilled) for p in simulate(jobs, nodes, backfill)}


def test_easy_backfill_against_a_hand_schedule():
    # t=0: J1 (2 nodes) starts; 2 free. J2 needs all 4: blocked, it is the head.
    #      Its reservation: J1 is due to end at 4 (its wall time) -> 4 free at t=4; extra nodes then: 0.
    #      J3 (2 nodes, 3 h) fits now and ends at 3 <= 4: backfilled at 0. J4 (2 nodes) does not fit (0 free).
    # t=1: J5 arrives; nothing is free.
    # t=3: J3 ends, 2 free. Head J2 still needs 4; reservation still t=4, extra 0.
    #      J4 (5 h) would end at 8 > 4 and extra is 0: no. J5 (1 node, 1 h) ends at 4 <= 4: backfilled at 3.
    # t=4: J1 and J5 end, 4 free: J2 starts (4-6). J4 waits for J2.
    # t=6: J2 ends: J4 starts (6-11).
    assert schedule(HAND, 4) == {
        "J1": (0, 4, False),
        "J3": (0, 3, True),
        "J5": (3, 4, True),
        "J2": (4, 6, False),
        "J4": (6, 11, False),
    }


def test_without_backfill_everyone_waits_in_line():
    # FCFS: J1 0-4; J2 4-6; at 6 J3 and J4 start together (2 + 2 nodes): J3 6-9, J4 6-11;
    # J5 waits for a free node: J3 ends at 9 -> J5 9-10.
    assert schedule(HAND, 4, backfill=False) == {
        "J1": (0, 4, False),
        "J2": (4, 6, False),
        "J3": (6, 9, False),
        "J4": (6, 11, False),
        "J5": (9, 10, False),
    }


def test_backfill_into_extra_nodes_and_an_early_finish():
    # t=0: A (3 nodes, asked 4 h, really runs 2 h) starts; 1 free. B needs 2: blocked.
    #      Reservation for B: A is due at 4 -> 4 free, B needs 2, so 2 extra nodes then.
    #      C (1 node, 10 h) ends long after 4, but uses 1 <= 2 extra nodes: backfilled at 0.
    # t=2: A really ends; 3 free: B starts at 2 (before its reservation), ends at 4.
    jobs = [SimJob("A", 0, 3, 4, runtime=2), SimJob("B", 0, 2, 2), SimJob("C", 0, 1, 10)]
    assert schedule(jobs, 4) == {"A": (0, 2, False), "C": (0, 10, True), "B": (2, 4, False)}


def test_smaller_shorter_requests_wait_less():
    background = random_jobs(30, total_nodes=16, seed=3)
    small_short = wait_of(SimJob("probe", 6.0, 1, 0.5), background, 16)
    wide_long = wait_of(SimJob("probe", 6.0, 16, 24), background, 16)
    assert small_short < wide_long


def test_a_job_wider_than_the_partition_is_refused():
    with pytest.raises(UsageError):
        simulate([SimJob("huge", 0, 5, 1)], 4)


def test_timeline_and_utilisation():
    placed = simulate(HAND, 4)
    fig = timeline_figure(placed, 4)
    assert {t.name for t in fig.data} == {"waiting", "running (in order)", "running (backfilled)"}
    # node-hours used: 2*4 + 4*2 + 2*3 + 2*5 + 1*1 = 33 over 4 nodes x 11 h
    assert utilisation(placed, 4) == pytest.approx(33 / 44)


def test_amdahl():
    assert speedup(1.0, 4) == 4
    assert speedup(0.9, 4) == pytest.approx(1 / (0.1 + 0.225))
    assert speedup(0.95, 400) == pytest.approx(1 / (0.05 + 0.95 / 400))
    assert parallel_fraction(1.0, 9.0) == 0.9
    assert efficiency(0.9, 4) == pytest.approx(speedup(0.9, 4) / 4)
    with pytest.raises(UsageError):
        speedup(1.5, 4)
